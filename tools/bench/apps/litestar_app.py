"""Litestar: pydantic models, typed parameters; 422s in the bench shape."""

from __future__ import annotations

from typing import Any

from _db import DB_URL, ROWS, UserRow
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.exceptions import ValidationException
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


class User(BaseModel):
    id: int
    name: str


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    for e in exc.extra if isinstance(exc.extra, list) else []:
        source = e.get("source") or "body"
        loc = [source, e["key"]] if e.get("key") else [source]
        errors.append({"loc": loc, "msg": e.get("message", ""), "type": "validation"})
    return Response(
        {"status": "error", "message": "Validation failed", "errors": errors}, status_code=422
    )


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/users/{id:int}")
async def user(id: int) -> User:
    return User(id=id, name=f"user{id}")


@post("/items")
async def items(data: Item) -> Item:
    return data


@get("/query")
async def query(limit: int = 10, offset: int = 0) -> dict[str, int]:
    return {"limit": limit, "offset": offset}


engine = create_async_engine(DB_URL)
sessions = async_sessionmaker(engine, expire_on_commit=False)


@get("/db")
async def db() -> list[User]:
    async with sessions() as session:
        rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
    return [User(id=r.id, name=r.name) for r in rows]


app = Litestar(
    route_handlers=[plaintext, json_, user, items, query, db],
    exception_handlers={ValidationException: validation_error},
    openapi_config=None,
)
