"""The ``Migrations`` API: database lookup, directories, async use."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import App, ImproperlyConfiguredError
from ferrule.database import SqlDatabase, create_declarative_base
from ferrule.database.migrate import Migrations, find_database

Base = create_declarative_base("commands_test")


class Gizmo(Base):
    __tablename__ = "gizmos"
    id: Mapped[int] = mapped_column(primary_key=True)


def app_with(tmp_path: Path, *dbs: SqlDatabase) -> App:
    config = {
        db.config_key: {
            "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/{db.name}.db",
            "ALEMBIC_MIGRATION_DIR": str(tmp_path / f"mig_{db.name}"),
        }
        for db in dbs
    }
    return App(config, extensions=list(dbs))


def test_find_database(tmp_path: Path) -> None:
    main, other = SqlDatabase(), SqlDatabase(db_name="other", configs_name="OTHER_DB")
    with pytest.raises(ImproperlyConfiguredError, match="no SqlDatabase"):
        find_database(App())
    only_other = app_with(tmp_path, other)
    assert find_database(only_other) is other
    both = app_with(tmp_path, main, other)
    assert find_database(both) is main
    assert find_database(both, "other") is other
    with pytest.raises(ImproperlyConfiguredError, match="databases: db, other"):
        find_database(both, "x")
    third = SqlDatabase(db_name="third", configs_name="THIRD_DB")
    with pytest.raises(ImproperlyConfiguredError, match="--db NAME"):
        find_database(app_with(tmp_path, other, third))


def test_default_directories() -> None:
    main, other = SqlDatabase(), SqlDatabase(db_name="other", configs_name="OTHER_DB")
    app = App(extensions=[main, other])
    assert Migrations(app).directory == Path("migrations")
    assert Migrations(app, "other").directory == Path("migrations_other")


def test_url_with_percent_is_escaped_for_alembic(tmp_path: Path) -> None:
    db = SqlDatabase()
    app = App(
        {"SQL_DATABASE": {"DATABASE_URI": "postgresql+asyncpg://u:p%40ss@h/d"}}, extensions=[db]
    )
    assert Migrations(app).config().get_main_option("sqlalchemy.url") == (
        "postgresql+asyncpg://u:p%40ss@h/d"
    )


async def test_upgrade_async_inside_a_running_loop(tmp_path: Path) -> None:
    db = SqlDatabase(db_name="commands_test", configs_name="CT")
    app = App(
        {
            "CT": {
                "DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/c.db",
                "ALEMBIC_MIGRATION_DIR": str(tmp_path / "mig"),
            }
        },
        extensions=[db],
    )
    migrations = Migrations(app)
    migrations.init()
    with pytest.raises(RuntimeError, match="upgrade_async"):
        migrations.upgrade()
    # Autogenerate needs no running loop either: do it in a thread, as a CLI would.
    import anyio.to_thread

    await anyio.to_thread.run_sync(migrations.migrate, "gizmos")
    await migrations.upgrade_async()
    async with app.lifespan(), db.engine(app).connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert "gizmos" in tables
    assert version
