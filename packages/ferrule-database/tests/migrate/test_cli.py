"""``ferrule db ...`` end to end, on SQLite and PostgreSQL, checking the real schema."""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from ferrule.core.cli import main

if TYPE_CHECKING:
    from pathlib import Path

MODELS_V1 = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from ferrule.database import create_declarative_base

Base = create_declarative_base("migrations_test")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
"""
MODELS_V2 = MODELS_V1 + "    year: Mapped[int | None]\n"

APP = """
from ferrule.core import App
from ferrule.database import SqlDatabase

db = SqlDatabase()
app = App(
    {{"SQL_DATABASE": {{
        "DATABASE_URI": {uri!r},
        "ENGINE_OPTIONS": {options!r},
        "MODELS": ["{models}:Base"],
        "ALEMBIC_MIGRATION_DIR": {directory!r},
    }}}},
    extensions=[db],
)
"""


class Project:
    """An app and its models written into tmp_path, driven through the CLI."""

    def __init__(self, root: Path, target: Any) -> None:
        self.root = root
        self.target = target
        suffix = uuid.uuid4().hex[:8]
        self.models = f"mig_models_{suffix}"
        self.app = f"mig_app_{suffix}"
        self.directory = root / "migrations"
        (root / f"{self.models}.py").write_text(MODELS_V1)
        (root / f"{self.app}.py").write_text(
            APP.format(
                uri=target.uri,
                options=target.engine_options,
                models=self.models,
                directory=str(self.directory),
            )
        )

    def run(self, *args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(main, ["db", *args, "--app", f"{self.app}:app"])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def change_models(self, source: str) -> None:
        (self.root / f"{self.models}.py").write_text(source)
        importlib.reload(sys.modules[self.models])

    def schema(self) -> dict[str, list[str]]:
        """Table -> column names, read from the real database."""

        async def read() -> dict[str, list[str]]:
            engine = create_async_engine(self.target.uri, **self.target.engine_options)
            try:
                async with engine.connect() as conn:

                    def tables(sync_conn: Any) -> dict[str, list[str]]:
                        insp = inspect(sync_conn)
                        return {
                            t: sorted(c["name"] for c in insp.get_columns(t))
                            for t in insp.get_table_names()
                        }

                    return await conn.run_sync(tables)
            finally:
                await engine.dispose()

        return asyncio.run(read())


@pytest.fixture
def project(sql: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    project = Project(tmp_path, sql)
    yield project
    for name in (project.models, project.app):
        sys.modules.pop(name, None)


def revision_of(output: str) -> str:
    match = re.search(r"versions/([0-9a-f]+)_", output)
    assert match, output
    return match.group(1)


def test_migrations_end_to_end(project: Project) -> None:
    result = project.run("init")
    assert "Created the migration directory" in result.output
    assert (project.directory / "env.py").is_file()
    assert (project.directory / "versions").is_dir()

    first = project.run("migrate", "-m", "create books")
    rev1 = revision_of(first.output)
    script = next((project.directory / "versions").glob(f"{rev1}_*.py")).read_text()
    assert re.search(r"op\.create_table\(\s*['\"]books['\"]", script)
    assert "books" not in project.schema()  # written, not applied

    project.run("upgrade")
    schema = project.schema()
    assert schema["books"] == ["id", "title"]
    assert "alembic_version" in schema
    assert rev1 in project.run("current").output

    project.change_models(MODELS_V2)
    second = project.run("migrate", "-m", "add year")
    rev2 = revision_of(second.output)
    script2 = next((project.directory / "versions").glob(f"{rev2}_*.py")).read_text()
    assert "add_column" in script2
    assert "'year'" in script2
    assert project.schema()["books"] == ["id", "title"]

    project.run("upgrade", "head")
    assert project.schema()["books"] == ["id", "title", "year"]
    assert "No changes in the schema detected" in project.run("migrate", "-m", "noop").output
    assert len(list((project.directory / "versions").glob("*.py"))) == 2

    history = project.run("history", "--verbose", "--indicate-current").output
    assert rev1 in history
    assert rev2 in history
    assert "(current)" in history
    assert rev2 in project.run("heads").output
    assert "create books" in project.run("show", rev1).output

    project.run("downgrade")  # -1
    assert project.schema()["books"] == ["id", "title"]
    assert rev1 in project.run("current").output

    project.run("downgrade", "base")
    assert "books" not in project.schema()

    project.run("stamp", rev2)  # record without running
    assert rev2 in project.run("current").output
    assert "books" not in project.schema()


def test_cli_errors(project: Project) -> None:
    missing = project.run("upgrade", ok=False)
    assert missing.exit_code != 0
    assert "ferrule db init" in missing.output
    project.run("init")
    again = project.run("init", ok=False)
    assert "already exists and is not empty" in again.output
    unknown = project.run("upgrade", "--db", "nope", ok=False)
    assert "no database named 'nope'" in unknown.output
    bad_rev = project.run("show", "deadbeef", ok=False)
    assert bad_rev.exit_code != 0
    assert "deadbeef" in bad_rev.output
