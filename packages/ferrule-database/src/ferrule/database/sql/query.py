"""``AsyncQuery``: the seed's chainable query builder on SQLAlchemy 2 ``select``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from sqlalchemy import func, select

from ferrule.core import HTTPException

from .allowlist import AllowList
from .pagination import Page, make_page, page_number

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ("AsyncQuery",)

T = TypeVar("T")


class AsyncQuery(Generic[T]):
    """A query on one model, built by chaining and run with ``await``.

    Builder methods return a new query (the original is unchanged, so a base
    query can be reused); ``count``, ``all``, ``first``, ``one`` and
    ``paginate`` execute it.

    Example:
        >>> recent = Book.query(session).where(Book.year >= 2000).order_by(Book.title)
        >>> page = await recent.paginate(page=2, per_page=20)
    """

    __slots__ = ("model", "session", "statement")

    def __init__(
        self, model: type[T], session: AsyncSession, statement: Select[Any] | None = None
    ) -> None:
        self.model = model
        self.session = session
        self.statement: Select[Any] = statement if statement is not None else select(model)

    def _with(self, statement: Select[Any]) -> Self:
        return type(self)(self.model, self.session, statement)

    # -- building --------------------------------------------------------------

    def where(self, *conditions: Any) -> Self:
        """Add WHERE conditions (``Book.year > 2000``), combined with AND."""
        return self._with(self.statement.where(*conditions))

    filter = where

    def filter_by(self, **values: Any) -> Self:
        """Add equality conditions by attribute name (names from code, not requests)."""
        return self._with(self.statement.filter_by(**values))

    def join(self, target: Any, onclause: Any = None, *, isouter: bool = False) -> Self:
        """JOIN another model (the ON clause is inferred from foreign keys if omitted)."""
        return self._with(self.statement.join(target, onclause, isouter=isouter))

    def limit(self, num: int) -> Self:
        return self._with(self.statement.limit(num))

    def offset(self, num: int) -> Self:
        return self._with(self.statement.offset(num))

    def order_by(self, *columns: Any) -> Self:
        return self._with(self.statement.order_by(*columns))

    def options(self, *options: Any) -> Self:
        """Loader options, e.g. ``selectinload(Book.author)``."""
        return self._with(self.statement.options(*options))

    def like(self, column: Any, pattern: str, escape: str | None = None) -> Self:
        """Filter with SQL ``LIKE`` (``column`` is an attribute, e.g. ``Book.title``)."""
        return self.where(self._column(column).like(pattern, escape=escape))

    def ilike(self, column: Any, pattern: str, escape: str | None = None) -> Self:
        """Filter with case-insensitive ``ILIKE`` (emulated where unsupported)."""
        return self.where(self._column(column).ilike(pattern, escape=escape))

    def order_by_param(
        self, spec: str | None, allowed: AllowList | Iterable[str] | Mapping[str, Any]
    ) -> Self:
        """Order by a request-supplied ``"title,-year"``, only through ``allowed``."""
        allow = allowed if isinstance(allowed, AllowList) else AllowList(self.model, allowed)
        clauses = allow.order_by(spec)
        return self.order_by(*clauses) if clauses else self

    def filter_by_params(
        self,
        params: Mapping[str, Any],
        allowed: AllowList | Iterable[str] | Mapping[str, Any],
        *,
        strict: bool = False,
    ) -> Self:
        """Equality filters from request values for the ``allowed`` names only."""
        allow = allowed if isinstance(allowed, AllowList) else AllowList(self.model, allowed)
        conditions = allow.filters(params, strict=strict)
        return self.where(*conditions) if conditions else self

    def _column(self, column: Any) -> Any:
        if isinstance(column, str):
            return getattr(self.model, column)
        return column

    # -- running ---------------------------------------------------------------

    async def count(self) -> int:
        """The number of rows the query matches (ordering ignored)."""
        inner = self.statement.order_by(None).subquery()
        total = await self.session.scalar(select(func.count()).select_from(inner))
        return int(total or 0)

    async def all(self) -> list[T]:
        result = await self.session.scalars(self.statement)
        return list(result.all())

    async def first(self) -> T | None:
        result = await self.session.scalars(self.statement.limit(1))
        return result.first()

    async def one(self) -> T:
        """Exactly one row; SQLAlchemy's ``NoResultFound``/``MultipleResultsFound`` if not."""
        result = await self.session.scalars(self.statement)
        row: T = result.one()
        return row

    async def one_or_none(self) -> T | None:
        result = await self.session.scalars(self.statement)
        return result.one_or_none()

    async def first_or_404(self, detail: str | None = None) -> T:
        """The first row, or stop the request with 404."""
        row: T | None = await self.first()
        if row is None:
            raise HTTPException(404, detail or f"{self.model.__name__} not found")
        return row

    async def paginate(
        self, page: int | str = 1, per_page: int | str = 10, *, max_per_page: int | None = 100
    ) -> Page[T]:
        """One page of results as ``{items, total, page, pages, per_page, has_next, has_prev}``.

        ``page`` and ``per_page`` may come straight from the query string: anything
        but a whole number >= 1 (or a ``per_page`` above ``max_per_page``) is a 400.
        """
        page_no = page_number(page, "page")
        size = page_number(per_page, "per_page", maximum=max_per_page)
        total = await self.count()
        items = await self.limit(size).offset((page_no - 1) * size).all()
        return make_page(items, total, page_no, size)

    def __repr__(self) -> str:
        return f"<AsyncQuery {self.model.__name__}: {self.statement}>"
