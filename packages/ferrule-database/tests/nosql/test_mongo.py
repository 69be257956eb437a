"""MongoBackend against mongomock-motor: CRUD, sorting, upserts, aggregation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mongomock_motor  # a test dependency: missing is an error, never a skip
import pytest

from ferrule.core import ImproperlyConfiguredError
from ferrule.database.nosql.mongo import MongoBackend

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def backend() -> AsyncIterator[MongoBackend]:
    backend = MongoBackend(
        "mongodb://localhost/shop", client_factory=mongomock_motor.AsyncMongoMockClient
    )
    await backend.connect()
    yield backend
    await backend.disconnect()


async def test_connect_takes_the_database_from_the_uri(backend: MongoBackend) -> None:
    assert backend.database_name == "shop"
    assert backend.supports_transactions() is False  # mongomock has no sessions
    assert await backend.start_session() is None
    assert await backend.ping() is True
    assert backend.get_collection("items") == backend.database_handle()["items"]


async def test_crud(backend: MongoBackend) -> None:
    one = await backend.insert_one("items", {"name": "pen", "price": 2})
    many = await backend.insert_many(
        "items", [{"name": "ink", "price": 5}, {"name": "pad", "price": 3}]
    )
    assert len(many.inserted_ids) == 2
    found = await backend.find_one("items", {"_id": one.inserted_id})
    assert found["name"] == "pen"
    updated = await backend.update_one("items", {"name": "pen"}, {"$set": {"price": 4}})
    assert updated.modified_count == 1
    assert (await backend.find_one("items", {"name": "pen"}))["price"] == 4
    deleted = await backend.delete_one("items", {"name": "pad"})
    assert deleted.deleted_count == 1
    assert await backend.find_one("items", {"name": "pad"}) is None


async def test_find_many_sort_limit_skip(backend: MongoBackend) -> None:
    await backend.insert_many("n", [{"v": v} for v in (5, 3, 9, 1, 7)])
    docs = await backend.find_many("n", {}, sort=[("v", 1)])
    assert [d["v"] for d in docs] == [1, 3, 5, 7, 9]
    docs = await backend.find_many("n", {"v": {"$gt": 2}}, sort=[("v", -1)], skip=1, limit=2)
    assert [d["v"] for d in docs] == [7, 5]
    assert len(await backend.find_many("n")) == 5


async def test_upsert(backend: MongoBackend) -> None:
    await backend.update_one("c", {"key": "hits"}, {"$inc": {"n": 1}}, upsert=True)
    await backend.update_one("c", {"key": "hits"}, {"$inc": {"n": 1}}, upsert=True)
    assert (await backend.find_one("c", {"key": "hits"}))["n"] == 2
    missing = await backend.update_one("c", {"key": "other"}, {"$inc": {"n": 1}})
    assert missing.matched_count == 0
    assert await backend.find_one("c", {"key": "other"}) is None


async def test_aggregate(backend: MongoBackend) -> None:
    await backend.insert_many(
        "sales",
        [
            {"shop": "a", "total": 10},
            {"shop": "b", "total": 5},
            {"shop": "a", "total": 7},
        ],
    )
    rows = await backend.aggregate(
        "sales",
        [{"$group": {"_id": "$shop", "sum": {"$sum": "$total"}}}, {"$sort": {"_id": 1}}],
    )
    assert rows == [{"_id": "a", "sum": 17}, {"_id": "b", "sum": 5}]


async def test_execute_raw(backend: MongoBackend) -> None:
    assert (await backend.execute_raw("ping"))["ok"] == 1.0

    async def create(db: Any) -> str:
        await db.things.insert_one({"x": 1})
        return "done"

    assert await backend.execute_raw(create) == "done"
    assert await backend.find_one("things", {"x": 1}) is not None


async def test_missing_database_name() -> None:
    backend = MongoBackend(
        "mongodb://localhost", client_factory=mongomock_motor.AsyncMongoMockClient
    )
    with pytest.raises(ImproperlyConfiguredError, match="No MongoDB database name"):
        await backend.connect()


async def test_given_client_is_not_closed() -> None:
    client = mongomock_motor.AsyncMongoMockClient()
    backend = MongoBackend(database="given", client=client)
    await backend.connect()
    await backend.insert_one("x", {"a": 1})
    await backend.disconnect()
    assert await client["given"]["x"].find_one({"a": 1}) is not None
    with pytest.raises(RuntimeError, match="not connected"):
        backend.database_handle()


class FakeSession:
    def __init__(self) -> None:
        self.events: list[str] = []

    def start_transaction(self) -> None:
        self.events.append("start")

    async def commit_transaction(self) -> None:
        self.events.append("commit")

    async def abort_transaction(self) -> None:
        self.events.append("abort")

    async def end_session(self) -> None:
        self.events.append("end")


class TransactionalClient:
    """mongomock plus sessions that record what happened to them."""

    def __init__(self) -> None:
        self.inner = mongomock_motor.AsyncMongoMockClient()
        self.sessions: list[FakeSession] = []

    def __getitem__(self, name: str) -> Any:
        return self.inner[name]

    def start_session(self) -> FakeSession:
        self.sessions.append(FakeSession())
        return self.sessions[-1]


async def test_with_transaction_commits_and_aborts() -> None:
    client = TransactionalClient()
    backend = MongoBackend(database="tx", client=client, transactions=True)
    await backend.connect()

    async def work(value: int, *, session: Any) -> int:
        assert isinstance(session, FakeSession)
        return value * 2

    assert await backend.with_transaction(work, 21) == 42
    assert client.sessions[0].events == ["start", "commit", "end"]

    async def fail(*, session: Any) -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await backend.with_transaction(fail)
    assert client.sessions[1].events == ["start", "abort", "end"]

    given = FakeSession()
    await backend.with_transaction(work, 1, session=given)
    assert given.events == ["start", "commit"]  # the caller ends its own session
