"""Config validation: clear startup errors, async drivers, pool options."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy.pool import StaticPool

from ferrule.core import App, ImproperlyConfiguredError
from ferrule.database import SqlDatabase
from ferrule.database.sql import SqlDatabaseConfig
from ferrule.database.sql.config import DEFAULT_URI, check_async_uri

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults() -> None:
    settings = SqlDatabaseConfig()
    assert settings.DATABASE_URI == DEFAULT_URI == "sqlite+aiosqlite:///./app.db"
    assert settings.SESSION_NAME == "session"
    assert settings.POOL_PRE_PING is None  # automatic: see test_pre_ping_is_automatic
    assert settings.SHOW_SQL is False
    db = SqlDatabase()
    assert (db.name, db.db_name, db.config_key) == ("db", "db", "SQL_DATABASE")


@pytest.mark.parametrize(
    ("uri", "fixed"),
    [
        ("postgresql://app:s3cret@db.internal/app", "postgresql+asyncpg://app:***@db.internal/app"),
        ("postgresql+psycopg2://app@db/app", "postgresql+asyncpg://app@db/app"),
        ("postgres://app@db/app", "postgresql+asyncpg://app@db/app"),
        ("sqlite:///./app.db", "sqlite+aiosqlite:///./app.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("mysql+pymysql://u@h/d", "mysql+aiomysql://u@h/d"),
    ],
)
def test_sync_driver_names_the_async_one(uri: str, fixed: str) -> None:
    app_config = {"SQL_DATABASE": {"DATABASE_URI": uri}}
    with pytest.raises(ImproperlyConfiguredError) as info:
        App(app_config, extensions=[SqlDatabase()])
    message = str(info.value)
    assert "SQL_DATABASE.DATABASE_URI" in message
    assert repr(fixed) in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite+aiosqlite:///./a.db",
        "postgresql+asyncpg://u@h/d",
        "postgresql+psycopg://u@h/d",
        "mysql+asyncmy://u@h/d",
    ],
)
def test_async_drivers_pass(uri: str) -> None:
    assert check_async_uri(uri, "K").drivername == uri.split(":")[0]


def test_unparsable_and_unknown_uris() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="cannot parse"):
        check_async_uri("not a uri", "K")
    with pytest.raises(ImproperlyConfiguredError, match="needs an async driver"):
        check_async_uri("firebird://u@h/d", "K")


def test_bad_values_name_the_key() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"SQL_DATABASE\.POOL_SIZE"):
        App({"SQL_DATABASE": {"POOL_SIZE": 0}}, extensions=[SqlDatabase()])
    with pytest.raises(ImproperlyConfiguredError, match=r"SQL_DATABASE\.SESSION_NAME"):
        App({"SQL_DATABASE": {"SESSION_NAME": "not valid"}}, extensions=[SqlDatabase()])
    with pytest.raises(ImproperlyConfiguredError, match=r"SQL_DATABASE\.DATABASE_URL"):
        App({"SQL_DATABASE": {"DATABASE_URL": "typo"}}, extensions=[SqlDatabase()])
    with pytest.raises(ImproperlyConfiguredError, match="ALEMBIC_DATABASE_URI_SYNC is not needed"):
        App({"SQL_DATABASE": {"ALEMBIC_DATABASE_URI_SYNC": "x"}}, extensions=[SqlDatabase()])
    with pytest.raises(ImproperlyConfiguredError, match="must be a mapping"):
        App({"SQL_DATABASE": "sqlite://"}, extensions=[SqlDatabase()])


async def test_pool_options_reach_the_engine(tmp_path: Path) -> None:
    db = SqlDatabase()
    section = {
        "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/p.db",
        "POOL_SIZE": 3,
        "MAX_OVERFLOW": 1,
        "POOL_RECYCLE": 60,
        "POOL_TIMEOUT": 2.5,
        "SHOW_SQL": True,
    }
    app = App({"SQL_DATABASE": section}, extensions=[db])
    async with app.lifespan():
        engine = db.engine(app)
        pool = engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._max_overflow == 1  # type: ignore[attr-defined]
        assert pool._recycle == 60
        assert pool._timeout == 2.5  # type: ignore[attr-defined]
        assert pool._pre_ping is False  # SQLite: nothing to ping
        assert engine.echo is True


async def test_engine_options_and_memory_sqlite() -> None:
    db = SqlDatabase()
    section = {
        "DATABASE_URI": "sqlite+aiosqlite://",
        "ENGINE_OPTIONS": {"poolclass": StaticPool},
    }
    app = App({"SQL_DATABASE": section}, extensions=[db])
    async with app.lifespan():
        assert isinstance(db.engine(app).pool, StaticPool)
        assert await db.ping(app) is True


async def test_pool_size_on_memory_sqlite_is_a_startup_error() -> None:
    db = SqlDatabase()
    section = {"DATABASE_URI": "sqlite+aiosqlite://", "ENGINE_OPTIONS": {"poolclass": StaticPool}}
    app = App({"SQL_DATABASE": {**section, "POOL_SIZE": 5}}, extensions=[db])
    with pytest.raises(ImproperlyConfiguredError, match="cannot create the engine"):
        await app.startup()


@pytest.mark.parametrize(
    ("uri", "setting", "expected"),
    [
        ("sqlite+aiosqlite:///./app.db", None, False),  # a local file cannot drop
        ("sqlite+aiosqlite://", None, False),
        ("postgresql+asyncpg://app@db.internal/app", None, True),  # servers restart
        ("sqlite+aiosqlite:///./app.db", True, True),  # an explicit setting wins
        ("postgresql+asyncpg://app@db.internal/app", False, False),
    ],
)
async def test_pre_ping_is_automatic(uri: str, setting: bool | None, expected: bool) -> None:
    from ferrule.database.sql.engine import build_engine

    settings = SqlDatabaseConfig(DATABASE_URI=uri, POOL_PRE_PING=setting)
    engine = build_engine(settings, "SQL_DATABASE")  # creating an engine connects nothing
    try:
        assert engine.pool._pre_ping is expected
    finally:
        await engine.dispose()
