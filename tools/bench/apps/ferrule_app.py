"""Ferrule: controllers, pydantic models, typed parameters, the kernel's features on.

Configured as an application would be in production:

- ``ALLOWED_HOSTS`` host checking (the bench connects to 127.0.0.1 / localhost);
- the request id header (``X-Request-ID``, on by default);
- exception handling: the kernel's error rendering plus an app ``ExceptionHandler``;
- CORS on (``CORS_ENABLED``, one allowed origin);
- the access log off, like ``--no-access-log`` for the peers.
"""

from __future__ import annotations

from typing import Annotated

from _db import DB_URL, ROWS, UserRow
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - resolved at startup

from ferrule.core import (
    App,
    BaseConfig,
    Controller,
    Depends,
    ExceptionHandler,
    HttpStatus,
    Query,
    Request,
    Response,
    get,
    handles,
    path,
    post,
)
from ferrule.database import SqlDatabase


class Config(BaseConfig):
    APP_NAME: str = "Ferrule bench"
    DEBUG: bool = False
    ALLOWED_HOSTS: list[str] = ["127.0.0.1", "localhost"]
    REQUEST_ID_HEADER: str | None = "X-Request-ID"

    # ---- CORS (BENCH-CORS) -----------------------------------------------------------
    # On, as issue 6's budget requires. The measured traffic sends no Origin header
    # (like same-origin or server-to-server calls); the functional check sends one
    # and requires the CORS headers back.
    CORS_ENABLED: bool = True
    CORS_ALLOW_ORIGINS: list[str] = ["http://localhost:3000"]

    # The peers run under uvicorn's --no-access-log; Ferrule's own access log
    # (ferrule.access, on by default) is turned off to match. Logging stays
    # configured at LOG_LEVEL INFO as an app has it.
    ACCESS_LOG: bool = False

    # /db: the ferrule-database battery on the shared SQLite file (tools/bench/apps/_db.py).
    SQL_DATABASE: dict[str, object] = {"DATABASE_URI": DB_URL}


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


class User(BaseModel):
    id: int
    name: str


db = SqlDatabase()


@path("", tags=["Bench"])
class BenchApi(Controller):
    @get("/db")
    async def db_rows(
        self, session: Annotated[AsyncSession, Depends(db.session_readonly)]
    ) -> list[User]:
        rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
        return [User(id=r.id, name=r.name) for r in rows]

    @get("/plaintext")
    async def plaintext(self) -> str:
        return "Hello, World!"

    @get("/json")
    async def json(self) -> dict[str, str]:
        return {"message": "Hello, World!"}

    @get("/users/<int:id>")
    async def user(self, id: int) -> User:
        return User(id=id, name=f"user{id}")

    @post("/items", status_code=201)
    async def items(self, item: Item) -> Response[Item]:
        return Response(item, status_code=HttpStatus.CREATED)

    @get("/query")
    async def query(self, limit: Annotated[int, Query()] = 10, offset: int = 0) -> dict[str, int]:
        return {"limit": limit, "offset": offset}


class Errors(ExceptionHandler):
    """An app-level handler, as real apps have one (never hit by the bench traffic)."""

    @handles(LookupError)
    async def not_found(self, req: Request, exc: LookupError) -> Response[dict[str, str]]:
        return req.response.json({"status": "error", "message": "Not found"}).status(404)


class Application(App):
    config_class = Config

    def __init__(self) -> None:
        super().__init__(controllers=[BenchApi], exception_handlers=[Errors], extensions=[db])


app = Application()
