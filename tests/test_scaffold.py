"""End to end: ``ferrule new`` creates a project that installs, passes its tests and runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "packages" / "ferrule-core"


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    from uv import find_uv_bin  # installed with the workspace tooling

    return str(find_uv_bin())


def _run(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "PORT", "FERRULE_APP"):
        env.pop(key, None)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("scaffold")
    created = _run([sys.executable, "-m", "ferrule.core.cli", "new", "notes-app"], cwd=base)
    assert created.returncode == 0, created.stderr
    root = base / "notes-app"
    venv = _run([_uv(), "venv", "--python", sys.executable, ".venv"], cwd=root)
    assert venv.returncode == 0, venv.stderr
    install = _run(
        [
            _uv(),
            "pip",
            "install",
            "--python",
            str(root / ".venv" / "bin" / "python"),
            "-e",
            str(CORE),
            "pytest",
            "pytest-asyncio",
            "httpx",
        ],
        cwd=root,
    )
    assert install.returncode == 0, install.stderr
    return root


def test_generated_project_passes_its_own_tests(project: Path) -> None:
    result = _run([str(project / ".venv" / "bin" / "python"), "-m", "pytest", "-q"], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_generated_project_routes_and_check(project: Path) -> None:
    ferrule = str(project / ".venv" / "bin" / "ferrule")
    routes = _run([ferrule, "routes"], cwd=project)
    assert routes.returncode == 0, routes.stderr
    rows = [line.split() for line in routes.stdout.splitlines()[1:]]
    assert ["GET", "/", "HelloApi.index", "app.api.hello_api.HelloApi.index"] in rows
    assert [
        "POST",
        "/notes",
        "HelloApi.create_note",
        "app.api.hello_api.HelloApi.create_note",
    ] in rows
    check = _run([ferrule, "check"], cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
