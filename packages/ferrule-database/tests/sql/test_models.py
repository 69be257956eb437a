"""Declarative bases per database name and the metadata migrations use."""

from __future__ import annotations

import sys
import types

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ferrule.core import App
from ferrule.database import QueryMixin, SqlDatabase, create_declarative_base
from ferrule.database.sql.models import metadata_for
from ferrule.database.sql.query import AsyncQuery


def test_create_declarative_base_registers_by_name() -> None:
    Base = create_declarative_base("models_a")

    class Thing(Base):
        __tablename__ = "things"
        id: Mapped[int] = mapped_column(primary_key=True)

    assert metadata_for("models_a") is Base.metadata
    assert "things" in Base.metadata.tables
    assert issubclass(Base, DeclarativeBase)
    assert isinstance(Thing.query(None), AsyncQuery)  # type: ignore[arg-type]
    # A new base for the same name replaces the old one (e.g. a reloaded module).
    Again = create_declarative_base("models_a")
    assert metadata_for("models_a") is Again.metadata
    assert metadata_for("never-created") is None


def test_class_form_for_type_checkers() -> None:
    class Base(QueryMixin, DeclarativeBase):
        __ferrule_db__ = "models_b"

    class Gadget(Base):
        __tablename__ = "gadgets"
        id: Mapped[int] = mapped_column(primary_key=True)

    assert metadata_for("models_b") is Base.metadata
    assert Gadget.query(None).model is Gadget  # type: ignore[arg-type]


def test_metadata_from_models_setting(monkeypatch: object) -> None:
    module = types.ModuleType("ferrule_models_fixture")
    Base = create_declarative_base("models_c")

    class Widget(Base):
        __tablename__ = "widgets"
        id: Mapped[int] = mapped_column(primary_key=True)

    module.Widget = Widget  # type: ignore[attr-defined]
    module.extra = MetaData()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        db = SqlDatabase(db_name="models_c", configs_name="MC")
        app = App(
            {
                "MC": {
                    "MODELS": [
                        "ferrule_models_fixture:Widget",
                        "ferrule_models_fixture:extra",
                        "ferrule_models_fixture",
                    ]
                }
            },
            extensions=[db],
        )
        assert db.metadata(app) == [Base.metadata, module.extra]  # type: ignore[attr-defined]
        # Without MODELS: the base registered for the database's name.
        db2 = SqlDatabase(db_name="models_c", configs_name="MC2")
        assert db2.metadata(App(extensions=[db2])) == [Base.metadata]
    finally:
        del sys.modules[module.__name__]
