"""Create the async engine of one database from its validated settings."""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, QueuePool

from ferrule.core import ImproperlyConfiguredError

from ._sqlite import one_hop, skip_idle_rollbacks
from .config import check_async_uri, masked

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.pool import ConnectionPoolEntry

    from .config import SqlDatabaseConfig

__all__ = ("CONNECT_FAILED", "build_engine")

#: Attribute set on the DBAPI error raised when a new connection cannot be opened.
CONNECT_FAILED = "ferrule_connect_failed"


def pre_ping(settings: SqlDatabaseConfig) -> bool:
    """``POOL_PRE_PING``, or when unset: on unless the database is SQLite.

    A pooled connection to a server can die in between requests (a restart, a
    proxy's idle timeout), and the ping replaces it before a request sees the
    error. A SQLite connection is an open file in this process: there is nothing
    to lose, and the ping would be one more round trip to the driver's thread on
    every checkout (about a quarter of a simple read's time with aiosqlite).
    """
    if settings.POOL_PRE_PING is not None:
        return settings.POOL_PRE_PING
    return make_url(settings.DATABASE_URI).get_backend_name() != "sqlite"


def sqlite_file_pool(settings: SqlDatabaseConfig) -> bool:
    """True when the engine will pool connections to a SQLite file in a ``QueuePool``.

    In-memory databases get a ``StaticPool`` (one shared connection), which takes
    no size options; an explicit ``poolclass``/``pool`` in ``ENGINE_OPTIONS`` is the
    user's choice.
    """
    if "poolclass" in settings.ENGINE_OPTIONS or "pool" in settings.ENGINE_OPTIONS:
        return False
    try:
        url = make_url(settings.DATABASE_URI)
        if url.get_backend_name() != "sqlite":
            return False
        dialect: Any = url.get_dialect()  # DefaultDialect.get_pool_class is not on Dialect
        with warnings.catch_warnings():  # its deprecation warnings come again from the engine
            warnings.simplefilter("ignore")
            return issubclass(dialect.get_pool_class(url), QueuePool)
    except Exception:  # an unknown driver: create_async_engine reports it
        return False


def engine_options(settings: SqlDatabaseConfig) -> dict[str, Any]:
    """Keyword arguments of ``create_async_engine`` (pool options only when set).

    ``MAX_OVERFLOW`` unset is 0 for a SQLite file (D9): overflow connections are
    opened and closed again as load comes and goes, each a new driver thread and
    file handle, and SQLite runs one writer at a time anyway; requests beyond
    ``POOL_SIZE`` (SQLAlchemy's 5) wait up to ``POOL_TIMEOUT`` for a connection.
    """
    options: dict[str, Any] = {
        "echo": settings.SHOW_SQL,
        "pool_pre_ping": pre_ping(settings),
    }
    if settings.MAX_OVERFLOW is None and sqlite_file_pool(settings):
        options["max_overflow"] = 0
    for key, name in (
        ("pool_size", "POOL_SIZE"),
        ("max_overflow", "MAX_OVERFLOW"),
        ("pool_recycle", "POOL_RECYCLE"),
        ("pool_timeout", "POOL_TIMEOUT"),
    ):
        value = getattr(settings, name)
        if value is not None:
            options[key] = value
    options.update(settings.ENGINE_OPTIONS)
    return options


def build_engine(settings: SqlDatabaseConfig, key: str, *, pooled: bool = True) -> AsyncEngine:
    """Create the engine; connection failures become DBAPI ``OperationalError``s.

    ``pooled=False`` gives a ``NullPool`` engine (one-off work such as migrations).

    Raises:
        ImproperlyConfiguredError: the URI or an engine option is invalid.
    """
    url = check_async_uri(settings.DATABASE_URI, f"{key}.DATABASE_URI")
    options = engine_options(settings)
    if not pooled:
        for name in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "poolclass"):
            options.pop(name, None)
        options["poolclass"] = NullPool
    try:
        engine = create_async_engine(url, **options)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfiguredError(
            f"{key}: cannot create the engine for {masked(url)!r} with options "
            f"{sorted(options)}: {exc}. Pool options (POOL_SIZE, MAX_OVERFLOW, POOL_TIMEOUT) "
            "do not apply to in-memory SQLite; remove them or check ENGINE_OPTIONS."
        ) from exc
    event.listen(engine.sync_engine, "do_connect", _connect)
    if engine.dialect.name == "sqlite":
        skip_idle_rollbacks(engine.sync_engine.dialect)
    return engine


def _connect(
    dialect: Dialect, record: ConnectionPoolEntry, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a DBAPI connection, turning every failure into the DBAPI's OperationalError.

    aiosqlite connections get one-hop cursors (:func:`._sqlite.one_hop`).

    Async drivers raise plain ``OSError``s (``ConnectionRefusedError``, DNS and
    timeout errors) or their own exceptions when connecting; SQLAlchemy passes
    those through unwrapped. Wrapping them gives one exception family
    (``sqlalchemy.exc.DBAPIError``) for "the database is unavailable".
    """
    dbapi = dialect.loaded_dbapi
    try:
        connection = dialect.connect(*cargs, **cparams)
    except dbapi.Error as exc:
        _mark(exc)
        raise
    except Exception as exc:
        error = dbapi.OperationalError(f"cannot connect to the database: {exc!r}")
        _mark(error)
        raise error from exc
    if dialect.driver == "aiosqlite":
        return one_hop(connection)  # one thread hop per statement (_sqlite.py, D8)
    return connection


def _mark(exc: BaseException) -> None:
    with contextlib.suppress(AttributeError, TypeError):  # exotic exception classes
        setattr(exc, CONNECT_FAILED, True)
