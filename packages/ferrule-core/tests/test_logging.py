"""Logging: sinks, JSON lines, request ids in records, access log, cheap when filtered."""

from __future__ import annotations

import cProfile
import io
import json
import logging
import logging.handlers
import pstats
from pathlib import Path
from typing import Any

import pytest

from ferrule.core import App, Controller, ImproperlyConfiguredError, get, path
from ferrule.core.logging import request_id_var
from ferrule.core.testing import TestClient

HERE = Path(__file__).parent
log = logging.getLogger("tests.logging")


@path("/")
class LogApi(Controller):
    @get("/work")
    async def work(self) -> dict[str, str]:
        log.warning("working PERFORMANCE 12ms")
        log.info("just info")
        return {"request_id": request_id_var.get()}

    @get("/json")
    async def json_route(self) -> dict[str, str]:
        return {"message": "Hello, World!"}


@pytest.fixture(autouse=True)
def _sinks_importable(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(HERE))
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_ferrule_handler", False)]:
        root.removeHandler(handler)
        handler.close()


def app_with(tmp_path: Path, **config: Any) -> App:
    base: dict[str, Any] = {"BASE_PATH": str(tmp_path), "DEFAULT_LOGGER": {"SINK": "stdout"}}
    base.update(config)
    return App(base, controllers=[LogApi])


async def test_file_sink_gets_request_id_and_filters(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        LOGGERS=["logging_sinks.sinks:FileLogger", "logging_sinks.sinks:PerfLogger"],
        FILE_LOGGER={
            "SINK": "logs/all.log",
            "LEVEL": "INFO",
            "FORMAT": "%(request_id)s|%(message)s",
        },
        PERF_LOGGER={"SINK": "logs/perf.log", "FORMAT": "%(message)s"},
    )
    async with TestClient(app) as client:
        res = await client.get("/work", headers={"X-Request-ID": "abc-123"})
    assert res.headers["x-request-id"] == "abc-123"
    assert res.json() == {"request_id": "abc-123"}
    lines = (tmp_path / "logs" / "all.log").read_text().splitlines()
    assert "abc-123|working PERFORMANCE 12ms" in lines
    assert "abc-123|just info" in lines
    access = [line for line in lines if "GET /work" in line]
    assert len(access) == 1
    assert access[0].startswith('abc-123|127.0.0.1 "GET /work" 200 ')
    assert access[0].endswith("ms")
    assert (tmp_path / "logs" / "perf.log").read_text().splitlines() == ["working PERFORMANCE 12ms"]


async def test_malformed_incoming_request_id_is_replaced(tmp_path: Path) -> None:
    async with TestClient(app_with(tmp_path)) as client:
        res = await client.get("/work", headers={"X-Request-ID": "bad id\twith spaces"})
        other = await client.get("/work")
    rid = res.headers["x-request-id"]
    assert rid != "bad id\twith spaces"
    assert rid
    assert rid.isalnum()
    assert other.headers["x-request-id"] != rid


async def test_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = app_with(tmp_path, LOG_FORMAT="json")
    async with TestClient(app) as client:
        await client.get("/work", headers={"X-Request-ID": "rid-json"})
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    mine = [r for r in records if r["logger"] == "tests.logging"]
    assert {r["message"] for r in mine} == {"working PERFORMANCE 12ms", "just info"}
    assert all(r["request_id"] == "rid-json" for r in mine)
    assert {r["level"] for r in mine} == {"WARNING", "INFO"}
    access = [r for r in records if r["logger"] == "ferrule.access"]
    assert len(access) == 1
    assert "GET /work" in access[0]["message"]


async def test_level_filters_console(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = app_with(tmp_path, LOG_LEVEL="WARNING")
    async with TestClient(app) as client:
        await client.get("/work")
    out = capsys.readouterr().out
    assert "working PERFORMANCE" in out
    assert "just info" not in out
    assert "GET /work" not in out  # the access log is INFO


def test_size_rotation_and_retention(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        LOGGERS=["logging_sinks.sinks:FileLogger"],
        FILE_LOGGER={"SINK": "rot.log", "ROTATION": "1 KB", "RETENTION": "3 files"},
    )
    from logging_sinks.sinks import FileLogger

    built = FileLogger(app).build()
    assert isinstance(built, logging.handlers.RotatingFileHandler)
    assert built.maxBytes == 1024
    assert built.backupCount == 3
    rot_log = logging.getLogger("tests.rotation")
    rot_log.propagate = False
    rot_log.addHandler(built)
    try:
        for i in range(200):
            rot_log.warning("line %03d %s", i, "x" * 40)
    finally:
        rot_log.removeHandler(built)
        built.close()
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("rot.log"))
    assert files == ["rot.log", "rot.log.1", "rot.log.2", "rot.log.3"]
    assert "line 199" in (tmp_path / "rot.log").read_text()


@pytest.mark.parametrize(
    ("rotation", "when", "interval"),
    [("midnight", "MIDNIGHT", 1), ("1 hour", "H", 1), ("7 days", "D", 7)],
)
def test_time_rotation(tmp_path: Path, rotation: str, when: str, interval: int) -> None:
    from logging_sinks.sinks import FileLogger

    app = app_with(tmp_path, FILE_LOGGER={"SINK": "t.log", "ROTATION": rotation})
    built = FileLogger(app).build()
    try:
        assert isinstance(built, logging.handlers.TimedRotatingFileHandler)
        assert built.when == when
        assert built.interval == interval * {"MIDNIGHT": 86400, "H": 3600, "D": 86400}[when]
    finally:
        built.close()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"LOG_LEVEL": "LOUD"}, "unknown log level 'LOUD'"),
        ({"LOGGERS": ["logging_sinks.sinks:NotALogger"]}, "not a LoggerBase subclass"),
        ({"LOGGERS": ["logging_sinks.nowhere:X"]}, "module 'logging_sinks.nowhere' was not found"),
        (
            {
                "LOGGERS": ["logging_sinks.sinks:FileLogger"],
                "FILE_LOGGER": {"SINK": "x.log", "ROTATION": "often"},
            },
            "FILE_LOGGER.ROTATION",
        ),
        # backupCount=0 makes RotatingFileHandler never rotate: unbounded growth.
        (
            {
                "LOGGERS": ["logging_sinks.sinks:FileLogger"],
                "FILE_LOGGER": {"SINK": "x.log", "ROTATION": "1 KB", "RETENTION": 0},
            },
            "FILE_LOGGER.RETENTION: a size ROTATION needs at least 1 file",
        ),
        (
            {
                "LOGGERS": ["logging_sinks.sinks:FileLogger"],
                "FILE_LOGGER": {"SINK": "x.log", "ROTATION": "midnight", "RETENTION": -1},
            },
            "FILE_LOGGER.RETENTION: -1 must be a number of files",
        ),
    ],
)
async def test_bad_logging_config_fails_startup(
    tmp_path: Path, config: dict[str, Any], message: str
) -> None:
    app = app_with(tmp_path, **config)
    with pytest.raises(ImproperlyConfiguredError, match=message):
        await app.startup()


async def test_uvicorn_loggers_routed_through_root(tmp_path: Path) -> None:
    uv = logging.getLogger("uvicorn.error")
    uv.addHandler(logging.NullHandler())
    uv.propagate = False
    await app_with(tmp_path).startup()
    assert uv.handlers == []
    assert uv.propagate is True


async def test_uvicorn_access_logger_is_switched_off(tmp_path: Path) -> None:
    # uvicorn formats its access line (client address, quoted path) whenever
    # hasHandlers() is true, before any level or disabled check: it must be false.
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.NullHandler())
    access.propagate = True
    await app_with(tmp_path).startup()
    assert access.handlers == []
    assert access.hasHandlers() is False
    assert access.isEnabledFor(logging.CRITICAL) is False


def _calls_per_request(app: App, n: int = 200) -> float:
    import asyncio

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        return None

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": "/json",
            "query_string": b"",
            "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 1),
        }

    async def run() -> float:
        await app.startup()
        for h in app.log_handlers:
            if isinstance(h, logging.StreamHandler):
                h.setStream(io.StringIO())
        await app(scope(), receive, send)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            await app(scope(), receive, send)
        profile.disable()
        await app.shutdown()
        total: int = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        # Whole calls per request: one-off calls (a lazy import, a cache fill) vanish.
        return float(total // n)

    return asyncio.run(run())


def test_filtered_access_log_costs_one_call(tmp_path: Path) -> None:
    """Deterministic cost check: a filtered-out access log adds one level check."""
    off = _calls_per_request(app_with(tmp_path, ACCESS_LOG=False))
    filtered = _calls_per_request(app_with(tmp_path, LOG_LEVEL="WARNING"))
    on = _calls_per_request(app_with(tmp_path))
    assert filtered - off <= 1
    assert on > filtered + 10  # formatting and writing a line really happens when enabled


async def test_sink_attached_to_a_named_logger(tmp_path: Path) -> None:
    app = app_with(
        tmp_path,
        LOGGERS=["logging_sinks.sinks:FileLogger"],
        FILE_LOGGER={"SINK": "only.log", "LOGGER": "tests.logging", "FORMAT": "%(message)s"},
    )
    async with TestClient(app) as client:
        await client.get("/work")
    lines = (tmp_path / "only.log").read_text().splitlines()
    assert lines == ["working PERFORMANCE 12ms", "just info"]  # no access line, no httpx
