"""``MongoBackend``: MongoDB on PyMongo's native asyncio client.

``pymongo.AsyncMongoClient`` (PyMongo >= 4.9) is the official successor of
Motor. Motor clients (and ``mongomock_motor``'s test double) work too: the few
calls whose shape differs between the two (``start_session``, ``aggregate``,
``close``) are awaited only when they return an awaitable.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Self

from ferrule.core import ImproperlyConfiguredError, MissingDependencyError

from .backend import AsyncNoSqlBackendBase

try:
    import pymongo
    from pymongo.errors import ConnectionFailure, OperationFailure
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise MissingDependencyError("ferrule-database[mongo]") from exc

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from ferrule.core import App

    from .config import NoSqlDatabaseConfig

__all__ = ("MongoBackend",)

logger = logging.getLogger("ferrule.database.nosql")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _session_kw(session: Any) -> dict[str, Any]:
    return {} if session is None else {"session": session}


class MongoBackend(AsyncNoSqlBackendBase):
    """MongoDB through ``pymongo.AsyncMongoClient`` (or a Motor-compatible client).

    Args:
        uri: the connection string (``mongodb://`` or ``mongodb+srv://``).
        database: the database name (default: the one in ``uri``).
        client: an existing client to use instead of creating one (not closed
            on disconnect).
        client_factory: ``factory(uri, **client_options)`` creating the client.
        transactions: force transaction support on/off; ``None`` asks the server
            (replica sets and sharded clusters support them).
    """

    def __init__(
        self,
        uri: str | None = None,
        database: str | None = None,
        *,
        client: Any = None,
        client_factory: Callable[..., Any] | None = None,
        client_options: Mapping[str, Any] | None = None,
        transactions: bool | None = None,
    ) -> None:
        self.uri = uri
        self.database_name = database
        self._client = client
        self._owns_client = client is None
        self._factory = client_factory or pymongo.AsyncMongoClient
        self._options = dict(client_options or {})
        self._transactions = transactions
        self._db: Any = None

    @classmethod
    def configure_from_app(cls, app: App, settings: NoSqlDatabaseConfig) -> Self:
        return cls(
            settings.DATABASE_URI,
            settings.DATABASE,
            client_factory=settings.CLIENT_FACTORY,
            client_options=settings.CLIENT_OPTIONS,
            transactions=settings.TRANSACTIONS,
        )

    # -- lifecycle -------------------------------------------------------------

    async def connect(self) -> None:
        if self._client is None:
            self._client = self._factory(self.uri, **self._options)
        name = self.database_name
        if not name:
            try:
                name = self._client.get_default_database().name
            except Exception:
                name = None
        if not name:
            raise ImproperlyConfiguredError(
                "No MongoDB database name: set DATABASE in the NOSQL_DATABASE section or "
                "put it in the URI (mongodb://host/DBNAME)."
            )
        self.database_name = name
        self._db = self._client[name]
        if self._transactions is None:
            await self._detect_transactions()

    async def disconnect(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None and self._owns_client:
            await _maybe_await(client.close())

    async def _detect_transactions(self) -> None:
        """Replica sets and mongos support transactions; standalone servers do not."""
        try:
            hello = await self.database_handle().command("hello")
        except ConnectionFailure as exc:
            logger.warning("MongoDB unreachable, transaction support unknown: %s", exc)
            return  # ask again on the next session
        except (OperationFailure, NotImplementedError):
            self._transactions = False
            return
        self._transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"

    @property
    def client(self) -> Any:
        return self._client

    def database_handle(self) -> Any:
        if self._db is None:
            raise RuntimeError("MongoBackend is not connected: was the app started?")
        return self._db

    def get_collection(self, name: str) -> Any:
        return self.database_handle()[name]

    async def ping(self) -> bool:
        await self.database_handle().command("ping")
        return True

    # -- sessions and transactions ---------------------------------------------

    def supports_transactions(self) -> bool:
        return bool(self._transactions)

    async def start_session(self) -> Any:
        if self._transactions is None:
            await self._detect_transactions()
        if not self._transactions:
            return None
        return await _maybe_await(self._client.start_session())

    async def with_transaction(
        self, fn: Callable[..., Any], *args: Any, session: Any = None, **kwargs: Any
    ) -> Any:
        own = session is None
        if own:
            session = await self.start_session()
        if session is None:
            return await fn(*args, session=None, **kwargs)
        try:
            await _maybe_await(session.start_transaction())
            try:
                result = await fn(*args, session=session, **kwargs)
            except BaseException:
                await session.abort_transaction()
                raise
            await session.commit_transaction()
            return result
        finally:
            if own:
                await _maybe_await(session.end_session())

    # -- operations --------------------------------------------------------------

    async def find_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any:
        coll = self.get_collection(collection)
        return await coll.find_one(dict(filter), **_session_kw(session), **kwargs)

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
    ) -> list[Any]:
        cursor = self.get_collection(collection).find(
            dict(filter or {}), **_session_kw(session), **kwargs
        )
        if sort:
            cursor = cursor.sort(list(sort))
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return list(await cursor.to_list(length=None))

    async def insert_one(
        self, collection: str, doc: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any:
        coll = self.get_collection(collection)
        return await coll.insert_one(dict(doc), **_session_kw(session), **kwargs)

    async def insert_many(
        self,
        collection: str,
        docs: Iterable[Mapping[str, Any]],
        *,
        session: Any = None,
        **kwargs: Any,
    ) -> Any:
        coll = self.get_collection(collection)
        return await coll.insert_many([dict(d) for d in docs], **_session_kw(session), **kwargs)

    async def update_one(
        self,
        collection: str,
        filter: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        upsert: bool = False,
        session: Any = None,
        **kwargs: Any,
    ) -> Any:
        coll = self.get_collection(collection)
        return await coll.update_one(
            dict(filter), dict(update), upsert=upsert, **_session_kw(session), **kwargs
        )

    async def delete_one(
        self, collection: str, filter: Mapping[str, Any], *, session: Any = None, **kwargs: Any
    ) -> Any:
        coll = self.get_collection(collection)
        return await coll.delete_one(dict(filter), **_session_kw(session), **kwargs)

    async def aggregate(
        self,
        collection: str,
        pipeline: Iterable[Mapping[str, Any]],
        *,
        session: Any = None,
        **kwargs: Any,
    ) -> list[Any]:
        coll = self.get_collection(collection)
        # PyMongo's async aggregate is a coroutine returning a cursor; Motor's is not.
        cursor = await _maybe_await(
            coll.aggregate([dict(stage) for stage in pipeline], **_session_kw(session), **kwargs)
        )
        return list(await cursor.to_list(length=None))

    async def execute_raw(self, *args: Any, **kwargs: Any) -> Any:
        """Run a database command, or a callable given the database handle.

        Example:
            >>> await backend.execute_raw("dbStats")
            >>> await backend.execute_raw(lambda db: db.books.create_index("isbn", unique=True))
        """
        if args and callable(args[0]):
            return await _maybe_await(args[0](self.database_handle(), *args[1:], **kwargs))
        return await self.database_handle().command(*args, **kwargs)
