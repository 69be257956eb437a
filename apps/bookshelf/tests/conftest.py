"""Bookshelf on SQLite (a temp file) and PostgreSQL (a throwaway schema).

PostgreSQL: ``FERRULE_TEST_POSTGRES_URI`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``); skipped when unreachable,
a failure when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import TYPE_CHECKING

import asyncpg
import pytest
from bookshelf import Application
from bookshelf.config import Config
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

PG_URI = os.environ.get(
    "FERRULE_TEST_POSTGRES_URI", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _dsn() -> str:
    return make_url(PG_URI).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def pg_config() -> AsyncIterator[Config]:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(_dsn()), timeout=5)
    except Exception as exc:
        reason = f"PostgreSQL at {make_url(PG_URI)!r} is unreachable: {exc!r}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: the service must be running)")
        pytest.skip(reason)
    schema = f"bookshelf_test_{uuid.uuid4().hex[:12]}"
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        options = {"connect_args": {"server_settings": {"search_path": schema}}}
        yield Config(DATABASE_URI=PG_URI, SQL_DATABASE={"ENGINE_OPTIONS": options})
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest.fixture
def sqlite_config(tmp_path: Path) -> Config:
    return Config(DATABASE_URI=f"sqlite+aiosqlite:///{tmp_path / 'bookshelf.db'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request: pytest.FixtureRequest) -> Config:
    name = "sqlite_config" if request.param == "sqlite" else "pg_config"
    cfg: Config = request.getfixturevalue(name)
    return cfg


@pytest.fixture
def app(config: Config) -> Application:
    return Application(config)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URI", "SQL_DATABASE", "MIGRATE_ON_STARTUP", "DEBUG"):
        monkeypatch.delenv(key, raising=False)
