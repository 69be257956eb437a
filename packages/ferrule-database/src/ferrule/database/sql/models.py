"""Declarative bases bound to a database name, with ``Model.query(session)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from sqlalchemy.orm import DeclarativeBase

from .query import AsyncQuery

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ("QueryMixin", "create_declarative_base", "metadata_for")

# db_name -> the most recently created declarative base for that database. Class
# definitions are process-wide (like SQLAlchemy's own registries); app state is not.
_BASES: dict[str, type[DeclarativeBase]] = {}


class QueryMixin:
    """Adds ``Model.query(session)`` to a declarative base.

    Use it directly when you prefer a class statement (type checkers understand
    it; they cannot see through ``create_declarative_base``):

    Example:
        >>> class Base(QueryMixin, DeclarativeBase):
        ...     __ferrule_db__ = "db"
    """

    __ferrule_db__: ClassVar[str] = "db"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if DeclarativeBase in cls.__bases__:
            _BASES[cls.__dict__.get("__ferrule_db__", "db")] = cls  # type: ignore[assignment]

    @classmethod
    def query(cls, session: AsyncSession) -> AsyncQuery[Self]:
        """Start a query on this model in ``session``.

        Example:
            >>> book = await Book.query(session).filter_by(id=7).first()
        """
        return AsyncQuery(cls, session)


def create_declarative_base(db_name: str = "db") -> type[DeclarativeBase]:
    """Create the declarative base of the database named ``db_name``.

    All models of one database derive from its base; its ``metadata`` is what
    migrations autogenerate from when the database lists no ``MODELS``.

    Example:
        >>> Base = create_declarative_base("db")
        >>> class User(Base):
        ...     __tablename__ = "users"
        ...     id: Mapped[int] = mapped_column(primary_key=True)
    """
    return type("Base", (QueryMixin, DeclarativeBase), {"__ferrule_db__": db_name})


def metadata_for(db_name: str) -> MetaData | None:
    """The metadata of the last declarative base created for ``db_name``, if any."""
    base = _BASES.get(db_name)
    return base.metadata if base is not None else None
