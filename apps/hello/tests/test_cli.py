"""The reference app through the ``ferrule`` console script: ``routes`` and ``run``.

These live with apps/hello (not ferrule-core) because ferrule-core's tests also
run in isolation, where ``hello`` is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import hello
import httpx
import pytest
from click.testing import CliRunner

from ferrule.core.cli import main

HEADER = ("METHODS", "RULE", "ENDPOINT", "HANDLER")
HELLO_ROWS = {
    ("GET", "/", "HelloApi.index", "hello.app.HelloApi.index"),
    ("GET", "/hello/<name>", "HelloApi.greet", "hello.app.HelloApi.greet"),
    ("GET", "/items", "ItemsApi.list_items", "hello.app.ItemsApi.list_items"),
    ("POST", "/items", "ItemsApi.create_item", "hello.app.ItemsApi.create_item"),
    ("GET", "/items/<int:item_id>", "ItemsApi.get_item", "hello.app.ItemsApi.get_item"),
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FERRULE_APP", "PORT", "HOST"):
        monkeypatch.delenv(var, raising=False)


def route_rows(output: str) -> list[tuple[str, ...]]:
    return [tuple(line.split()) for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("target", ["hello:app", "hello:Application"])
def test_routes_of_the_hello_app(target: str) -> None:
    result = CliRunner().invoke(main, ["routes", "--app", target], catch_exceptions=False)
    assert result.exit_code == 0
    header, *rows = route_rows(result.stdout)
    assert header == HEADER
    get_item = ("GET", "/items/<int:item_id>", "ItemsApi.get_item", "hello.app.ItemsApi.get_item")
    assert get_item in rows
    assert set(rows) >= HELLO_ROWS
    # every route of the app (the kernel's own routes included)
    assert set(rows) == {
        (",".join(r.methods), r.rule, r.endpoint, r.handler_name) for r in hello.app.routes
    }


def test_routes_wrong_attribute_of_hello() -> None:
    result = CliRunner().invoke(main, ["routes", "--app", "hello:nope"])
    assert result.exit_code == 2
    assert "Module 'hello' has no attribute 'nope'" in result.stderr


# -- the real server ---------------------------------------------------------------------


def ferrule_script() -> str:
    candidate = Path(sys.executable).parent / "ferrule"
    found = str(candidate) if candidate.exists() else shutil.which("ferrule")
    assert found, "the ferrule console script is not installed next to the interpreter"
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(proc: subprocess.Popen[bytes], url: str, log: Path) -> httpx.Response:
    deadline = time.monotonic() + 20
    with httpx.Client(timeout=2) as client:
        while True:
            try:
                return client.get(url)
            except httpx.TransportError:
                if proc.poll() is not None:
                    pytest.fail(f"ferrule run exited with {proc.returncode}:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"ferrule run did not answer within 20 s:\n{log.read_text()}")
                time.sleep(0.1)


@pytest.mark.parametrize("how", ["option", "env"])
def test_ferrule_run_hello(tmp_path: Path, how: str) -> None:
    port = free_port()
    args = [ferrule_script(), "run", "hello:app"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PORT", "HOST", "FERRULE_APP", "PYTHONPATH"}
    }
    if how == "option":
        args += ["--port", str(port)]
    else:
        env["PORT"] = str(port)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        res = wait_until_serving(proc, f"http://127.0.0.1:{port}/", log)
        assert res.status_code == 200
        assert res.json() == {"message": "Hello from Ferrule"}
    finally:
        proc.terminate()  # SIGTERM to this PID
        try:
            returncode = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail("ferrule run did not stop within 15 s of SIGTERM")
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert returncode in (0, -signal.SIGTERM)
    output = log.read_text()
    assert f"Uvicorn running on http://127.0.0.1:{port}" in output
    assert "Application shutdown complete" in output
