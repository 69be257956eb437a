"""``AsyncNoSqlBackendBase``: what a NoSQL backend implements (the seed's interface)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from ferrule.core import App

    from .config import NoSqlDatabaseConfig

__all__ = ("AsyncNoSqlBackendBase",)


class AsyncNoSqlBackendBase(ABC):
    """The minimal async adapter a NoSQL backend implements.

    ``NoSqlDatabase`` creates one backend per app with :meth:`configure_from_app`,
    ``connect``s it at startup and ``disconnect``s it at shutdown. Methods taking
    ``session`` scope the operation to that session/transaction when the
    backend supports them (``supports_transactions()``), and ignore ``None``.
    """

    @classmethod
    @abstractmethod
    def configure_from_app(cls, app: App, settings: NoSqlDatabaseConfig) -> Self:
        """Create the backend from the app and its validated config section."""

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    def database_handle(self) -> Any:
        """The driver's database object (or a client/root handle without databases)."""

    @abstractmethod
    def supports_transactions(self) -> bool: ...

    @abstractmethod
    async def start_session(self) -> Any:
        """A session usable in transactions, or None when unsupported."""

    @abstractmethod
    async def with_transaction(
        self, fn: Callable[..., Any], *args: Any, session: Any = None, **kwargs: Any
    ) -> Any:
        """Await ``fn(*args, session=..., **kwargs)`` in a transaction if supported.

        Commits when ``fn`` returns, aborts when it raises; without transaction
        support ``fn`` is called with ``session=None``.
        """

    @abstractmethod
    def get_collection(self, name: str) -> Any: ...

    @abstractmethod
    async def find_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def find_many(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        session: Any = None,
        limit: int | None = None,
        skip: int | None = None,
        sort: Iterable[tuple[str, int]] | None = None,
        **kwargs: Any,
    ) -> list[Any]: ...

    @abstractmethod
    async def insert_one(
        self, collection: str, doc: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def insert_many(
        self,
        collection: str,
        docs: Iterable[Mapping[str, Any]],
        *,
        session: Any = None,
        **kwargs: Any,
    ) -> Any: ...

    @abstractmethod
    async def update_one(
        self,
        collection: str,
        filter: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        upsert: bool = False,
        session: Any = None,
        **kwargs: Any,
    ) -> Any: ...

    @abstractmethod
    async def delete_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any: ...

    @abstractmethod
    async def aggregate(
        self,
        collection: str,
        pipeline: Iterable[Mapping[str, Any]],
        *,
        session: Any = None,
        **kwargs: Any,
    ) -> list[Any]: ...

    @abstractmethod
    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """Escape hatch for backend-specific commands (see the backend's docs)."""

    async def ping(self) -> bool:
        """Readiness: True when the server answers (override for a cheap check)."""
        return True
