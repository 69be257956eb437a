"""FastAPI: pydantic models, typed parameters, response models; 422s in the bench shape."""

from __future__ import annotations

from collections.abc import AsyncIterator  # noqa: TC003 - FastAPI reads annotations at runtime
from typing import Annotated

from _db import DB_URL, ROWS, UserRow
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


class User(BaseModel):
    id: int
    name: str


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse(
        {"status": "error", "message": "Validation failed", "errors": errors}, status_code=422
    )


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(id: int) -> User:
    return User(id=id, name=f"user{id}")


@app.post("/items", status_code=201)
async def items(item: Item) -> Item:
    return item


@app.get("/query")
async def query(limit: int = 10, offset: int = 0) -> dict[str, int]:
    return {"limit": limit, "offset": offset}


engine = create_async_engine(DB_URL)
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@app.get("/db")
async def db(session: Annotated[AsyncSession, Depends(get_session)]) -> list[User]:
    rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
    return [User(id=r.id, name=r.name) for r in rows]
