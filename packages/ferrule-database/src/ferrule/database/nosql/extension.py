"""``NoSqlDatabase``: a NoSQL database of an app through a pluggable backend."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar

from ferrule.core import Extension, ImproperlyConfiguredError, Request

from .backend import AsyncNoSqlBackendBase  # noqa: TC001 - provider hints resolve at runtime
from .config import NoSqlDatabaseConfig
from .decorator import bind_names, decorate
from .filters import plain_filter

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from ferrule.core import App

__all__ = ("NoSqlDatabase",)

F = TypeVar("F", bound="Callable[..., Awaitable[Any]]")


class NoSqlDatabase(Extension):
    """A NoSQL database (MongoDB by default) configured from ``NOSQL_DATABASE``.

    Args:
        db_name: the name in ``app.extensions`` (default: the section name, lower case).
        variable_prefix: prefix of the config section: ``"CACHE_"`` reads
            ``CACHE_NOSQL_DATABASE``.

    The operation methods take the app first (Ferrule has no global "current app"):
    ``await nosqldb.find_one(app, "users", {"email": email})``. In handlers,
    ``@nosqldb.managed_database`` injects the backend, which has the same methods
    without the app, and a transaction session (None when unsupported).
    """

    config_model = NoSqlDatabaseConfig

    def __init__(self, db_name: str | None = None, variable_prefix: str = "") -> None:
        key = f"{variable_prefix}NOSQL_DATABASE"
        super().__init__(config_key=key, name=db_name or key.lower())
        self._variable_prefix = variable_prefix
        # Handler signatures are process-wide: the injected names must agree
        # across every app this object serves.
        self.known_names: tuple[str, str] | None = None
        self._pending: list[Any] = []

    @property
    def variable_prefix(self) -> str:
        return self._variable_prefix

    @property
    def db_name(self) -> str:
        return self.name

    def settings(self, app: App) -> NoSqlDatabaseConfig:
        settings: NoSqlDatabaseConfig = self.state(app).settings
        return settings

    # -- lifecycle -------------------------------------------------------------

    def init_app(self, app: App) -> None:
        super().init_app(app)
        settings = self.settings(app)
        names = (settings.DB_INJECT_NAME, settings.SESSION_NAME)
        if self.known_names is not None and self.known_names != names:
            raise ImproperlyConfiguredError(
                f"{self.config_key}: DB_INJECT_NAME/SESSION_NAME {names} differ from "
                f"{self.known_names} used by another app of this NoSqlDatabase object; "
                "use one NoSqlDatabase object per naming."
            )
        self.known_names = names
        pending, self._pending = self._pending, []
        for wrapper in pending:
            bind_names(wrapper, names, strict=True)
        check = "nosql" if self.name == "nosql_database" else f"nosql:{self.name}"
        app.add_readiness_check(check, functools.partial(self._ping, app))

    async def startup(self, app: App) -> None:
        settings = self.settings(app)
        backend = settings.BACKEND.configure_from_app(app, settings)
        await backend.connect()
        self.state(app).data["backend"] = backend

    async def shutdown(self, app: App) -> None:
        backend = self.state(app).data.pop("backend", None)
        if backend is not None:
            await backend.disconnect()

    async def _ping(self, app: App) -> bool:
        return await self.backend(app).ping()

    # -- access ----------------------------------------------------------------

    def backend(self, app: App) -> AsyncNoSqlBackendBase:
        backend: AsyncNoSqlBackendBase | None = self.state(app).data.get("backend")
        if backend is None:
            raise ImproperlyConfiguredError(
                f"NoSqlDatabase {self.name!r} is not connected: {app!r} has not started."
            )
        return backend

    async def database(self, request: Request) -> AsyncNoSqlBackendBase:
        """Dependency provider: ``Annotated[AsyncNoSqlBackendBase, Depends(nosqldb.database)]``."""
        return self.backend(request.app)

    def managed_database(self, fn: F) -> F:
        """Inject the backend (``DB_INJECT_NAME``) and a session (``SESSION_NAME``).

        The handler runs in a transaction when the backend supports them
        (committed on return, aborted on exception); otherwise the session is None.
        """
        wrapper = decorate(self, fn)
        if self.known_names is None:
            self._pending.append(wrapper)
        return wrapper

    def database_handle(self, app: App) -> Any:
        return self.backend(app).database_handle()

    def get_collection(self, app: App, name: str) -> Any:
        return self.backend(app).get_collection(name)

    # -- pass-through operations -----------------------------------------------

    async def find_one(
        self,
        app: App,
        collection: str,
        filter: Mapping[str, Any],
        *,
        plain: bool = False,
        **kwargs: Any,
    ) -> Any:
        """``plain=True`` refuses operators in ``filter`` (400): use it for request data."""
        filter = plain_filter(filter) if plain else filter
        return await self.backend(app).find_one(collection, filter, **kwargs)

    async def find_many(
        self,
        app: App,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        plain: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        if plain and filter is not None:
            filter = plain_filter(filter)
        return await self.backend(app).find_many(collection, filter, **kwargs)

    async def insert_one(
        self, app: App, collection: str, doc: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        return await self.backend(app).insert_one(collection, doc, **kwargs)

    async def insert_many(
        self, app: App, collection: str, docs: Iterable[Mapping[str, Any]], **kwargs: Any
    ) -> Any:
        return await self.backend(app).insert_many(collection, docs, **kwargs)

    async def update_one(
        self,
        app: App,
        collection: str,
        filter: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        plain: bool = False,
        **kwargs: Any,
    ) -> Any:
        filter = plain_filter(filter) if plain else filter
        return await self.backend(app).update_one(collection, filter, update, **kwargs)

    async def delete_one(
        self,
        app: App,
        collection: str,
        filter: Mapping[str, Any],
        *,
        plain: bool = False,
        **kwargs: Any,
    ) -> Any:
        filter = plain_filter(filter) if plain else filter
        return await self.backend(app).delete_one(collection, filter, **kwargs)

    async def aggregate(
        self, app: App, collection: str, pipeline: Iterable[Mapping[str, Any]], **kwargs: Any
    ) -> list[Any]:
        return await self.backend(app).aggregate(collection, pipeline, **kwargs)

    async def execute_raw(self, app: App, *args: Any, **kwargs: Any) -> Any:
        """Backend-specific escape hatch (MongoDB: a command, or a callable given the db)."""
        return await self.backend(app).execute_raw(*args, **kwargs)
