"""The books API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from bookshelf import Application
from bookshelf.extensions import db
from bookshelf.models import Base
from sqlalchemy import inspect, text

from ferrule.core.testing import TestClient

DUNE = {"title": "Dune", "author": "Frank Herbert", "year": 1965, "isbn": "0441013597"}
BOOKS = [
    DUNE,
    {"title": "Children of Dune", "author": "Frank Herbert", "year": 1976},
    {"title": "Neuromancer", "author": "William Gibson", "year": 1984, "isbn": "0441569595"},
    {"title": "Count Zero", "author": "William Gibson", "year": 1986},
    {"title": "100% Hyperion", "author": "Dan Simmons", "year": 1989},
]


@pytest.fixture
async def client(app: Application) -> Any:
    async with TestClient(app) as client:
        yield client


async def seed(client: TestClient) -> list[int]:
    ids = []
    for book in BOOKS:
        res = await client.post("/api/books", json=book)
        assert res.status_code == 201, res.text
        ids.append(res.json()["id"])
    return ids


async def count_rows(app: Application) -> int:
    async with db.session_scope(app, readonly=True) as session:
        return int((await session.execute(text("SELECT count(*) FROM books"))).scalar_one())


async def test_first_start_migrates_the_database(client: TestClient) -> None:
    app = client.app
    async with db.engine(app).connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        # The shipped migrations match the models exactly.
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    assert {"books", "alembic_version"} <= set(tables)
    assert version == "0001"
    assert diff == []
    assert (await client.get("/readyz")).json()["checks"] == {"database": "ok"}


async def test_second_start_is_a_no_op(app: Application) -> None:
    async with TestClient(app) as client:
        await client.post("/api/books", json=DUNE)
    again = Application(app.config)
    async with TestClient(again) as client:
        assert (await client.get("/api/books")).json()["total"] == 1


async def test_create_and_get(client: TestClient) -> None:
    res = await client.post("/api/books", json=DUNE)
    assert res.status_code == 201
    book = res.json()
    assert book == {"id": book["id"], **DUNE}
    assert res.headers["location"] == f"/api/books/{book['id']}"
    assert (await client.get(res.headers["location"])).json() == book
    missing = await client.get("/api/books/999")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Book 999 not found"


async def test_validation_and_conflicts(client: TestClient) -> None:
    bad = await client.post("/api/books", json={"title": "", "author": "x", "year": -1})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} == {
        ("body", "title"),
        ("body", "year"),
    }
    assert (await client.post("/api/books", json=DUNE)).status_code == 201
    dup = await client.post("/api/books", json={**DUNE, "title": "Dune (again)"})
    assert dup.status_code == 409
    assert await count_rows(client.app) == 1


async def test_list_paginates_filters_and_sorts(client: TestClient) -> None:
    await seed(client)
    page = (await client.get("/api/books", params={"per_page": 2})).json()
    assert [b["title"] for b in page["items"]] == ["100% Hyperion", "Children of Dune"]
    assert (page["total"], page["pages"], page["has_next"], page["has_prev"]) == (5, 3, True, False)
    page3 = (await client.get("/api/books", params={"per_page": 2, "page": 3})).json()
    assert [b["title"] for b in page3["items"]] == ["Neuromancer"]

    gibson = (await client.get("/api/books", params={"author": "William Gibson"})).json()
    assert [b["title"] for b in gibson["items"]] == ["Count Zero", "Neuromancer"]
    year = (await client.get("/api/books", params={"year": "1976"})).json()
    assert [b["title"] for b in year["items"]] == ["Children of Dune"]
    newest = (await client.get("/api/books", params={"sort": "-year", "per_page": 1})).json()
    assert newest["items"][0]["title"] == "100% Hyperion"
    search = (await client.get("/api/books", params={"q": "dune"})).json()
    assert [b["title"] for b in search["items"]] == ["Children of Dune", "Dune"]
    percent = (await client.get("/api/books", params={"q": "100%"})).json()
    assert [b["title"] for b in percent["items"]] == ["100% Hyperion"]
    wildcard = (await client.get("/api/books", params={"q": "%"})).json()
    assert wildcard["total"] == 1  # '%' is a character here, not a wildcard


@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"per_page": "101"}, {"sort": "isbn;--"}],
)
async def test_list_rejects_bad_parameters(client: TestClient, params: dict[str, str]) -> None:
    res = await client.get("/api/books", params=params)
    assert res.status_code == 400


async def test_list_rejects_bad_filter_values(client: TestClient) -> None:
    res = await client.get("/api/books", params={"year": "soon"})
    assert res.status_code == 400
    # Too big for the INTEGER column: a 400, not the driver's overflow (a 500).
    res = await client.get("/api/books", params={"year": "99999999999999999999"})
    assert res.status_code == 400


async def test_out_of_range_pages_and_ids_are_not_500(client: TestClient) -> None:
    for page in ("99999999999999999999", "9" * 5000):
        assert (await client.get("/api/books", params={"page": page})).status_code == 400
    huge = "/api/books/99999999999999999999"
    assert (await client.get(huge)).status_code == 404
    assert (await client.put(huge, json=DUNE)).status_code == 404
    assert (await client.patch(huge, json={"year": 1})).status_code == 404
    assert (await client.delete(huge)).status_code == 404


async def test_update_and_delete(client: TestClient) -> None:
    book_id = (await client.post("/api/books", json=DUNE)).json()["id"]
    patched = await client.patch(f"/api/books/{book_id}", json={"year": 1966})
    assert patched.status_code == 200
    assert patched.json() == {"id": book_id, **DUNE, "year": 1966}
    assert (await client.get(f"/api/books/{book_id}")).json()["year"] == 1966
    null_title = await client.patch(f"/api/books/{book_id}", json={"title": None})
    assert null_title.status_code == 422

    replaced = await client.put(
        f"/api/books/{book_id}", json={"title": "Dune Messiah", "author": "Frank Herbert"}
    )
    assert replaced.json() == {
        "id": book_id,
        "title": "Dune Messiah",
        "author": "Frank Herbert",
        "year": None,
        "isbn": None,
    }
    assert (await client.patch("/api/books/999", json={"year": 1})).status_code == 404

    deleted = await client.delete(f"/api/books/{book_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"/api/books/{book_id}")).status_code == 404
    assert (await client.delete(f"/api/books/{book_id}")).status_code == 404
    assert await count_rows(client.app) == 0
