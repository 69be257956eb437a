"""Shared machinery of the benchmark: the bench venv, servers, the functional check.

Standard library only: it runs under any Python 3.11+ (the workspace venv via
``uv run``, or the bench venv from ``check.sh``); the servers run in the bench
venv ``tools/bench/.venv``.
"""

from __future__ import annotations

import difflib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parents[1]
APPS = BENCH / "apps"
VENV = BENCH / ".venv"
VENV_PY = VENV / "bin" / "python"
RESULTS = BENCH / "results"
REQUIREMENTS = BENCH / "requirements.txt"
STAMP = VENV / ".bench-stamp"
LOCAL_PACKAGES = ("packages/ferrule-core", "packages/ferrule-database")

HOST = "127.0.0.1"

# name -> module in tools/bench/apps (each exposes ``app``)
FRAMEWORKS: dict[str, str] = {
    "raw": "raw_app",
    "starlette": "starlette_app",
    "fastapi": "fastapi_app",
    "litestar": "litestar_app",
    "blacksheep": "blacksheep_app",
    "ferrule": "ferrule_app",
    "raw-orm": "raw_orm_app",
    "raw-orm-fdb": "raw_orm_ferrule_app",
}
#: Frameworks measured on some endpoints only (the others are checked, not measured).
#: raw-orm is the limit of the ORM read on /db on a stock engine, raw-orm-fdb the
#: same read on ferrule-database's engine; elsewhere both are raw ASGI again.
ONLY_ENDPOINTS: dict[str, tuple[str, ...]] = {"raw-orm": ("db",), "raw-orm-fdb": ("db",)}
LABELS = {
    "raw": "raw ASGI",
    "starlette": "Starlette",
    "fastapi": "FastAPI",
    "litestar": "Litestar",
    "blacksheep": "BlackSheep",
    "ferrule": "Ferrule",
    "raw-orm": "raw ASGI + ORM",
    "raw-orm-fdb": "raw ASGI + ORM (ferrule-database engine)",
}

ITEM = {"name": "widget", "price": 9.99, "tags": ["a", "b"]}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: Any = None  # JSON-able, POSTed as application/json


ENDPOINTS: dict[str, Endpoint] = {
    "plaintext": Endpoint("plaintext", "GET", "/plaintext"),
    "json": Endpoint("json", "GET", "/json"),
    "users": Endpoint("users", "GET", "/users/42"),
    "items": Endpoint("items", "POST", "/items", ITEM),
    "query": Endpoint("query", "GET", "/query?limit=5&offset=20"),
    "db": Endpoint("db", "GET", "/db"),
}


# -- the bench environment ---------------------------------------------------------


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is not installed: see https://docs.astral.sh/uv/")
    return uv


def ensure_venv(*, force: bool = False, log: Any = print) -> None:
    """Create ``tools/bench/.venv`` and install the peers + local packages if needed.

    Re-installs when ``requirements.txt`` or the local package list changed.
    """
    wanted = REQUIREMENTS.read_text() + "\n" + "\n".join(LOCAL_PACKAGES)
    if not force and VENV_PY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    uv = _uv()
    if not VENV_PY.exists():
        log(f"creating {VENV.relative_to(ROOT)}")
        subprocess.run([uv, "venv", "-q", "--python", "3.11", str(VENV)], check=True, timeout=300)
    log("installing the bench requirements (peers, servers, profilers, local packages)")
    cmd = [uv, "pip", "install", "-q", "--python", str(VENV_PY), "-r", str(REQUIREMENTS)]
    for pkg in LOCAL_PACKAGES:
        cmd += ["-e", str(ROOT / pkg)]
    subprocess.run(cmd, check=True, timeout=900, cwd=ROOT)
    STAMP.write_text(wanted)


def venv_versions() -> dict[str, str]:
    """Versions of the servers and frameworks in the bench venv, and its Python."""
    code = (
        "import importlib.metadata as m, json, platform\n"
        "names = ['ferrule-core', 'starlette', 'fastapi', 'litestar', 'blacksheep',"
        " 'uvicorn', 'uvloop', 'httptools', 'granian', 'pydantic', 'pydantic-core',"
        " 'werkzeug', 'msgspec']\n"
        "out = {'python': platform.python_version()}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [str(VENV_PY), "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    versions: dict[str, str] = json.loads(proc.stdout)
    return versions


# -- servers -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def can_pin() -> bool:
    """True when taskset exists and both CPU 0 and CPU 1 are usable."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        return False
    return shutil.which("taskset") is not None and {0, 1} <= cpus


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.append(int(child))
            found.extend(_descendants(int(child)))
    return found


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used so far by ``pid`` and its live descendants."""
    ticks = 0
    for p in (pid, *_descendants(pid)):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / _CLK_TCK


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1.0


# Scheduling priority of the servers and wrk (run.py --nice); negative needs root.
NICE = 0


def pinned(cpu: int, cmd: list[str], pin: bool) -> list[str]:
    """``cmd`` pinned to ``cpu`` (taskset) and run at ``NICE`` (the PID stays the same)."""
    if pin:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    if NICE:
        cmd = ["nice", "-n", str(NICE), *cmd]
    return cmd


@dataclass
class Server:
    """One framework served by uvicorn or granian, pinned to CPU 0."""

    framework: str
    kind: str = "uvicorn"  # or "granian"
    pin: bool = True
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.framework}@{self.kind}"

    def command(self) -> list[str]:
        target = f"{FRAMEWORKS[self.framework]}:app"
        if self.kind == "uvicorn":
            cmd = [
                str(VENV_PY), "-m", "uvicorn", target,
                "--app-dir", str(APPS),
                "--host", HOST, "--port", str(self.port),
                "--workers", "1",
                "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        elif self.kind == "granian":
            cmd = [
                str(VENV / "bin" / "granian"), target,
                "--interface", "asgi",
                "--working-dir", str(APPS),
                "--host", HOST, "--port", str(self.port),
                "--workers", "1", "--runtime-threads", "1",
                "--loop", "uvloop", "--no-ws",
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        else:
            raise ValueError(f"unknown server kind {self.kind!r}")
        return pinned(0, cmd, self.pin)

    def start(self, log_dir: Path) -> None:
        self.port = free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.framework}-{self.kind}.log"
        self._log = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env["PYTHONUNBUFFERED"] = "1"
        # The server runs with cwd = tools/bench/apps: no stray .env is picked up.
        self.proc = subprocess.Popen(
            self.command(),
            cwd=APPS,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited early:\n{self.log_tail()}")
            try:
                status, _, _ = request(self.port, "GET", "/plaintext", timeout=1.0)
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.label} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server by its own PID: SIGTERM, wait, then SIGKILL."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def start_servers(
    frameworks: list[str], kind: str, log_dir: Path, *, pin: bool, log: Any = print
) -> list[Server]:
    """Start one server per framework; on any failure stop those already started."""
    servers: list[Server] = []
    try:
        for fw in frameworks:
            server = Server(fw, kind, pin=pin)
            server.start(log_dir)
            servers.append(server)
        for server in servers:
            server.wait_ready()
            log(f"  {server.label} ready on port {server.port} (pid {server.proc.pid})")  # type: ignore[union-attr]
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        server.stop()


# -- HTTP ----------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


# -- the functional check --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request and what every app must answer.

    ``expect`` is the exact JSON body (parsed), or the text for text/plain.
    ``errors`` (for error answers) is the sorted list of error locations of the
    shared error shape ``{"status": "error", "message": ..., "errors": [{"loc": ...}]}``:
    the wording of ``msg``/``type`` is each framework's own and is not compared.
    ``status_only`` compares the status code only (404 bodies are framework wording).
    """

    name: str
    method: str
    path: str
    status: int
    body: Any = None
    raw_body: bytes | None = None
    expect: Any = None
    media_type: str | None = None
    errors: tuple[tuple[Any, ...], ...] | None = None
    message: str | None = None
    status_only: bool = False


_VALIDATION = "Validation failed"

CASES: tuple[Case, ...] = (
    Case("plaintext", "GET", "/plaintext", 200, expect="Hello, World!", media_type="text/plain"),
    Case("json", "GET", "/json", 200, expect={"message": "Hello, World!"}),
    Case("users", "GET", "/users/42", 200, expect={"id": 42, "name": "user42"}),
    Case("users: not an int", "GET", "/users/abc", 404, status_only=True),
    Case(
        "db: 10 rows from SQLite",
        "GET",
        "/db",
        200,
        expect=[{"id": i, "name": f"user{i}"} for i in range(1, 11)],
    ),
    Case("items", "POST", "/items", 201, body=ITEM, expect=ITEM),
    Case(
        "items: fields missing",
        "POST",
        "/items",
        422,
        body={"name": "widget"},
        errors=(("body", "price"), ("body", "tags")),
        message=_VALIDATION,
    ),
    Case(
        "items: price not a number",
        "POST",
        "/items",
        422,
        body={"name": "widget", "price": "cheap", "tags": []},
        errors=(("body", "price"),),
        message=_VALIDATION,
    ),
    Case(
        "items: tags not a list",
        "POST",
        "/items",
        422,
        body={"name": "widget", "price": 1.5, "tags": "a"},
        errors=(("body", "tags"),),
        message=_VALIDATION,
    ),
    Case("query", "GET", "/query?limit=5&offset=20", 200, expect={"limit": 5, "offset": 20}),
    Case("query: defaults", "GET", "/query", 200, expect={"limit": 10, "offset": 0}),
    Case(
        "query: limit not an int",
        "GET",
        "/query?limit=ten&offset=0",
        422,
        errors=(("query", "limit"),),
        message=_VALIDATION,
    ),
)


def _pretty(value: Any) -> list[str]:
    if isinstance(value, bytes | str):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        return text.splitlines() or [""]
    return json.dumps(value, indent=2, sort_keys=True).splitlines()


def _diff(label: str, expected: Any, got: Any) -> str:
    lines = difflib.unified_diff(
        _pretty(expected), _pretty(got), f"expected {label}", f"got {label}", lineterm=""
    )
    return "\n".join(lines)


def _normalized(case: Case, status: int, headers: dict[str, str], data: bytes) -> Any:
    """What of the answer is compared, as a JSON-able value."""
    out: dict[str, Any] = {"status": status}
    if case.status_only:
        return out
    ctype = headers.get("content-type", "")
    media = ctype.partition(";")[0].strip().lower()
    out["media_type"] = media
    if case.errors is not None:
        try:
            body = json.loads(data)
            out["error_status"] = body.get("status")
            out["message"] = body.get("message")
            out["error_locations"] = sorted(list(e["loc"]) for e in body.get("errors", []))
        except (ValueError, AttributeError, KeyError, TypeError):
            out["body"] = data.decode("utf-8", "replace")
        return out
    if media == "application/json":
        try:
            out["body"] = json.loads(data)
        except ValueError:
            out["body"] = data.decode("utf-8", "replace")
    else:
        out["body"] = data.decode("utf-8", "replace")
    return out


def _expected(case: Case) -> Any:
    out: dict[str, Any] = {"status": case.status}
    if case.status_only:
        return out
    if case.errors is not None:
        out["media_type"] = "application/json"
        out["error_status"] = "error"
        out["message"] = case.message
        out["error_locations"] = sorted(list(loc) for loc in case.errors)
        return out
    out["media_type"] = case.media_type or "application/json"
    out["body"] = case.expect
    return out


def check_server(server: Server) -> list[str]:
    """Run every case against one server; return the mismatches (with diffs)."""
    problems: list[str] = []
    for case in CASES:
        body = case.raw_body
        if body is None and case.body is not None:
            body = json.dumps(case.body).encode()
        try:
            status, headers, data = request(server.port, case.method, case.path, body)
        except OSError as exc:
            problems.append(f"[{server.label}] {case.name}: request failed: {exc}")
            continue
        got, want = _normalized(case, status, headers, data), _expected(case)
        if got != want:
            problems.append(
                f"[{server.label}] {case.name} ({case.method} {case.path}):\n"
                + _diff(case.name, want, got)
            )
    return problems


def check_ferrule_features(server: Server) -> tuple[list[str], dict[str, Any]]:
    """The kernel features the Ferrule app must have on: request ids, hosts, CORS."""
    problems: list[str] = []
    info: dict[str, Any] = {}
    _, headers, _ = request(server.port, "GET", "/json")
    info["request_id"] = "x-request-id" in headers
    if not info["request_id"]:
        problems.append(f"[{server.label}] no X-Request-ID header: request ids are off")
    status, _, _ = request(server.port, "GET", "/json", headers={"Host": "evil.example"})
    info["host_check"] = status == 400
    if status != 400:
        problems.append(f"[{server.label}] Host: evil.example answered {status}, expected 400")
    _, headers, _ = request(
        server.port, "GET", "/json", headers={"Origin": "http://localhost:3000"}
    )
    info["cors_active"] = "access-control-allow-origin" in headers
    if not info["cors_active"]:
        problems.append(
            f"[{server.label}] no Access-Control-Allow-Origin for an allowed Origin: CORS is off"
        )
    return problems, info


def functional_check(servers: list[Server], log: Any = print) -> dict[str, Any]:
    """Check every server; raise SystemExit with the diffs on any mismatch."""
    problems: list[str] = []
    features: dict[str, Any] = {}
    for server in servers:
        found = check_server(server)
        if server.framework == "ferrule":
            more, features = check_ferrule_features(server)
            found += more
        status = "ok" if not found else f"{len(found)} mismatch(es)"
        log(f"  check {server.label}: {len(CASES)} cases, {status}")
        problems += found
    if problems:
        print("\nFUNCTIONAL CHECK FAILED: the apps do not behave identically.\n", file=sys.stderr)
        for p in problems:
            print(p + "\n", file=sys.stderr)
        raise SystemExit(1)
    return {"cases": [c.name for c in CASES], "ferrule_features": features}
