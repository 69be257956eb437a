"""Database models."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ferrule.database import QueryMixin


class Base(QueryMixin, DeclarativeBase):
    """Base of the models of the ``db`` database."""

    __ferrule_db__ = "db"


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    author: Mapped[str] = mapped_column(String(200), index=True)
    year: Mapped[int | None]
    isbn: Mapped[str | None] = mapped_column(String(17), unique=True)
