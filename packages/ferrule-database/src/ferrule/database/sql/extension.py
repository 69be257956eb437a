"""``SqlDatabase``: one SQL database of an app (SQLAlchemy 2 async)."""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import AsyncIterator  # noqa: TC003 - provider annotations resolve at runtime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ferrule.core import Extension, ImproperlyConfiguredError, Request
from ferrule.core.importing import import_string

from ..exceptions import ReadOnlySessionError
from .config import SqlDatabaseConfig, check_async_uri
from .engine import build_engine
from .errors import install_error_handlers
from .guard import FerruleSession
from .models import metadata_for
from .sessions import check_routes, decorate

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ferrule.core import App

__all__ = ("SqlDatabase",)

F = TypeVar("F", bound="Callable[..., Awaitable[Any]]")


class SqlDatabase(Extension):
    """An SQL database: engine, sessions, readiness check and error handling.

    Args:
        db_name: the database's name (its models' ``create_declarative_base(db_name)``,
            ``ferrule db --db NAME``, the key in ``app.extensions``).
        configs_name: its config section.

    Example:
        >>> db = SqlDatabase()  # section SQL_DATABASE, name "db"
        >>> analytics = SqlDatabase(db_name="analytics", configs_name="ANALYTICS_DB")

    The engine is created at startup and disposed at shutdown. Handlers get a
    session with ``@db.managed_session`` (commit on success, rollback on error),
    ``@db.readonly_session``, or ``session: Annotated[AsyncSession, Depends(db.session)]``.
    """

    config_model = SqlDatabaseConfig

    def __init__(self, db_name: str = "db", configs_name: str = "SQL_DATABASE") -> None:
        super().__init__(config_key=configs_name, name=db_name)

    @property
    def db_name(self) -> str:
        return self.name

    def settings(self, app: App) -> SqlDatabaseConfig:
        settings: SqlDatabaseConfig = self.state(app).settings
        return settings

    # -- lifecycle -------------------------------------------------------------

    def init_app(self, app: App) -> None:
        super().init_app(app)
        settings = self.settings(app)
        check_async_uri(settings.DATABASE_URI, f"{self.config_key}.DATABASE_URI")
        install_error_handlers(app, settings.RETRY_AFTER)
        check = "database" if self.name == "db" else f"database:{self.name}"
        app.add_readiness_check(check, functools.partial(self.ping, app))

    async def startup(self, app: App) -> None:
        state = self.state(app)
        engine = build_engine(self.settings(app), self.config_key)
        state.data["engine"] = engine
        state.data["sessionmaker"] = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=FerruleSession
        )
        try:
            check_routes(self, app)
        except BaseException:
            await self.shutdown(app)
            raise

    async def shutdown(self, app: App) -> None:
        state = self.state(app)
        state.data.pop("sessionmaker", None)
        engine: AsyncEngine | None = state.data.pop("engine", None)
        if engine is not None:
            await engine.dispose()

    # -- engine and sessions ---------------------------------------------------

    def engine(self, app: App) -> AsyncEngine:
        """The app's engine (exists between startup and shutdown)."""
        engine: AsyncEngine | None = self.state(app).data.get("engine")
        if engine is None:
            raise ImproperlyConfiguredError(
                f"SqlDatabase {self.name!r} has no engine: {app!r} has not started. Run it "
                "under a server, `async with app.lifespan():` or `async with TestClient(app):`."
            )
        return engine

    def sessionmaker(self, app: App) -> async_sessionmaker[AsyncSession]:
        self.engine(app)
        maker: async_sessionmaker[AsyncSession] = self.state(app).data["sessionmaker"]
        return maker

    def create_session(self, app: App) -> AsyncSession:
        """A new session you must close yourself; prefer :meth:`session_scope`."""
        return self.sessionmaker(app)()

    @contextlib.asynccontextmanager
    async def session_scope(
        self, app: App, *, readonly: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on any exception.

        With ``readonly=True`` it never commits and refuses to flush writes.

        Example:
            >>> async with db.session_scope(app) as session:
            ...     session.add(Book(title="Dune"))
        """
        session = self.sessionmaker(app)()
        if readonly:
            cast("FerruleSession", session.sync_session).readonly = True
        try:
            yield session
            if not readonly:
                await session.commit()
            elif session.new or session.dirty or session.deleted:
                # Never flushed, so never refused: still a write that would be lost.
                raise ReadOnlySessionError(
                    "A read-only session ended with unsaved changes; use "
                    "@db.managed_session (or Depends(db.session)) for handlers that write."
                )
        except BaseException:
            # Shielded: a cancelled request (client gone) must still return its
            # connection to the pool.
            with anyio.CancelScope(shield=True):
                await session.rollback()
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await session.close()

    def managed_session(self, fn: F) -> F:
        """Run the handler in a session that commits before the response is sent.

        The session is injected into the parameter named ``SESSION_NAME``
        (annotate it ``AsyncSession``). Any exception rolls back; a failed commit
        is an error response.
        """
        return decorate(self, fn, readonly=False)

    def readonly_session(self, fn: F) -> F:
        """Inject a session that never commits and refuses to flush writes."""
        return decorate(self, fn, readonly=True)

    async def session(self, request: Request) -> AsyncIterator[AsyncSession]:
        """Dependency provider: ``Annotated[AsyncSession, Depends(db.session)]``.

        Commits after the handler and before the response; rolls back if it raised.
        """
        async with self.session_scope(request.app) as session:
            yield session

    async def session_readonly(self, request: Request) -> AsyncIterator[AsyncSession]:
        """Dependency provider of a read-only session."""
        async with self.session_scope(request.app, readonly=True) as session:
            yield session

    async def ping(self, app: App) -> bool:
        """``SELECT 1`` on a pooled connection (the ``/readyz`` check)."""
        async with self.engine(app).connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    # -- models ----------------------------------------------------------------

    def metadata(self, app: App) -> list[MetaData]:
        """The models' metadata: from ``MODELS`` import strings, else the db's base."""
        settings = self.settings(app)
        found: list[MetaData] = []
        for target in settings.MODELS:
            obj = _import(target, f"{self.config_key}.MODELS")
            md = obj if isinstance(obj, MetaData) else getattr(obj, "metadata", None)
            if isinstance(md, MetaData) and md not in found:
                found.append(md)
        if not found:
            md = metadata_for(self.name)
            if md is not None:
                found.append(md)
        return found

    async def create_all(self, app: App, metadata: MetaData | None = None) -> None:
        """Create the missing tables of ``metadata`` (default: :meth:`metadata`).

        For tests and prototypes; applications use migrations.
        """
        async with self.engine(app).begin() as conn:
            for md in [metadata] if metadata is not None else self.metadata(app):
                await conn.run_sync(md.create_all)

    async def drop_all(self, app: App, metadata: MetaData | None = None) -> None:
        """Drop the tables of ``metadata`` (default: :meth:`metadata`)."""
        async with self.engine(app).begin() as conn:
            for md in [metadata] if metadata is not None else self.metadata(app):
                await conn.run_sync(md.drop_all)


def _import(target: str, setting: str) -> Any:
    """``"pkg.models"`` imports a module; ``"pkg.models:Book"`` an attribute."""
    if ":" not in target:
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name != target:
                raise
    return import_string(target, setting=setting)
