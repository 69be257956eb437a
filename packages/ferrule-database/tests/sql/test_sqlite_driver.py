"""SQLite through aiosqlite: one driver round trip per statement, and the pool default.

The one-hop cursor (``sql/_sqlite.py``) must behave exactly like SQLAlchemy's
adapter: rows, ``rowcount``, ``lastrowid``, ``executemany``, RETURNING, errors and
their types, a closed connection seen as a disconnect, streaming.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Annotated, Any

import aiosqlite
import pytest
import sqlalchemy
from sqlalchemy import String, delete, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import App, Controller, Depends, get, path
from ferrule.core.testing import TestClient
from ferrule.database import SqlDatabase, create_declarative_base
from ferrule.database.sql._sqlite import OneHopCursor, one_hop
from ferrule.database.sql.config import SqlDatabaseConfig
from ferrule.database.sql.engine import build_engine, engine_options

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

db = SqlDatabase()
Base = create_declarative_base("sqlite_driver_tests")


class Pet(Base):
    __tablename__ = "pets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


@path("/pets")
class Pets(Controller):
    @get("/")
    async def names(
        self, session: Annotated[AsyncSession, Depends(db.session_readonly)]
    ) -> list[str]:
        return list(await session.scalars(select(Pet.name).order_by(Pet.id)))

    @get("/slow")
    async def slow(self, session: Annotated[AsyncSession, Depends(db.session_readonly)]) -> int:
        await session.execute(text("SELECT 1"))  # holds a pooled connection...
        await asyncio.sleep(0.02)  # ...while other requests queue for one
        return len(list(await session.scalars(select(Pet.id))))


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to an aiosqlite connection's thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def spy(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", spy)
    return sent


def _app(file: Path, **section: Any) -> App:
    return App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{file}", **section}},
        controllers=[Pets],
        extensions=[db],
    )


async def _seed(app: App, names: list[str]) -> None:
    """Create the table and add one pet per name (ids 1, 2, ...)."""
    await db.create_all(app, Base.metadata)
    async with db.session_scope(app) as session:
        session.add_all([Pet(name=name) for name in names])


def _rows(file: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(file) as conn:
        return conn.execute("SELECT id, name FROM pets ORDER BY id").fetchall()


async def test_a_read_is_one_trip_to_the_driver_thread(tmp_path: Path, trips: list[str]) -> None:
    app = _app(tmp_path / "p.db")
    async with TestClient(app) as client:
        await _seed(app, ["rex", "tom"])
        trips.clear()
        response = await client.get("/pets")
        assert response.status_code == 200
        assert response.json() == ["rex", "tom"]
        # SQLAlchemy's adapter sends cursor(), execute(), fetchall() and close():
        assert trips == ["_run"]


async def test_writes_report_ids_and_row_counts(tmp_path: Path, trips: list[str]) -> None:
    file = tmp_path / "w.db"
    app = _app(file)
    async with TestClient(app):
        await db.create_all(app, Base.metadata)
        async with db.session_scope(app) as session:
            pet = Pet(name="rex")
            session.add(pet)
            trips.clear()
            await session.flush()  # the INSERT: the id comes from cursor.lastrowid
            assert trips == ["_run"]
            assert pet.id == 1
            # executemany
            await session.execute(insert(Pet), [{"name": "tom"}, {"name": "kit"}])
            # RETURNING rows come back through the same single trip
            new_id = await session.scalar(insert(Pet).values(name="ada").returning(Pet.id))
            assert new_id == 4
            renamed = await session.execute(
                update(Pet).where(Pet.id > 2).values(name=Pet.name + "!")
            )
            assert renamed.rowcount == 2  # type: ignore[attr-defined]
            gone = await session.execute(delete(Pet).where(Pet.name == "tom"))
            assert gone.rowcount == 1  # type: ignore[attr-defined]
        assert _rows(file) == [(1, "rex"), (3, "kit!"), (4, "ada!")]


async def test_result_fetching_partitions_the_rows(tmp_path: Path) -> None:
    app = _app(tmp_path / "f.db")
    async with TestClient(app):
        await _seed(app, [f"pet{i}" for i in range(1, 6)])
        async with db.engine(app).connect() as conn:
            result = await conn.execute(select(Pet.id).order_by(Pet.id))
            assert result.fetchone() == (1,)
            assert result.fetchmany(2) == [(2,), (3,)]
            assert result.fetchall() == [(4,), (5,)]
            assert result.fetchone() is None
            empty = await conn.execute(select(Pet.id).where(Pet.id > 99))
            assert empty.all() == []
            assert list(await conn.execute(text("SELECT 7 AS seven"))) == [(7,)]


async def test_errors_keep_their_types_and_the_connection_works(tmp_path: Path) -> None:
    file = tmp_path / "e.db"
    app = _app(file)
    async with TestClient(app):
        await _seed(app, ["rex"])
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
            async with db.session_scope(app) as session:
                session.add(Pet(name="rex"))
        with pytest.raises(OperationalError, match="no such table"):
            async with db.engine(app).connect() as conn:
                await conn.execute(text("SELECT * FROM nowhere"))
        async with db.session_scope(app) as session:  # the pool's connections still work
            session.add(Pet(name="tom"))
        assert _rows(file) == [(1, "rex"), (2, "tom")]


@pytest.mark.skipif(
    tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2]) < (2, 1),
    reason="SQLAlchemy 2.0's aiosqlite adapter reports a closed connection as a plain "
    "ValueError, on its own cursor too (2.1 translates it to a disconnect)",
)
async def test_a_closed_driver_connection_is_a_disconnect(tmp_path: Path) -> None:
    app = _app(tmp_path / "c.db")
    async with TestClient(app):
        engine = db.engine(app)
        conn = await engine.connect()
        raw = await conn.get_raw_connection()
        await raw.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(OperationalError) as caught:
            await conn.execute(text("SELECT 1"))
        assert caught.value.connection_invalidated  # -> 503 and a fresh connection (D3)
        await conn.close()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1


async def test_streaming_keeps_the_server_side_cursor(tmp_path: Path) -> None:
    app = _app(tmp_path / "s.db")
    async with TestClient(app):
        await _seed(app, [f"pet{i}" for i in range(1, 251)])
        async with db.engine(app).connect() as conn:
            stream = await conn.stream(select(Pet.id).order_by(Pet.id))
            assert not isinstance(stream._real_result.cursor, OneHopCursor)  # type: ignore[attr-defined]
            seen = [row.id async for row in stream]
        assert seen == list(range(1, 251))
        async with db.engine(app).connect() as conn:
            plain = await conn.execute(select(Pet.id))
            assert isinstance(plain.cursor, OneHopCursor)  # type: ignore[attr-defined]


def test_other_connections_are_left_alone() -> None:
    class Plain:
        pass

    thing = Plain()
    assert one_hop(thing) is thing
    assert type(thing) is Plain


# -- the pool of a SQLite file ----------------------------------------------------------


@pytest.fixture
def opened() -> Iterator[list[object]]:
    """Every DBAPI connection opened by an engine built while the fixture is active."""
    from sqlalchemy.engine import Engine

    seen: list[object] = []

    def on_connect(dbapi_connection: object, record: object) -> None:
        seen.append(dbapi_connection)

    event.listen(Engine, "connect", on_connect)
    yield seen
    event.remove(Engine, "connect", on_connect)


async def test_sqlite_file_pool_keeps_its_size_under_load(
    tmp_path: Path, opened: list[object]
) -> None:
    app = _app(tmp_path / "l.db", POOL_SIZE=2)
    async with TestClient(app) as client:
        await _seed(app, ["rex"])
        responses = await asyncio.gather(*(client.get("/pets/slow") for _ in range(12)))
        assert [r.status_code for r in responses] == [200] * 12
        assert {r.json() for r in responses} == {1}
        # No overflow: the 12 requests shared the pool's two connections.
        assert len(opened) == 2
        assert db.engine(app).pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_max_overflow_set_explicitly_is_used(tmp_path: Path, opened: list[object]) -> None:
    app = _app(tmp_path / "o.db", POOL_SIZE=1, MAX_OVERFLOW=3)
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        responses = await asyncio.gather(*(client.get("/pets/slow") for _ in range(8)))
        assert [r.status_code for r in responses] == [200] * 8
        assert 2 <= len(opened) <= 4  # overflow connections were opened for the burst


@pytest.mark.parametrize(
    ("uri", "overflow"),
    [
        ("sqlite+aiosqlite:///./app.db", 0),
        ("sqlite+aiosqlite://", None),  # in memory: a StaticPool takes no sizes
        ("sqlite+aiosqlite:///:memory:", None),
        ("postgresql+asyncpg://app@db.internal/app", None),  # SQLAlchemy's 10
    ],
)
def test_max_overflow_default(uri: str, overflow: int | None) -> None:
    settings = SqlDatabaseConfig(DATABASE_URI=uri)
    assert engine_options(settings).get("max_overflow") == overflow
    build_engine(settings, "SQL_DATABASE")  # valid options for that pool


def test_an_explicit_pool_class_gets_no_overflow_default() -> None:
    from sqlalchemy.pool import NullPool

    settings = SqlDatabaseConfig(ENGINE_OPTIONS={"poolclass": NullPool})
    assert "max_overflow" not in engine_options(settings)
    assert isinstance(build_engine(settings, "SQL_DATABASE").pool, NullPool)


async def test_a_raw_dbapi_cursor_works_as_a_context_manager(tmp_path: Path) -> None:
    app = _app(tmp_path / "r.db")
    async with TestClient(app), db.engine(app).connect() as conn:

        def raw_use(sync_conn: Any) -> list[Any]:
            dbapi = sync_conn.connection.dbapi_connection
            with dbapi.cursor() as cursor:
                assert cursor.execute("SELECT 1 UNION ALL SELECT 2") is cursor
                assert cursor.nextset() is None
                return list(cursor.fetchall())

        assert await conn.run_sync(raw_use) == [(1,), (2,)]
