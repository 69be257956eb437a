"""Shared fixtures: SQL targets (SQLite file and PostgreSQL schema), a TCP proxy.

PostgreSQL tests use ``FERRULE_TEST_POSTGRES_URI`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``); each test gets its own
schema (through ``search_path``), dropped afterwards. When the server is not
reachable they skip, except under ``CI`` where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

PG_URI = os.environ.get(
    "FERRULE_TEST_POSTGRES_URI", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
_pg_problem: list[str | None] = []


@dataclass
class SqlTarget:
    """Where a test's database lives, and the config section that points there."""

    backend: str
    uri: str
    engine_options: dict[str, Any] = field(default_factory=dict)

    def section(self, **extra: Any) -> dict[str, Any]:
        return {"DATABASE_URI": self.uri, "ENGINE_OPTIONS": dict(self.engine_options), **extra}

    def with_uri(self, uri: str) -> SqlTarget:
        return SqlTarget(self.backend, uri, dict(self.engine_options))


def pg_dsn(uri: str = PG_URI) -> str:
    """The asyncpg DSN of a SQLAlchemy URI."""
    return make_url(uri).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_unavailable() -> str | None:
    if not _pg_problem:
        try:
            conn = await asyncio.wait_for(asyncpg.connect(pg_dsn()), timeout=5)
        except Exception as exc:
            _pg_problem.append(f"PostgreSQL at {make_url(PG_URI)!r} is unreachable: {exc!r}")
        else:
            await conn.close()
            _pg_problem.append(None)
    return _pg_problem[0]


async def require_postgres() -> None:
    problem = await _pg_unavailable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI is set: the PostgreSQL service must be running)")
        pytest.skip(problem)


@pytest.fixture
async def pg_target() -> AsyncIterator[SqlTarget]:
    """A fresh PostgreSQL schema as the connections' search_path."""
    await require_postgres()
    schema = f"ferrule_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_dsn())
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield SqlTarget(
            "postgresql",
            PG_URI,
            {"connect_args": {"server_settings": {"search_path": schema}}},
        )
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> SqlTarget:
    return SqlTarget("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest) -> SqlTarget:
    """Each SQL test runs on SQLite and on PostgreSQL."""
    name = "sqlite_target" if request.param == "sqlite" else "pg_target"
    target: SqlTarget = request.getfixturevalue(name)
    return target


@pytest.fixture(autouse=True)
def _no_ferrule_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Config keys can come from the environment: keep the developer's out."""
    for key in ("DEBUG", "EXTENSIONS", "CONTROLLERS", "SQL_DATABASE", "FERRULE_APP", "PLUGINS"):
        monkeypatch.delenv(key, raising=False)


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that can be stopped and can cut links.

    It stands in for a database server that goes away and comes back.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.cut()

    async def cut(self) -> None:
        """Drop every open connection (the server "crashed" mid-flight)."""
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()
        await asyncio.sleep(0.05)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._links.difference_update({writer, up_writer})


@pytest.fixture
async def pg_proxy() -> AsyncIterator[TcpProxy]:
    """A started proxy in front of the test PostgreSQL server."""
    await require_postgres()
    url = make_url(PG_URI)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
