"""The ``SQL_DATABASE`` config section and the checks run on it at startup."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ferrule.core import ImproperlyConfiguredError

__all__ = ("DEFAULT_URI", "SqlDatabaseConfig", "check_async_uri", "masked")

DEFAULT_URI = "sqlite+aiosqlite:///./app.db"

# backend -> the async driver to suggest when a URI names a synchronous one.
_ASYNC_DRIVER = {
    "postgresql": "asyncpg",
    "sqlite": "aiosqlite",
    "mysql": "aiomysql",
    "mariadb": "aiomysql",
    "mssql": "aioodbc",
    "oracle": "oracledb_async",
}
_ASYNC_DRIVERS = frozenset(
    {"asyncpg", "psycopg", "psycopg_async", "aiosqlite", "aiomysql", "asyncmy", "aioodbc"}
    | {"oracledb_async", "oracledb"}
)


class SqlDatabaseConfig(BaseModel):
    """Settings of one SQL database (the ``SQL_DATABASE`` section by default).

    Example:
        >>> SQL_DATABASE = {
        ...     "DATABASE_URI": "postgresql+asyncpg://app@db.internal/app",
        ...     "POOL_SIZE": 10,
        ... }
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    DATABASE_URI: str = DEFAULT_URI
    SESSION_NAME: str = "session"
    SHOW_SQL: bool = False
    POOL_SIZE: int | None = Field(default=None, ge=1)
    MAX_OVERFLOW: int | None = Field(default=None, ge=0)
    POOL_RECYCLE: int | None = Field(default=None, ge=-1)
    POOL_TIMEOUT: float | None = Field(default=None, gt=0)
    #: None: on for client/server databases, off for SQLite (see engine_options).
    POOL_PRE_PING: bool | None = None
    RETRY_AFTER: int = Field(default=5, ge=0)
    ENGINE_OPTIONS: dict[str, Any] = Field(default_factory=dict)
    ALEMBIC_MIGRATION_DIR: str | None = None
    MODELS: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_sync_alembic_uri(cls, data: Any) -> Any:
        if isinstance(data, dict) and "ALEMBIC_DATABASE_URI_SYNC" in data:
            raise ValueError(
                "ALEMBIC_DATABASE_URI_SYNC is not needed: Ferrule runs Alembic on the async "
                "engine of DATABASE_URI. Remove the key"
            )
        return data

    @field_validator("SESSION_NAME")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError("must be a valid Python parameter name, e.g. 'session'")
        return value


def masked(url: URL | str) -> str:
    """The URI with its password hidden, safe for messages and logs."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparsable URI>"
    return parsed.render_as_string(hide_password=True)


def check_async_uri(uri: str, key: str) -> URL:
    """Parse ``uri`` and require an asyncio driver, naming the one to use if not.

    Raises:
        ImproperlyConfiguredError: the URI is malformed or names a sync driver.
    """
    try:
        url = make_url(uri)
    except ArgumentError:
        raise ImproperlyConfiguredError(
            f"{key}: cannot parse the database URI {_scheme_only(uri)!r}. Use the form "
            "'dialect+driver://user:password@host:port/database', e.g. "
            "'postgresql+asyncpg://app@localhost/app' or 'sqlite+aiosqlite:///./app.db'."
        ) from None
    backend = url.get_backend_name()
    if backend == "postgres":  # Heroku-style scheme, rejected by SQLAlchemy itself
        backend = "postgresql"
    driver = url.get_driver_name() if "+" in url.drivername else None
    if driver in _ASYNC_DRIVERS:
        return url
    suggestion = _ASYNC_DRIVER.get(backend)
    what = f"the synchronous driver {driver!r}" if driver else "no driver (so a synchronous one)"
    if suggestion is None:
        raise ImproperlyConfiguredError(
            f"{key}: {masked(url)!r} uses {what}; Ferrule runs SQLAlchemy on asyncio and needs "
            "an async driver ('dialect+asyncdriver://...'), see SQLAlchemy's asyncio dialects."
        )
    fixed = url.set(drivername=f"{backend}+{suggestion}")
    raise ImproperlyConfiguredError(
        f"{key}: {masked(url)!r} uses {what}; Ferrule runs SQLAlchemy on asyncio. "
        f"Use the async driver {suggestion!r}: {masked(fixed)!r}."
    )


def _scheme_only(uri: str) -> str:
    scheme, sep, _ = uri.partition("://")
    return f"{scheme}://..." if sep else "..."
