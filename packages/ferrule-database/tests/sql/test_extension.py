"""SqlDatabase lifecycle: engine per app, startup/shutdown order, several databases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import App, Controller, Extension, ImproperlyConfiguredError, get, path, post
from ferrule.core.testing import TestClient
from ferrule.database import SqlDatabase, create_declarative_base

if TYPE_CHECKING:
    from pathlib import Path

main_db = SqlDatabase()
analytics = SqlDatabase(db_name="analytics", configs_name="ANALYTICS_DB")
MainBase = create_declarative_base("extension_main")
AnalyticsBase = create_declarative_base("extension_analytics")


class Item(MainBase):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Event(AnalyticsBase):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))


@path("/items")
class Items(Controller):
    @post("/<name>", status_code=201)
    @main_db.managed_session
    @analytics.managed_session
    async def create(
        self, name: str, session: AsyncSession, analytics_session: AsyncSession
    ) -> dict[str, str]:
        session.add(Item(name=name))
        analytics_session.add(Event(kind=f"created:{name}"))
        return {"name": name}

    @get("/")
    @analytics.readonly_session
    async def events(self, analytics_session: AsyncSession) -> list[str]:
        return list((await analytics_session.scalars(select(Event.kind))).all())


def two_db_app(tmp_path: Path, target: Any) -> App:
    analytics_section = target.section(SESSION_NAME="analytics_session")
    if target.backend == "sqlite":
        analytics_section["DATABASE_URI"] = f"sqlite+aiosqlite:///{tmp_path}/analytics.db"
    return App(
        {
            "SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/main.db"},
            "ANALYTICS_DB": analytics_section,
        },
        controllers=[Items],
        extensions=[main_db, analytics],
    )


async def test_engine_lives_between_startup_and_shutdown(tmp_path: Path) -> None:
    db = SqlDatabase()
    app = App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/a.db"}}, extensions=[db]
    )
    with pytest.raises(ImproperlyConfiguredError, match="has not started"):
        db.engine(app)
    async with app.lifespan():
        engine = db.engine(app)
        assert await db.ping(app)
    with pytest.raises(ImproperlyConfiguredError, match="has not started"):
        db.engine(app)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_extensions_start_before_app_hooks(tmp_path: Path) -> None:
    db = SqlDatabase()
    seen: list[str] = []

    class Recorder(Extension):
        async def startup(self, app: App) -> None:
            seen.append("recorder up")

        async def shutdown(self, app: App) -> None:
            seen.append(f"recorder down, engine gone: {'engine' not in db.state(app).data}")

    app = App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/o.db"}},
        extensions=[db, Recorder()],
    )

    @app.on_startup
    async def hook() -> None:
        seen.append(f"hook, ping={await db.ping(app)}")

    async with app.lifespan():
        pass
    assert seen == ["recorder up", "hook, ping=True", "recorder down, engine gone: False"]


async def test_one_extension_object_serves_two_apps(tmp_path: Path) -> None:
    db = SqlDatabase()
    one = App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/1.db"}}, extensions=[db]
    )
    two = App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/2.db"}}, extensions=[db]
    )
    async with one.lifespan(), two.lifespan():
        assert db.engine(one) is not db.engine(two)
        assert str(db.engine(one).url).endswith("1.db")
        assert str(db.engine(two).url).endswith("2.db")


async def test_several_databases(tmp_path: Path, sql: Any) -> None:
    """The main database on SQLite, the analytics one on SQLite or PostgreSQL."""
    app = two_db_app(tmp_path, sql)
    async with TestClient(app) as client:
        await main_db.create_all(app, MainBase.metadata)
        await analytics.create_all(app, AnalyticsBase.metadata)
        assert (await client.post("/items/pen")).status_code == 201
        assert (await client.get("/items")).json() == ["created:pen"]
        async with main_db.session_scope(app) as session:
            assert list((await session.scalars(select(Item.name))).all()) == ["pen"]
        ready = await client.get("/readyz")
        assert ready.json()["checks"] == {"database": "ok", "database:analytics": "ok"}


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="Two extensions are named 'db'"):
        App(extensions=[SqlDatabase(), SqlDatabase(configs_name="OTHER")])


def test_engine_of_unregistered_app() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="is not registered"):
        SqlDatabase().engine(App())


async def test_handler_using_an_unregistered_database(tmp_path: Path) -> None:
    app = App(
        {"SQL_DATABASE": {"DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/u.db"}},
        controllers=[Items],
        extensions=[main_db],
    )
    with pytest.raises(ImproperlyConfiguredError, match="not registered on the app"):
        await app.startup()
