"""The books API: ``/api/books``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime

from ferrule.core import (
    Controller,
    ExceptionHandler,
    Request,
    Response,
    abort,
    delete,
    get,
    handles,
    patch,
    path,
    post,
    put,
)
from ferrule.core.responses import error_response
from ferrule.database import AllowList

from .extensions import db
from .models import Book
from .schemas import BookIn, BookOut, BookPage, BookPatch

#: Ids past the INTEGER column cannot exist, and the driver refuses to bind them.
MAX_ID = 2**31 - 1
SORTABLE = AllowList(Book, ["id", "title", "author", "year"])
FILTERABLE = AllowList(Book, ["author", "year", "isbn"])


@path("/api/books", tags=["Books"])
class BooksApi(Controller):
    @get("/")
    @db.readonly_session
    async def list_books(
        self,
        req: Request,
        session: AsyncSession,
        page: str = "1",
        per_page: str = "20",
        sort: str = "title",
        q: str | None = None,
    ) -> BookPage:
        """List books: ``?author=&year=&isbn=`` filters, ``?q=`` in titles, ``?sort=-year``."""
        query = Book.query(session).filter_by_params(req.query_params, FILTERABLE)
        if q:
            query = query.where(Book.title.icontains(q, autoescape=True))
        query = query.order_by_param(sort, SORTABLE).order_by(Book.id)
        result = await query.paginate(page, per_page, max_per_page=100)
        return BookPage.model_validate(result, from_attributes=True)

    @get("/<int:book_id>")
    @db.readonly_session
    async def get_book(self, book_id: int, session: AsyncSession) -> BookOut:
        """One book."""
        return BookOut.model_validate(await self._get(session, book_id))

    @post("/", status_code=201)
    @db.managed_session
    async def create_book(
        self, req: Request, data: BookIn, session: AsyncSession
    ) -> Response[BookOut]:
        """Add a book (the ISBN, when given, is unique)."""
        book = Book(**data.model_dump())
        session.add(book)
        await session.flush()  # assigns the id; the commit happens before the response
        location = req.url_for("BooksApi.get_book", book_id=book.id)
        body = BookOut.model_validate(book)
        return Response(body, status_code=201, headers={"Location": location})

    @put("/<int:book_id>")
    @db.managed_session
    async def replace_book(self, book_id: int, data: BookIn, session: AsyncSession) -> BookOut:
        """Replace every field of a book."""
        book = await self._get(session, book_id)
        for key, value in data.model_dump().items():
            setattr(book, key, value)
        await session.flush()
        return BookOut.model_validate(book)

    @patch("/<int:book_id>")
    @db.managed_session
    async def update_book(self, book_id: int, data: BookPatch, session: AsyncSession) -> BookOut:
        """Change the fields sent."""
        book = await self._get(session, book_id)
        for key, value in data.model_dump(exclude_unset=True).items():
            if value is None and key in ("title", "author"):
                abort(f"{key} cannot be null", status_code=422)
            setattr(book, key, value)
        await session.flush()
        return BookOut.model_validate(book)

    @delete("/<int:book_id>", status_code=204)
    @db.managed_session
    async def delete_book(self, book_id: int, session: AsyncSession) -> Response[Any]:
        """Remove a book."""
        await session.delete(await self._get(session, book_id))
        return Response(status_code=204)

    @staticmethod
    async def _get(session: AsyncSession, book_id: int) -> Book:
        if book_id > MAX_ID:  # querying would be a 500 (out of the driver's range)
            abort(f"Book {book_id} not found", status_code=404)
        return (
            await Book.query(session)
            .filter_by(id=book_id)
            .first_or_404(f"Book {book_id} not found")
        )


class Conflicts(ExceptionHandler):
    """A unique ISBN taken by another book: 409 instead of the generic 500."""

    @handles(IntegrityError)
    async def conflict(self, req: Request, exc: IntegrityError) -> Response[Any]:
        return error_response(409, "A book with this ISBN already exists.")
