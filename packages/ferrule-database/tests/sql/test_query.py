"""AsyncQuery, pagination and allow-listed ordering/filtering, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ForeignKey, String
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - handler hints resolve at runtime
from sqlalchemy.orm import Mapped, mapped_column

from ferrule.core import App, Controller, HTTPException, Request, get, path
from ferrule.core.testing import TestClient
from ferrule.database import AllowList, SqlDatabase, create_declarative_base
from ferrule.database.sql.pagination import MAX_PAGE_NUMBER, page_number

db = SqlDatabase()
Base = create_declarative_base("query_tests")


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    year: Mapped[int]
    secret: Mapped[str] = mapped_column(String(50), default="hidden")
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))


BOOKS = [
    ("Dune", 1965, "Frank Herbert"),
    ("Children of Dune", 1976, "Frank Herbert"),
    ("Neuromancer", 1984, "William Gibson"),
    ("Count Zero", 1986, "William Gibson"),
    ("Hyperion", 1989, "Dan Simmons"),
]
SORTABLE = AllowList(Book, ["title", "year"])


def titles(books: list[Book]) -> list[str]:
    return [b.title for b in books]


@path("/books")
class Books(Controller):
    @get("/")
    @db.readonly_session
    async def listing(
        self,
        req: Request,
        session: AsyncSession,
        page: str = "1",
        per_page: str = "2",
        sort: str | None = None,
    ) -> dict[str, Any]:
        query = Book.query(session).filter_by_params(req.query_params, ["year", "author_id"])
        query = query.order_by_param(sort, SORTABLE).order_by(Book.id)
        result = await query.paginate(page, per_page, max_per_page=3)
        return {**result, "items": titles(result["items"])}

    @get("/<int:book_id>")
    @db.readonly_session
    async def one(self, book_id: int, session: AsyncSession) -> dict[str, Any]:
        book = await Book.query(session).filter_by(id=book_id).first_or_404()
        return {"title": book.title}


@pytest.fixture
async def client(sql: Any) -> Any:
    app = App({"SQL_DATABASE": sql.section()}, controllers=[Books], extensions=[db])
    async with TestClient(app) as client:
        await db.create_all(app, Base.metadata)
        async with db.session_scope(app) as session:
            authors: dict[str, Author] = {}
            for title, year, name in BOOKS:
                author = authors.setdefault(name, Author(name=name))
                session.add(author)
                await session.flush()
                session.add(Book(title=title, year=year, author_id=author.id))
        yield client


@pytest.fixture
async def session(client: TestClient) -> Any:
    async with db.session_scope(client.app, readonly=True) as session:
        yield session


async def test_builders_and_terminals(session: AsyncSession) -> None:
    q = Book.query(session)
    assert await q.count() == 5
    assert titles(await q.where(Book.year > 1980).order_by(Book.year).all()) == [
        "Neuromancer",
        "Count Zero",
        "Hyperion",
    ]
    assert titles(await q.filter(Book.year < 1970, Book.title == "Dune").all()) == ["Dune"]
    assert (await q.filter_by(title="Hyperion").one()).year == 1989
    assert await q.filter_by(title="Nope").first() is None
    assert await q.filter_by(title="Nope").one_or_none() is None
    assert titles(await q.order_by(Book.year.desc()).limit(2).all()) == ["Hyperion", "Count Zero"]
    assert titles(await q.order_by(Book.year).offset(3).all()) == ["Count Zero", "Hyperion"]
    assert titles(await q.like(Book.title, "%Dune").order_by(Book.id).all()) == [
        "Dune",
        "Children of Dune",
    ]
    assert titles(await q.ilike("title", "%DUNE%").order_by(Book.id).all()) == [
        "Dune",
        "Children of Dune",
    ]
    gibson = q.join(Author).where(Author.name == "William Gibson")
    assert await gibson.count() == 2
    assert await q.limit(2).count() == 2
    with pytest.raises(NoResultFound):
        await q.filter_by(title="Nope").one()
    with pytest.raises(MultipleResultsFound):
        await q.one()
    with pytest.raises(HTTPException) as info:
        await q.filter_by(title="Nope").first_or_404()
    assert info.value.status_code == 404


async def test_builders_do_not_mutate(session: AsyncSession) -> None:
    base = Book.query(session)
    base.where(Book.year > 2000)
    assert await base.count() == 5


async def test_paginate_dictionary(session: AsyncSession) -> None:
    page = await Book.query(session).order_by(Book.year).paginate(2, 2)
    assert titles(page["items"]) == ["Neuromancer", "Count Zero"]
    assert {k: v for k, v in page.items() if k != "items"} == {
        "total": 5,
        "page": 2,
        "pages": 3,
        "per_page": 2,
        "has_next": True,
        "has_prev": True,
    }
    last = await Book.query(session).order_by(Book.year).paginate("3", "2")
    assert titles(last["items"]) == ["Hyperion"]
    assert last["has_next"] is False
    empty = await Book.query(session).where(Book.year > 3000).paginate()
    assert (empty["total"], empty["pages"], empty["items"]) == (0, 0, [])
    beyond = await Book.query(session).paginate(9, 2)
    assert beyond["items"] == []


async def test_page_far_past_the_end_is_empty_not_a_crash(client: TestClient) -> None:
    # The largest page number accepted is still a page, empty, not a database error.
    res = await client.get("/books", params={"page": str(2**31 - 1)})
    assert res.status_code == 200
    assert (res.json()["items"], res.json()["total"]) == ([], 5)


async def test_paginate_over_http(client: TestClient) -> None:
    res = await client.get("/books", params={"page": "2", "sort": "-year"})
    assert res.status_code == 200
    assert res.json()["items"] == ["Neuromancer", "Children of Dune"]
    assert res.json()["pages"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": "1.5"},
        {"per_page": "0"},
        {"per_page": "4"},  # above max_per_page
        {"per_page": "x"},
        # Past the 64-bit OFFSET (a database error) or int()'s digit limit (ValueError).
        {"page": "99999999999999999999"},
        {"page": "9" * 5000},
        {"per_page": "9" * 5000},
    ],
)
async def test_bad_page_numbers_are_400(client: TestClient, params: dict[str, str]) -> None:
    res = await client.get("/books", params=params)
    assert res.status_code == 400
    body = res.json()
    assert body["status"] == "error"
    assert body["errors"][0]["loc"] == ["query", next(iter(params))]


def test_page_numbers_are_bounded_without_a_maximum() -> None:
    assert page_number("2147483647", "page") == MAX_PAGE_NUMBER
    for value in ("2147483648", "9" * 5000, 2**63):
        with pytest.raises(HTTPException) as info:
            page_number(value, "per_page", maximum=None)
        assert info.value.status_code == 400


async def test_ordering_goes_through_the_allow_list(client: TestClient) -> None:
    res = await client.get("/books", params={"sort": "title", "per_page": "3"})
    assert res.json()["items"] == ["Children of Dune", "Count Zero", "Dune"]
    res = await client.get("/books", params={"sort": "-year,title", "per_page": "1"})
    assert res.json()["items"] == ["Hyperion"]
    for bad in ("secret", "-secret", "author_id", "title;drop table books", "__class__"):
        res = await client.get("/books", params={"sort": bad})
        assert res.status_code == 400, bad
        assert "allowed: title, year" in res.json()["message"]


async def test_filters_go_through_the_allow_list(client: TestClient) -> None:
    res = await client.get("/books", params={"year": "1984"})
    assert res.json()["items"] == ["Neuromancer"]
    # Not allowed: ignored (query strings carry page, sort...), never applied.
    res = await client.get("/books", params={"secret": "x", "per_page": "3"})
    assert res.json()["total"] == 5
    res = await client.get("/books", params={"year": "nineteen"})
    assert res.status_code == 400
    assert "expected int" in res.json()["message"]
    # Out of the INTEGER column's range: the driver cannot bind it, yet no 500.
    for huge in ("99999999999999999999", str(2**31), str(-(2**31) - 1)):
        res = await client.get("/books", params={"year": huge})
        assert res.status_code == 400, huge
    res = await client.get("/books", params={"year": str(2**31 - 1)})
    assert (res.status_code, res.json()["total"]) == (200, 0)


async def test_allow_list_strict_and_mapping(session: AsyncSession) -> None:
    allow = AllowList(Book, {"author": Author.name})
    q = Book.query(session).join(Author).filter_by_params({"author": "Dan Simmons"}, allow)
    assert titles(await q.all()) == ["Hyperion"]
    with pytest.raises(HTTPException) as info:
        Book.query(session).filter_by_params({"secret": "x"}, ["year"], strict=True)
    assert info.value.status_code == 400
    with pytest.raises(ValueError, match="not a column"):
        AllowList(Book, ["query"])
    with pytest.raises(ValueError, match="at least one"):
        AllowList(Book, [])


async def test_first_or_404_over_http(client: TestClient) -> None:
    assert (await client.get("/books/1")).json() == {"title": "Dune"}
    res = await client.get("/books/99")
    assert res.status_code == 404
    assert res.json()["message"] == "Book not found"
