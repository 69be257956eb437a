"""Sessions: commit before the response, rollback on errors, read-only, DI, no leaks."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import (
    App,
    Controller,
    Depends,
    HTTPException,
    ImproperlyConfiguredError,
    Request,
    get,
    path,
    post,
)
from ferrule.core.testing import TestClient
from ferrule.database import ReadOnlySessionError, SqlDatabase, create_declarative_base

db = SqlDatabase()
Base = create_declarative_base("sessions_tests")


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)


class Parent(Base):
    __tablename__ = "parents"
    id: Mapped[int] = mapped_column(primary_key=True)


class Child(Base):
    __tablename__ = "children"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Checked at COMMIT, not at INSERT: the failure happens after the handler returned.
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("parents.id", deferrable=True, initially="DEFERRED")
    )


class AccountIn(BaseModel):
    email: str


@path("/accounts")
class Accounts(Controller):
    @post("/", status_code=201)
    @db.managed_session
    async def create(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        # Not flushed: a duplicate email fails inside the commit.
        session.add(Account(email=data.email))
        return {"email": data.email}

    @post("/flushed", status_code=201)
    @db.managed_session
    async def create_flushed(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        account = Account(email=data.email)
        session.add(account)
        await session.flush()
        return {"id": account.id, "email": account.email}

    @post("/refused")
    @db.managed_session
    async def refused(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email=data.email))
        await session.flush()
        raise HTTPException(409, "Refused after writing")

    @post("/crash")
    @db.managed_session
    async def crash(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email=data.email))
        await session.flush()
        raise RuntimeError("boom")

    @post("/orphan", status_code=201)
    @db.managed_session
    async def orphan(self, session: AsyncSession) -> dict[str, Any]:
        session.add(Child(id=1, parent_id=999))
        await session.flush()  # the INSERT succeeds: the constraint is deferred
        return {"created": 1}

    @get("/")
    @db.readonly_session
    async def listing(self, session: AsyncSession) -> list[str]:
        return [a.email for a in await Account.query(session).order_by(Account.email).all()]

    @post("/ro/flush")
    @db.readonly_session
    async def ro_flush(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email=data.email))
        await session.flush()
        return {}

    @post("/ro/autoflush")
    @db.readonly_session
    async def ro_autoflush(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email=data.email))
        return {"count": await Account.query(session).count()}

    @post("/ro/insert")
    @db.readonly_session
    async def ro_insert(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        await session.execute(insert(Account).values(email=data.email))
        return {}

    @post("/ro/pending")
    @db.readonly_session
    async def ro_pending(self, data: AccountIn, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email=data.email))
        return {}

    @post("/di", status_code=201)
    async def di_create(
        self, data: AccountIn, session: Annotated[AsyncSession, Depends(db.session)]
    ) -> dict[str, Any]:
        session.add(Account(email=data.email))
        return {"email": data.email}

    @post("/di/refused")
    async def di_refused(
        self, data: AccountIn, session: Annotated[AsyncSession, Depends(db.session)]
    ) -> dict[str, Any]:
        session.add(Account(email=data.email))
        await session.flush()
        raise HTTPException(400, "no")

    @get("/di/ro")
    async def di_readonly(
        self, session: Annotated[AsyncSession, Depends(db.session_readonly)]
    ) -> dict[str, int]:
        return {"count": await Account.query(session).count()}

    @get("/slow")
    @db.managed_session
    async def slow(self, req: Request, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email="slow@example.com"))
        await session.flush()  # holds a connection now
        req.app.state.entered.set()
        await asyncio.Event().wait()  # until the client goes away
        return {}

    @post("/late-body")
    @db.managed_session
    async def late_body(self, req: Request, session: AsyncSession) -> dict[str, Any]:
        session.add(Account(email="late@example.com"))
        await session.flush()
        await req.body()  # the client is gone: ClientDisconnectError
        return {}


@db.managed_session
async def count_accounts(session: AsyncSession) -> dict[str, int]:
    """A plain function route: the decorator asks the kernel for the request itself."""
    return {"count": await Account.query(session).count()}


def make_app(section: dict[str, Any]) -> App:
    app = App({"SQL_DATABASE": section}, controllers=[Accounts], extensions=[db])
    app.add_route("/count", count_accounts)
    return app


@pytest.fixture
async def client(sql: Any) -> Any:
    app = make_app(sql.section())
    app.state.entered = asyncio.Event()
    async with TestClient(app) as client:
        if sql.backend == "sqlite":
            # SQLite checks foreign keys only when asked, per connection.
            @event.listens_for(db.engine(app).sync_engine, "connect")
            def _fk(dbapi_conn: Any, record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

        await db.create_all(app, Base.metadata)
        yield client


async def emails(app: App) -> list[str]:
    async with db.session_scope(app, readonly=True) as session:
        return list((await session.scalars(select(Account.email).order_by(Account.email))).all())


def checked_out(app: App) -> int:
    return int(db.engine(app).pool.checkedout())  # type: ignore[attr-defined]


async def test_managed_session_commits(client: TestClient) -> None:
    res = await client.post("/accounts", json={"email": "a@example.com"})
    assert res.status_code == 201
    assert await emails(client.app) == ["a@example.com"]
    res = await client.post("/accounts/flushed", json={"email": "b@example.com"})
    assert res.status_code == 201
    assert isinstance(res.json()["id"], int)
    assert (await client.get("/accounts")).json() == ["a@example.com", "b@example.com"]
    assert checked_out(client.app) == 0


async def test_failed_commit_is_an_error_and_writes_nothing(client: TestClient) -> None:
    assert (await client.post("/accounts", json={"email": "a@example.com"})).status_code == 201
    res = await client.post("/accounts", json={"email": "a@example.com"})
    assert res.status_code == 500
    assert res.json()["message"] == "Internal server error"
    assert await emails(client.app) == ["a@example.com"]
    assert checked_out(client.app) == 0


async def test_commit_time_constraint_failure_is_never_2xx(client: TestClient) -> None:
    res = await client.post("/accounts/orphan")
    assert res.status_code == 500
    async with db.session_scope(client.app, readonly=True) as session:
        assert await Child.query(session).count() == 0
    assert checked_out(client.app) == 0


@pytest.mark.parametrize(("url", "status"), [("/accounts/refused", 409), ("/accounts/crash", 500)])
async def test_exception_rolls_back(client: TestClient, url: str, status: int) -> None:
    res = await client.post(url, json={"email": "gone@example.com"})
    assert res.status_code == status
    assert await emails(client.app) == []
    assert checked_out(client.app) == 0


@pytest.mark.parametrize("url", ["/ro/flush", "/ro/autoflush", "/ro/insert", "/ro/pending"])
async def test_readonly_session_refuses_writes(client: TestClient, url: str) -> None:
    res = await client.post(f"/accounts{url}", json={"email": "ro@example.com"})
    assert res.status_code == 500
    assert await emails(client.app) == []
    assert checked_out(client.app) == 0


async def test_readonly_scope_refuses_every_dml_statement(client: TestClient) -> None:
    app = client.app
    async with db.session_scope(app) as session:
        session.add(Account(email="kept@example.com"))
    writes = [
        insert(Account).values(email="new@example.com"),
        update(Account).values(email="changed@example.com"),
        delete(Account),
    ]
    for statement in writes:
        for call in ("execute", "scalars", "scalar"):
            with pytest.raises(ReadOnlySessionError, match="read-only session"):
                async with db.session_scope(app, readonly=True) as session:
                    await getattr(session, call)(statement)
        with pytest.raises(ReadOnlySessionError):  # the sync session, as run_sync sees it
            async with db.session_scope(app, readonly=True) as session:
                await session.run_sync(lambda sync, stmt=statement: sync.scalars(stmt))
    async with db.session_scope(app, readonly=True) as session:  # reads pass
        assert (await session.scalars(select(Account.email))).all() == ["kept@example.com"]
    assert await emails(app) == ["kept@example.com"]
    async with db.session_scope(app) as session:  # a managed session may write
        assert session.sync_session.readonly is False  # type: ignore[attr-defined]
        await session.execute(update(Account).values(email="changed@example.com"))
    assert await emails(app) == ["changed@example.com"]
    assert checked_out(app) == 0


async def test_dependency_session_commits_and_rolls_back(client: TestClient) -> None:
    assert (await client.post("/accounts/di", json={"email": "d@example.com"})).status_code == 201
    res = await client.post("/accounts/di/refused", json={"email": "e@example.com"})
    assert res.status_code == 400
    dup = await client.post("/accounts/di", json={"email": "d@example.com"})
    assert dup.status_code == 500  # the commit failed after the handler returned
    assert await emails(client.app) == ["d@example.com"]
    assert (await client.get("/accounts/di/ro")).json() == {"count": 1}
    assert (await client.get("/count")).json() == {"count": 1}
    assert checked_out(client.app) == 0


async def test_cancelled_request_returns_its_connection(client: TestClient) -> None:
    app = client.app
    task = asyncio.create_task(client.get("/accounts/slow"))
    await asyncio.wait_for(app.state.entered.wait(), 10)
    assert checked_out(app) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checked_out(app) == 0
    assert await emails(app) == []


async def test_client_disconnect_returns_its_connection(client: TestClient) -> None:
    app = client.app
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/accounts/late-body",
        "raw_path": b"/accounts/late-body",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"content-length", b"10")],
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 80),
    }
    await app(scope, receive, send)
    assert sent == []  # nobody to answer
    assert checked_out(app) == 0
    assert await emails(app) == []


async def test_session_name_from_config(sql: Any) -> None:
    custom = SqlDatabase(db_name="custom", configs_name="CUSTOM_DB")

    @path("/tx")
    class Tx(Controller):
        @post("/", status_code=201)
        @custom.managed_session
        async def create(self, data: AccountIn, tx: AsyncSession) -> dict[str, Any]:
            tx.add(Account(email=data.email))
            return {}

    app = App({"CUSTOM_DB": sql.section(SESSION_NAME="tx")}, controllers=[Tx], extensions=[custom])
    async with TestClient(app) as client:
        await custom.create_all(app, Base.metadata)
        assert (await client.post("/tx", json={"email": "t@example.com"})).status_code == 201
        async with custom.session_scope(app) as session:
            assert await Account.query(session).count() == 1


async def test_session_name_mismatch_is_a_startup_error(tmp_path: Any) -> None:
    app = App(
        {
            "SQL_DATABASE": {
                "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/x.db",
                "SESSION_NAME": "tx",
            }
        },
        controllers=[Accounts],
        extensions=[db],
    )
    with pytest.raises(ImproperlyConfiguredError, match="SESSION_NAME is 'tx'"):
        await app.startup()
    with pytest.raises(ImproperlyConfiguredError, match="has not started"):
        db.engine(app)  # the failed startup disposed the engine


async def test_two_databases_in_one_handler(tmp_path: Any) -> None:
    other = SqlDatabase(db_name="other", configs_name="OTHER_DB")

    @path("/both")
    class Both(Controller):
        @post("/", status_code=201)
        @db.managed_session
        @other.managed_session
        async def create(
            self, data: AccountIn, session: AsyncSession, other_session: AsyncSession
        ) -> dict[str, Any]:
            session.add(Account(email=data.email))
            other_session.add(Account(email=data.email.upper()))
            return {}

    app = App(
        {
            "SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/one.db"},
            "OTHER_DB": {
                "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/two.db",
                "SESSION_NAME": "other_session",
            },
        },
        controllers=[Both],
        extensions=[db, other],
    )
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        await other.create_all(app, Base.metadata)
        assert (await client.post("/both", json={"email": "x@example.com"})).status_code == 201
        assert await emails(app) == ["x@example.com"]
        async with other.session_scope(app) as session:
            assert await session.scalar(select(Account.email)) == "X@EXAMPLE.COM"


def test_decorator_needs_an_async_session_parameter() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="annotated AsyncSession"):

        @db.managed_session
        async def handler(self: Any, name: str) -> None: ...

    with pytest.raises(TypeError, match="async function"):

        @db.readonly_session
        def sync_handler(self: Any, session: AsyncSession) -> None: ...  # type: ignore[type-var]


def test_decorated_signature_hides_the_session() -> None:
    import inspect

    assert "session" not in inspect.signature(Accounts.create).parameters
    assert list(inspect.signature(count_accounts).parameters) == ["request"]
