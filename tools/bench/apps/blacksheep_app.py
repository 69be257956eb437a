"""BlackSheep: typed parameter binding, pydantic body; binder errors reshaped into 422s."""

from __future__ import annotations

import re
from typing import Any

from _db import DB_URL, ROWS, UserRow
from blacksheep import Application, FromJSON, Request, Response, json, text
from blacksheep.exceptions import BadRequest
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


app = Application(show_error_details=False)
get = app.router.get
post = app.router.post

_PARAM = re.compile(r"parameter `(\w+)`")


async def bad_request(app: Application, request: Request, exc: BadRequest) -> Response:
    """BlackSheep answers 400 to binder errors; the bench wants 422 with locations."""
    cause = exc.__cause__
    errors: list[dict[str, Any]] = []
    if isinstance(cause, ValidationError):
        errors = [
            {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in cause.errors(include_url=False)
        ]
    elif isinstance(cause, ValueError) and (m := _PARAM.search(str(exc))):
        errors = [{"loc": ["query", m[1]], "msg": str(exc), "type": "int_parsing"}]
    else:
        return json({"status": "error", "message": str(exc), "errors": []}, status=400)
    return json({"status": "error", "message": "Validation failed", "errors": errors}, status=422)


app.exceptions_handlers[BadRequest] = bad_request


@get("/plaintext")
async def plaintext() -> Response:
    return text("Hello, World!")


@get("/json")
async def json_() -> Response:
    return json({"message": "Hello, World!"})


@get("/users/{int:id}")
async def user(id: int) -> Response:
    return json({"id": id, "name": f"user{id}"})


@post("/items")
async def items(item: FromJSON[Item]) -> Response:
    return json(item.value.model_dump(), status=201)


@get("/query")
async def query(limit: int = 10, offset: int = 0) -> Response:
    return json({"limit": limit, "offset": offset})


engine = create_async_engine(DB_URL)
sessions = async_sessionmaker(engine, expire_on_commit=False)


@get("/db")
async def db() -> Response:
    async with sessions() as session:
        rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
    return json([{"id": r.id, "name": r.name} for r in rows])
