"""Profile one bench app on one endpoint, in-process or live under load.

    uv run python tools/bench/profile_app.py --endpoint json                # cProfile, Ferrule
    uv run python tools/bench/profile_app.py --endpoint items --tool pyinstrument
    uv run python tools/bench/profile_app.py --endpoint json --tool py-spy  # live uvicorn + wrk
    uv run python tools/bench/profile_app.py --tool time --framework all    # µs/request, in-process
    uv run python tools/bench/profile_app.py --tool server --framework all  # same, through uvicorn
    uv run python tools/bench/profile_app.py --tool callgrind --endpoint plaintext  # instructions

In-process modes (cprofile, pyinstrument, time) drive the ASGI app directly with
a prepared scope, without a server: only framework work is measured and the
numbers are far less noisy than req/s. ``cprofile`` also prints function calls
per request, a deterministic figure. ``server`` times whole requests through
uvicorn's HTTP protocol (httptools parsing, the app behind uvicorn's proxy-headers
middleware, uvicorn's header checks and response writing) with a transport that
counts writes instead of sending them: everything of a live request but the
socket system calls, again with little noise. ``callgrind`` runs the same under
valgrind and counts the instructions of the measured requests only: the same
number whatever else the machine is doing (valgrind from Debian's packages).
On ``db`` it runs aiosqlite's calls inline in the event loop's thread (the thread
hop would be counted as the measuring loop spinning while it waits), so the count
is the event-loop side of a read: framework, SQLAlchemy and ``sqlite3``.
``py-spy`` samples a real uvicorn server (pinned to CPU 0) while wrk (CPU 1) loads
it, server and event loop included.
Runs in the bench venv (re-executes itself there).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import importlib
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    APPS,
    ENDPOINTS,
    FRAMEWORKS,
    HOST,
    RESULTS,
    ROOT,
    VENV,
    VENV_PY,
    Server,
    can_pin,
    ensure_venv,
    pinned,
)

WRK_LUA = Path(__file__).resolve().parent / "wrk.lua"


# -- in-process driving --------------------------------------------------------------


def _scope(endpoint: str) -> tuple[dict[str, Any], bytes]:
    ep = ENDPOINTS[endpoint]
    path, _, qs = ep.path.partition("?")
    body = json.dumps(ep.body).encode() if ep.body is not None else b""
    headers = [
        (b"host", f"{HOST}:8000".encode()),
        (b"user-agent", b"wrk"),
        (b"accept", b"*/*"),
    ]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": ep.method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": qs.encode(),
        "root_path": "",
        "headers": headers,
        "client": (HOST, 50000),
        "server": (HOST, 8000),
    }
    return scope, body


class Driver:
    """Runs an ASGI app's lifespan and then requests against it, in-process."""

    def __init__(self, framework: str) -> None:
        sys.path.insert(0, str(APPS))
        self.app = importlib.import_module(FRAMEWORKS[framework]).app
        self.state: dict[str, Any] = {}
        self._lifespan_task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}

        async def run() -> None:
            try:
                await self.app(scope, self._to_app.get, self._from_app.put)
            except Exception as exc:  # an app without lifespan support
                await self._from_app.put({"type": "lifespan.unsupported", "error": repr(exc)})

        self._lifespan_task = asyncio.create_task(run())
        await self._to_app.put({"type": "lifespan.startup"})
        msg = await asyncio.wait_for(self._from_app.get(), 10)
        if msg["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"startup failed: {msg}")

    async def shutdown(self) -> None:
        if self._lifespan_task is None or self._lifespan_task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._lifespan_task, 10)
        except (TimeoutError, asyncio.CancelledError):
            self._lifespan_task.cancel()

    def make_request(self, endpoint: str) -> Any:
        base, body = _scope(endpoint)
        app, state = self.app, self.state
        request_msg = {"type": "http.request", "body": body, "more_body": False}
        disconnect = {"type": "http.disconnect"}

        async def one() -> int:
            scope = dict(base)
            scope["state"] = dict(state)
            scope["headers"] = list(base["headers"])
            sent = False
            status = 0

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return disconnect
                sent = True
                return request_msg

            async def send(message: dict[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]

            await app(scope, receive, send)
            return status

        return one


async def _loop(one: Any, n: int) -> None:
    for _ in range(n):
        await one()


def _best_of_5(loop: asyncio.AbstractEventLoop, batch: Any, n: int) -> float:
    """Seconds per request: the fastest of five batches of ``n`` (``batch()`` makes one)."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        loop.run_until_complete(batch())
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


def in_process(framework: str, endpoint: str, n: int, tool: str, top: int) -> None:
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    driver = Driver(framework)
    loop.run_until_complete(driver.startup())
    one = driver.make_request(endpoint)
    status = loop.run_until_complete(one())
    expected = 201 if endpoint == "items" else 200
    if status != expected:
        raise SystemExit(f"{framework} {endpoint}: status {status}, expected {expected}")
    loop.run_until_complete(_loop(one, min(n, 2000)))  # warm-up
    if tool == "time":
        best = _best_of_5(loop, lambda: _loop(one, n), n)
        print(f"{framework:<11} {endpoint:<9} {best * 1e6:8.1f} µs/request (best of 5 x {n})")
    elif tool == "cprofile":
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        loop.run_until_complete(_loop(one, n))
        prof.disable()
        elapsed = time.perf_counter() - t0
        report_cprofile(prof, n, elapsed, framework, endpoint, top)
    elif tool == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001, async_mode="disabled")
        profiler.start()
        loop.run_until_complete(_loop(one, n))
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"pyinstrument-{framework}-{endpoint}.html"
        out.write_text(profiler.output_html())
        print(f"HTML: {out.relative_to(ROOT)}")
    loop.run_until_complete(driver.shutdown())
    loop.close()


class _Transport:
    """What uvicorn's HTTP protocol uses of a transport; writes are kept, not sent."""

    def __init__(self) -> None:
        self.writes = 0
        self.status = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        if data.startswith(b"HTTP/1.1 "):
            self.status = int(data[9:12])

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": (HOST, 8000), "peername": (HOST, 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        pass


def _http_bytes(endpoint: str) -> bytes:
    scope, body = _scope(endpoint)
    target = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
    head = [f"{scope['method']} {target} HTTP/1.1".encode()]
    head += [name + b": " + value for name, value in scope["headers"]]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _through_uvicorn(
    framework: str, endpoint: str
) -> tuple[asyncio.AbstractEventLoop, Any, Driver]:
    """An app behind uvicorn's httptools protocol; ``run(count)`` serves ``count`` requests."""
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    loop = _new_loop()
    asyncio.set_event_loop(loop)
    driver = Driver(framework)
    # As in a served process: uvicorn's config (and its logging setup) before the
    # app's lifespan, the app wrapped in uvicorn's proxy-headers middleware.
    config = Config(driver.app, http="httptools", access_log=False, log_level="warning")
    config.load()
    loop.run_until_complete(driver.startup())
    protocol = HttpToolsProtocol(config, ServerState(), driver.state, loop)
    transport = _Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    request = _http_bytes(endpoint)

    async def run(count: int) -> None:
        for _ in range(count):
            want = transport.writes + 2  # status line + headers, then the body
            protocol.data_received(request)
            # Polled on purpose: an Event would add a future per request to the time.
            while transport.writes < want:  # noqa: ASYNC110
                await asyncio.sleep(0)

    loop.run_until_complete(run(1))
    expected = 201 if endpoint == "items" else 200
    if transport.status != expected:
        raise SystemExit(f"{framework} {endpoint}: status {transport.status}, expected {expected}")
    loop.run_until_complete(run(2000))  # warm-up
    return loop, run, driver


def server_time(framework: str, endpoint: str, n: int) -> None:
    """µs per request through uvicorn's httptools protocol, sockets excepted."""
    loop, run, driver = _through_uvicorn(framework, endpoint)
    per = _best_of_5(loop, lambda: run(n), n) * 1e6
    print(f"{framework:<11} {endpoint:<9} {per:8.1f} µs/request through uvicorn (best of 5 x {n})")
    loop.run_until_complete(driver.shutdown())
    loop.close()


def _wait_for_line(stream: Any, word: str, proc: subprocess.Popen[str]) -> None:
    for line in stream:
        if line.strip() == word:
            return
    proc.wait(timeout=60)
    raise SystemExit(f"the measured process exited before {word}: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]


def callgrind(framework: str, endpoint: str, n: int) -> None:
    """Instructions per request through uvicorn's protocol, counted by callgrind.

    The child process runs under valgrind with instrumentation off (near native
    speed) through imports, startup and warm-up; it is switched on for exactly the
    ``n`` measured requests. Instruction counts do not depend on what else the
    machine is doing, so small changes can be compared on a noisy machine.
    """
    valgrind, control = shutil.which("valgrind"), shutil.which("callgrind_control")
    if valgrind is None or control is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install -y valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [valgrind, "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={tmp}/callgrind.out", str(VENV_PY), __file__,
               "--tool", "callgrind", "--child", "--framework", framework,
               "--endpoint", endpoint, "-n", str(n), "--sync-dir", tmp]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_line(proc.stdout, "READY", proc)
            subprocess.run([control, "-i", "on", str(proc.pid)], check=True, capture_output=True)
            Path(tmp, "go").touch()
            _wait_for_line(proc.stdout, "DONE", proc)
            subprocess.run([control, "-i", "off", str(proc.pid)], check=True, capture_output=True)
            Path(tmp, "stop").touch()
            _, err = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        found = re.search(r"Collected : (\d+)", err)
        if proc.returncode != 0 or found is None:
            raise SystemExit(f"callgrind run failed ({proc.returncode}): {err[-2000:]}")
    per = int(found.group(1)) / n
    print(f"{framework:<11} {endpoint:<9} {per:10,.0f} instructions/request through uvicorn "
          f"(callgrind, {n} requests)")  # fmt: skip


def _inline_aiosqlite() -> None:
    """aiosqlite's calls run in the caller's thread (callgrind on /db only).

    Under valgrind the threads take turns, and the measuring loop would spin,
    counted, while the driver's thread works; inline, only the read itself counts.
    """
    import aiosqlite.core

    async def _execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    aiosqlite.core.Connection._execute = _execute  # type: ignore[method-assign]


def _callgrind_child(framework: str, endpoint: str, n: int, sync: Path) -> None:
    if endpoint == "db":
        _inline_aiosqlite()
    loop, run, driver = _through_uvicorn(framework, endpoint)
    print("READY", flush=True)
    while not (sync / "go").exists():
        time.sleep(0.05)
    loop.run_until_complete(run(n))
    print("DONE", flush=True)
    while not (sync / "stop").exists():
        time.sleep(0.05)
    loop.run_until_complete(driver.shutdown())
    loop.close()


def _where(filename: str, line: int, func: str) -> str:
    if filename.startswith(str(ROOT)):
        filename = os.path.relpath(filename, ROOT)
    elif "site-packages/" in filename:
        filename = filename.split("site-packages/", 1)[1]
    if filename == "~":
        return f"<built-in> {func}"
    return f"{filename}:{line} {func}"


def report_cprofile(
    prof: cProfile.Profile, n: int, elapsed: float, framework: str, endpoint: str, top: int
) -> None:
    stats = pstats.Stats(prof)
    entries = stats.stats  # type: ignore[attr-defined]
    total_calls = sum(v[1] for v in entries.values())
    print(
        f"{framework} {endpoint}: {n} requests, {elapsed / n * 1e6:.1f} µs/request under "
        f"cProfile, {total_calls / n:.1f} function calls/request\n"
    )
    rows = sorted(entries.items(), key=lambda kv: -kv[1][2])
    print(f"Top {top} by own time (per request):")
    print(f"{'own µs':>8} {'cum µs':>8} {'calls':>6}  location")
    for (file, line, func), (_cc, nc, tt, ct, _) in rows[:top]:
        print(f"{tt / n * 1e6:8.2f} {ct / n * 1e6:8.2f} {nc / n:6.1f}  {_where(file, line, func)}")
    kernel = [kv for kv in entries.items() if "ferrule" in kv[0][0]]
    if kernel:
        print(f"\nTop {top} Ferrule functions by cumulative time (per request):")
        print(f"{'cum µs':>8} {'own µs':>8} {'calls':>6}  location")
        for (file, line, func), (_cc, nc, tt, ct, _) in sorted(kernel, key=lambda kv: -kv[1][3])[
            :top
        ]:
            print(
                f"{ct / n * 1e6:8.2f} {tt / n * 1e6:8.2f} {nc / n:6.1f}  {_where(file, line, func)}"
            )


# -- live sampling with py-spy -----------------------------------------------------------


def py_spy(framework: str, endpoint: str, seconds: int, top: int) -> None:
    pin = can_pin()
    RESULTS.mkdir(parents=True, exist_ok=True)
    server = Server(framework, "uvicorn", pin=pin)
    server.start(RESULTS / "profile-logs")
    try:
        server.wait_ready()
        assert server.proc is not None
        ep = ENDPOINTS[endpoint]
        env = dict(os.environ, BENCH_BODY=json.dumps(ep.body) if ep.body is not None else "")
        wrk_cmd = [
            "wrk", "-t1", "-c64", f"-d{seconds + 3}s", "-s", str(WRK_LUA),
            f"http://{HOST}:{server.port}{ep.path}",
        ]  # fmt: skip
        load = subprocess.Popen(pinned(1, wrk_cmd, pin), env=env, stdout=subprocess.DEVNULL)
        try:
            time.sleep(1.5)
            raw = RESULTS / f"py-spy-{framework}-{endpoint}.txt"
            subprocess.run(
                [
                    str(VENV / "bin" / "py-spy"), "record", "-p", str(server.proc.pid),
                    "-d", str(seconds), "-r", "250", "--full-filenames",
                    "--format", "raw", "-o", str(raw),
                ],
                check=True,
                timeout=seconds + 60,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        finally:
            load.terminate()
            try:
                load.wait(timeout=10)
            except subprocess.TimeoutExpired:
                load.kill()
                load.wait(timeout=10)
    finally:
        server.stop()
    report_py_spy(raw, top)


def report_py_spy(raw: Path, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    parts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_s)
        total += count
        frames = [_frame(f) for f in stack.split(";")]
        file, lineno, func = frames[-1]
        own[f"{file}:{lineno} {func}"] += count
        parts[_component(file)] += count
        for name in {f"{f} {fn}" for f, _, fn in frames}:  # per function, any line
            inclusive[name] += count
    if not total:
        print("no samples")
        return
    print(f"{total} samples ({raw})\n")
    print("Own samples by component:")
    for name, count in parts.most_common():
        print(f"{100 * count / total:6.1f}%  {name}")
    print(f"\nTop {top} by own samples (hot lines):")
    for name, count in own.most_common(top):
        print(f"{100 * count / total:6.1f}%  {name}")
    print(f"\nTop {top} Ferrule functions by inclusive samples:")
    ferrule = [(k, v) for k, v in inclusive.items() if "ferrule" in k.split(" ", 1)[0]]
    for name, count in sorted(ferrule, key=lambda kv: -kv[1])[:top]:
        print(f"{100 * count / total:6.1f}%  {name}")


def _frame(frame: str) -> tuple[str, str, str]:
    """``"function (path/to/file.py:123)"`` -> ``(short path, "123", function)``."""
    func, _, rest = frame.partition(" (")
    where = rest.rstrip(")")
    file, _, lineno = where.rpartition(":")
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    elif file.startswith(str(ROOT)):
        file = os.path.relpath(file, ROOT)
    return file, lineno, func


def _component(file: str) -> str:
    if file.startswith("packages/ferrule-core"):
        return "Ferrule kernel"
    if file.startswith("tools/bench/apps"):
        return "bench app handlers"
    if "/" not in file or file.startswith("/"):
        return "Python stdlib / event loop (asyncio, uvloop callbacks)"
    return file.split("/", 1)[0]


# -- main --------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--framework", default="ferrule", help="a bench app, or 'all' (time and server only)"
    )
    p.add_argument("--endpoint", default="json", help="an endpoint, or 'all'")
    p.add_argument(
        "--tool",
        default="cprofile",
        choices=["cprofile", "pyinstrument", "py-spy", "time", "server", "callgrind"],
    )
    p.add_argument("-n", "--requests", type=int, default=20000, help="in-process requests")
    p.add_argument("--seconds", type=int, default=10, help="py-spy sampling time")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--sync-dir", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if Path(sys.prefix).resolve() != VENV.resolve():
        ensure_venv()
        os.execv(str(VENV_PY), [str(VENV_PY), __file__, *sys.argv[1:]])
    fws = list(FRAMEWORKS) if args.framework == "all" else args.framework.split(",")
    eps = list(ENDPOINTS) if args.endpoint == "all" else args.endpoint.split(",")
    for name in [*fws, *eps]:
        if name not in FRAMEWORKS and name not in ENDPOINTS:
            raise SystemExit(f"unknown framework/endpoint {name!r}")
    for fw in fws:
        for ep in eps:
            if args.tool == "py-spy":
                py_spy(fw, ep, args.seconds, args.top)
            elif args.tool in ("time", "server") and not args.child:
                # one process per app and endpoint: nothing shared between measurements
                subprocess.run(
                    [str(VENV_PY), __file__, "--tool", args.tool, "--child", "--framework", fw,
                     "--endpoint", ep, "-n", str(args.requests)],
                    check=True,
                    timeout=600,
                )  # fmt: skip
            elif args.tool == "server":
                server_time(fw, ep, args.requests)
            elif args.tool == "callgrind" and args.child:
                _callgrind_child(fw, ep, args.requests, args.sync_dir)
            elif args.tool == "callgrind":
                callgrind(fw, ep, min(args.requests, 2000))
            else:
                in_process(fw, ep, args.requests, args.tool, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
