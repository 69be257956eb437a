"""Starlette: routing and responses from Starlette, validation with pydantic by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _db import DB_URL, ROWS, UserRow
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


def _error(status: int, message: str, errors: list[Any] | None = None) -> JSONResponse:
    return JSONResponse(
        {"status": "error", "message": message, "errors": errors or []}, status_code=status
    )


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def json_(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def user(request: Request) -> JSONResponse:
    user_id: int = request.path_params["id"]
    return JSONResponse({"id": user_id, "name": f"user{user_id}"})


async def items(request: Request) -> JSONResponse:
    try:
        item = Item.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            return _error(400, "Malformed JSON body")
        return _error(
            422,
            "Validation failed",
            [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors],
        )
    return JSONResponse(item.model_dump(), status_code=201)


async def query(request: Request) -> JSONResponse:
    params = request.query_params
    out: dict[str, int] = {}
    errors = []
    for key, default in (("limit", 10), ("offset", 0)):
        raw = params.get(key)
        try:
            out[key] = default if raw is None else int(raw)
        except ValueError:
            errors.append(
                {
                    "loc": ["query", key],
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "type": "int_parsing",
                }
            )
    if errors:
        return _error(422, "Validation failed", errors)
    return JSONResponse(out)


engine = create_async_engine(DB_URL)
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def db(request: Request) -> JSONResponse:
    async with sessions() as session:
        rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
    return JSONResponse([{"id": r.id, "name": r.name} for r in rows])


app = Starlette(
    routes=[
        Route("/db", db),
        Route("/plaintext", plaintext),
        Route("/json", json_),
        Route("/users/{id:int}", user),
        Route("/items", items, methods=["POST"]),
        Route("/query", query),
    ]
)
