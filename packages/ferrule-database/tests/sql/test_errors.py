"""Failures: an unreachable database is a 503 with Retry-After, and it recovers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import String, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import App, Controller, Request, get, path, post
from ferrule.core.testing import TestClient
from ferrule.database import DatabaseUnavailableError, SqlDatabase, create_declarative_base
from ferrule.database.sql import is_unavailable

if TYPE_CHECKING:
    from pathlib import Path

db = SqlDatabase()
Base = create_declarative_base("errors_tests")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(200))


class NoteIn(BaseModel):
    body: str


@path("/notes")
class Notes(Controller):
    @get("/")
    @db.readonly_session
    async def count(self, session: AsyncSession) -> dict[str, int]:
        return {"count": await Note.query(session).count()}

    @post("/", status_code=201)
    @db.managed_session
    async def create(self, data: NoteIn, session: AsyncSession) -> dict[str, Any]:
        session.add(Note(body=data.body))
        return {"body": data.body}

    @post("/interrupted", status_code=201)
    @db.managed_session
    async def interrupted(
        self, req: Request, data: NoteIn, session: AsyncSession
    ) -> dict[str, Any]:
        session.add(Note(body=data.body))
        await session.flush()  # written inside the transaction...
        await req.app.state.interrupt()  # ...then the server goes away
        await session.execute(select(1))
        return {}

    @get("/broken-sql")
    @db.readonly_session
    async def broken(self, session: AsyncSession) -> dict[str, Any]:
        await session.execute(text("SELECT * FROM no_such_table"))
        return {}


def make_app(section: dict[str, Any]) -> App:
    return App({"SQL_DATABASE": section}, controllers=[Notes], extensions=[db])


def assert_unavailable(res: Any, retry_after: str = "5") -> None:
    assert res.status_code == 503
    assert res.headers["retry-after"] == retry_after
    body = res.json()
    assert body["status"] == "error"
    assert "temporarily unavailable" in body["message"]


async def test_sqlite_unreachable_then_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    app = make_app({"DATABASE_URI": f"sqlite+aiosqlite:///{folder}/app.db", "RETRY_AFTER": 7})
    async with TestClient(app) as client:
        assert_unavailable(await client.get("/notes"), "7")
        assert_unavailable(await client.post("/notes", json={"body": "x"}), "7")
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error")
        folder.mkdir()  # the database becomes reachable
        await db.create_all(app, Base.metadata)
        assert (await client.post("/notes", json={"body": "x"})).status_code == 201
        assert (await client.get("/notes")).json() == {"count": 1}
        assert (await client.get("/readyz")).json()["checks"] == {"database": "ok"}
        assert db.engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_postgres_down_then_back(pg_target: Any, pg_proxy: Any) -> None:
    section = pg_target.section(
        DATABASE_URI=f"postgresql+asyncpg://postgres@127.0.0.1:{pg_proxy.port}/test"
    )
    app = make_app(section)
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        assert (await client.post("/notes", json={"body": "one"})).status_code == 201

        await pg_proxy.stop()  # the server goes away
        assert_unavailable(await client.get("/notes"))
        assert_unavailable(await client.post("/notes", json={"body": "lost"}))
        assert (await client.get("/readyz")).status_code == 503

        await pg_proxy.start()  # and comes back on the same address
        assert (await client.get("/notes")).json() == {"count": 1}
        assert (await client.get("/readyz")).status_code == 200
        assert db.engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_postgres_dropped_connections_are_replaced(pg_target: Any, pg_proxy: Any) -> None:
    """Pooled connections cut by a restart: pre-ping notices and reconnects."""
    section = pg_target.section(
        DATABASE_URI=f"postgresql+asyncpg://postgres@127.0.0.1:{pg_proxy.port}/test"
    )
    app = make_app(section)
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        assert (await client.get("/notes")).status_code == 200  # a pooled connection exists
        await pg_proxy.cut()
        assert (await client.get("/notes")).json() == {"count": 0}


async def test_postgres_connection_lost_mid_request_writes_nothing(
    pg_target: Any, pg_proxy: Any
) -> None:
    section = pg_target.section(
        DATABASE_URI=f"postgresql+asyncpg://postgres@127.0.0.1:{pg_proxy.port}/test"
    )
    app = make_app(section)
    app.state.interrupt = pg_proxy.cut
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        res = await client.post("/notes/interrupted", json={"body": "half"})
        assert_unavailable(res)
        await asyncio.sleep(0.1)
        assert (await client.get("/notes")).json() == {"count": 0}
        assert db.engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_postgres_closed_port(pg_target: Any) -> None:
    app = make_app(pg_target.section(DATABASE_URI="postgresql+asyncpg://postgres@127.0.0.1:9/test"))
    async with TestClient(app) as client:
        assert_unavailable(await client.get("/notes"))


async def test_other_database_errors_are_500(sql: Any) -> None:
    app = make_app(sql.section())
    async with TestClient(app) as client:
        res = await client.get("/notes/broken-sql")
        assert res.status_code == 500
        assert res.json()["message"] == "Internal server error"
        assert "retry-after" not in res.headers


async def test_debug_500_carries_the_exception(tmp_path: Path) -> None:
    app = App(
        {"DEBUG": True, "SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/d.db"}},
        controllers=[Notes],
        extensions=[db],
    )
    async with TestClient(app) as client:
        res = await client.get("/notes/broken-sql")
        assert res.status_code == 500
        assert "no_such_table" in res.json()["data"]["exception"]


def test_is_unavailable_classification() -> None:
    locked = OperationalError("SELECT 1", {}, Exception("database is locked"))
    missing = OperationalError("SELECT 1", {}, Exception("no such table: x"))
    assert is_unavailable(locked)
    assert not is_unavailable(missing)
    assert not is_unavailable(ValueError("x"))


async def test_readiness_reports_ok(tmp_path: Path) -> None:
    app = make_app({"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/r.db"})
    async with TestClient(app) as client:
        res = await client.get("/readyz")
        assert res.status_code == 200
        assert res.json()["checks"] == {"database": "ok"}


async def test_handlers_can_raise_database_unavailable(tmp_path: Path) -> None:
    async def maintenance() -> dict[str, str]:
        raise DatabaseUnavailableError("Down for maintenance until 06:00.", retry_after=600)

    app = make_app({"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/m.db"})
    app.add_route("/maintenance", maintenance)
    async with TestClient(app) as client:
        res = await client.get("/maintenance")
        assert res.status_code == 503
        assert res.headers["retry-after"] == "600"
        assert res.json()["message"] == "Down for maintenance until 06:00."
