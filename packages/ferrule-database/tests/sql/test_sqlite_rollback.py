"""SQLite: a rollback with no open transaction costs no trip to the driver's thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import aiosqlite
import pytest
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import App, Controller, Depends, get, path, post
from ferrule.core.testing import TestClient
from ferrule.database import SqlDatabase, create_declarative_base

if TYPE_CHECKING:
    from pathlib import Path

db = SqlDatabase()
Base = create_declarative_base("sqlite_rollback_tests")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


@path("/notes")
class Notes(Controller):
    @get("/")
    async def count(self, session: Annotated[AsyncSession, Depends(db.session_readonly)]) -> int:
        return int(await session.scalar(select(func.count()).select_from(Note)) or 0)

    @post("/", status_code=201)
    async def add(self, session: Annotated[AsyncSession, Depends(db.session)]) -> int:
        session.add(Note(body="kept"))
        return 1

    @post("/crash")
    async def crash(self, session: Annotated[AsyncSession, Depends(db.session)]) -> int:
        session.add(Note(body="lost"))
        await session.flush()  # the INSERT ran: a transaction is open
        raise RuntimeError("after the insert")


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per ROLLBACK that reached aiosqlite: whether a transaction was open."""
    calls: list[bool] = []
    original = aiosqlite.Connection.rollback

    async def spy(self: aiosqlite.Connection) -> None:
        calls.append(self.in_transaction)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", spy)
    return calls


async def test_reads_and_commits_skip_the_idle_rollback(
    tmp_path: Path, rollbacks: list[bool]
) -> None:
    app = App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/n.db"}},
        controllers=[Notes],
        extensions=[db],
    )
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        rollbacks.clear()
        assert (await client.get("/notes")).json() == 0
        assert (await client.post("/notes")).status_code == 201
        assert (await client.get("/notes")).json() == 1
        # Session ends and pool check-ins all rolled back "nothing": none reached the driver.
        assert rollbacks == []

        # A write that fails after its INSERT: the rollback runs and undoes it.
        crashed = await client.post("/notes/crash")
        assert crashed.status_code == 500
        assert rollbacks == [True]
        assert (await client.get("/notes")).json() == 1
        assert db.engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]


def test_other_dialects_keep_their_rollback() -> None:
    from ferrule.database.sql.config import SqlDatabaseConfig
    from ferrule.database.sql.engine import build_engine

    settings = SqlDatabaseConfig(DATABASE_URI="postgresql+asyncpg://app@db.internal/app")
    engine = build_engine(settings, "SQL_DATABASE")
    assert "do_rollback" not in vars(engine.sync_engine.dialect)
    sqlite_engine = build_engine(SqlDatabaseConfig(), "SQL_DATABASE")
    assert "do_rollback" in vars(sqlite_engine.sync_engine.dialect)
