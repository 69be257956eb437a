"""NoSqlDatabase in an app: config, managed_database, pass-throughs, the $ne bypass."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import mongomock_motor  # a test dependency: missing is an error, never a skip
import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    Depends,
    ImproperlyConfiguredError,
    Request,
    get,
    path,
    post,
)
from ferrule.core.testing import TestClient
from ferrule.database import AsyncNoSqlBackendBase, NoSqlDatabase, plain_filter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

nosqldb = NoSqlDatabase()
MOCK = "mongomock_motor:AsyncMongoMockClient"


class UserIn(BaseModel):
    email: str
    fullname: str
    age: int


@path("/users")
class Users(Controller):
    @post("/", status_code=201)
    @nosqldb.managed_database
    async def create(self, data: UserIn, db: Any, session: Any = None) -> dict[str, Any]:
        result = await db.insert_one("users", data.model_dump(), session=session)
        return {"id": str(result.inserted_id), "session": session}

    @post("/broken")
    @nosqldb.managed_database
    async def broken(self, data: UserIn, db: Any) -> dict[str, Any]:
        await db.insert_one("users", data.model_dump())
        raise RuntimeError("after the insert")

    @get("/")
    async def listing(
        self, db: Annotated[AsyncNoSqlBackendBase, Depends(nosqldb.database)]
    ) -> list[str]:
        return [u["email"] for u in await db.find_many("users", sort=[("email", 1)])]

    @post("/login")
    async def login(self, req: Request) -> dict[str, Any]:
        """Looks users up by request data: operators must not get through."""
        body = await req.json()
        user = await nosqldb.find_one(self.app, "users", body, plain=True)
        return {"ok": user is not None}

    @post("/login-unsafe")
    async def login_unsafe(self, req: Request) -> dict[str, Any]:
        body = await req.json()
        user = await nosqldb.find_one(self.app, "users", body)
        return {"ok": user is not None}


@nosqldb.managed_database
async def count_users(db: Any) -> dict[str, int]:
    return {"count": len(await db.find_many("users"))}


def make_app(**section: Any) -> App:
    config = {"DATABASE_URI": "mongodb://localhost/shop", "CLIENT_FACTORY": MOCK, **section}
    app = App({"NOSQL_DATABASE": config}, controllers=[Users], extensions=[nosqldb])
    app.add_route("/count", count_users)
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(make_app()) as client:
        yield client


USER = {"email": "ada@example.com", "fullname": "Ada", "age": 36}


async def test_managed_database_injects_backend_and_no_session(client: TestClient) -> None:
    res = await client.post("/users", json=USER)
    assert res.status_code == 201
    assert res.json()["session"] is None  # mongomock: no transactions
    assert (await client.get("/users")).json() == ["ada@example.com"]
    assert (await client.get("/count")).json() == {"count": 1}
    doc = await nosqldb.find_one(client.app, "users", {"email": "ada@example.com"})
    assert doc["age"] == 36


async def test_without_transactions_writes_are_not_rolled_back(client: TestClient) -> None:
    res = await client.post("/users/broken", json=USER)
    assert res.status_code == 500
    # Documented: with no transaction support each operation stands alone.
    assert (await client.get("/count")).json() == {"count": 1}


async def test_ne_login_bypass_is_refused(client: TestClient) -> None:
    await client.post("/users", json={**USER, "password": "x"})
    await nosqldb.update_one(
        client.app, "users", {"email": USER["email"]}, {"$set": {"password": "s3cret"}}
    )
    attack = {"email": USER["email"], "password": {"$ne": None}}
    assert (await client.post("/users/login-unsafe", json=attack)).json() == {"ok": True}
    res = await client.post("/users/login", json=attack)
    assert res.status_code == 400
    assert "plain value" in res.json()["message"]
    ok = await client.post("/users/login", json={"email": USER["email"], "password": "s3cret"})
    assert ok.json() == {"ok": True}
    wrong = await client.post("/users/login", json={"email": USER["email"], "password": "nope"})
    assert wrong.json() == {"ok": False}


async def test_pass_through_operations(client: TestClient) -> None:
    app = client.app
    await nosqldb.insert_many(app, "n", [{"v": 3}, {"v": 1}, {"v": 2}])
    assert [d["v"] for d in await nosqldb.find_many(app, "n", sort=[("v", 1)], limit=2)] == [1, 2]
    await nosqldb.update_one(app, "n", {"v": 9}, {"$set": {"w": 1}}, upsert=True)
    assert await nosqldb.find_one(app, "n", {"v": 9}, plain=True) is not None
    with pytest.raises(Exception, match="plain value"):
        await nosqldb.find_many(app, "n", {"v": {"$gt": 0}}, plain=True)
    await nosqldb.delete_one(app, "n", {"v": 9}, plain=True)
    rows = await nosqldb.aggregate(app, "n", [{"$group": {"_id": None, "s": {"$sum": "$v"}}}])
    assert rows[0]["s"] == 6
    assert (await nosqldb.execute_raw(app, "ping"))["ok"] == 1.0
    assert nosqldb.get_collection(app, "n") == nosqldb.database_handle(app)["n"]
    assert plain_filter({"v": 1}) == {"v": 1}


async def test_readiness_check(client: TestClient) -> None:
    res = await client.get("/readyz")
    assert res.json()["checks"] == {"nosql": "ok"}


async def test_backend_lifecycle() -> None:
    app = make_app()
    with pytest.raises(ImproperlyConfiguredError, match="not connected"):
        nosqldb.backend(app)
    async with app.lifespan():
        assert nosqldb.backend(app).supports_transactions() is False
    with pytest.raises(ImproperlyConfiguredError, match="not connected"):
        nosqldb.backend(app)


def test_config_errors() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"NOSQL_DATABASE\.DATABASE_URI"):
        App(extensions=[NoSqlDatabase()])
    with pytest.raises(ImproperlyConfiguredError, match=r"NOSQL_DATABASE\.BACKEND"):
        App(
            {"NOSQL_DATABASE": {"DATABASE_URI": "mongodb://h/d", "BACKEND": "builtins:dict"}},
            extensions=[NoSqlDatabase()],
        )
    with pytest.raises(ImproperlyConfiguredError, match=r"NOSQL_DATABASE\.CLIENT_FACTORY"):
        App(
            {"NOSQL_DATABASE": {"DATABASE_URI": "mongodb://h/d", "CLIENT_FACTORY": 3}},
            extensions=[NoSqlDatabase()],
        )


def test_variable_prefix_and_inject_names() -> None:
    store = NoSqlDatabase(variable_prefix="CACHE_")
    assert (store.config_key, store.name, store.variable_prefix) == (
        "CACHE_NOSQL_DATABASE",
        "cache_nosql_database",
        "CACHE_",
    )

    @store.managed_database
    async def handler(request: Request, mongo: Any, tx: Any = None) -> dict[str, Any]:
        return {"tx": tx, "db": type(mongo).__name__}

    import inspect

    # Provisional (defaults "db"/"session" not present): nothing hidden yet.
    assert "mongo" in inspect.signature(handler).parameters
    App(
        {
            "CACHE_NOSQL_DATABASE": {
                "DATABASE_URI": "mongodb://h/d",
                "CLIENT_FACTORY": MOCK,
                "DB_INJECT_NAME": "mongo",
                "SESSION_NAME": "tx",
            }
        },
        extensions=[store],
    )
    assert list(inspect.signature(handler).parameters) == ["request"]
    with pytest.raises(ImproperlyConfiguredError, match="differ from"):
        App(
            {"CACHE_NOSQL_DATABASE": {"DATABASE_URI": "mongodb://h/d", "DB_INJECT_NAME": "x"}},
            extensions=[store],
        )

    with pytest.raises(ImproperlyConfiguredError, match="no parameter 'mongo'"):

        @store.managed_database
        async def wrong(request: Request, db: Any) -> None: ...


async def test_managed_database_with_transactions() -> None:
    class Session:
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

    sessions: list[Session] = []

    class Client:
        def __init__(self, uri: str) -> None:
            self.inner = mongomock_motor.AsyncMongoMockClient(uri)

        def __getitem__(self, name: str) -> Any:
            return self.inner[name]

        def get_default_database(self) -> Any:
            return self.inner.get_default_database()

        def start_session(self) -> Session:
            sessions.append(Session())
            return sessions[-1]

        def close(self) -> None:
            pass

    tx_db = NoSqlDatabase(db_name="txdb", variable_prefix="TX_")

    @path("/tx")
    class Tx(Controller):
        @post("/ok")
        @tx_db.managed_database
        async def ok(self, db: Any, session: Any) -> dict[str, bool]:
            return {"has_session": session is not None}

        @post("/fail")
        @tx_db.managed_database
        async def fail(self, db: Any, session: Any) -> dict[str, bool]:
            raise RuntimeError("roll it back")

    app = App(
        {
            "TX_NOSQL_DATABASE": {
                "DATABASE_URI": "mongodb://localhost/tx",
                "CLIENT_FACTORY": Client,
                "TRANSACTIONS": True,
            }
        },
        controllers=[Tx],
        extensions=[tx_db],
    )
    async with TestClient(app) as client:
        assert (await client.post("/tx/ok")).json() == {"has_session": True}
        assert (await client.post("/tx/fail")).status_code == 500
        assert (await client.get("/readyz")).json()["checks"] == {"nosql:txdb": "ok"}
    assert [s.events for s in sessions] == [
        ["start", "commit", "end"],
        ["start", "abort", "end"],
    ]
