"""A deterministic guard for the hot path: Python function calls per request.

Wall-clock timing in tests is flaky; call counts are not. These budgets are the
counts measured when they were set (see docs/benchmarks.md) plus a small margin:
a change that adds per-request work fails here and has to say why it is worth it.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from ferrule.core import App, Controller, Query, get, path, post

# Measured when set: 30 / 30 / 45 / 56 / 43 (cProfile counts C calls too, such as
# dict.get; set at the measured count).
BUDGETS = {
    "/plaintext": 30,
    "/json": 30,
    "/users/42": 45,
    "/query?limit=5&offset=20": 56,
    "/items": 43,
}


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


class User(BaseModel):
    id: int
    name: str


@path("")
class HotApi(Controller):
    @get("/plaintext")
    async def plaintext(self) -> str:
        return "Hello, World!"

    @get("/json")
    async def json(self) -> dict[str, str]:
        return {"message": "Hello, World!"}

    @get("/users/<int:id>")
    async def user(self, id: int) -> User:
        return User(id=id, name=f"user{id}")

    @get("/query")
    async def query(self, limit: Annotated[int, Query()] = 10, offset: int = 0) -> dict[str, int]:
        return {"limit": limit, "offset": offset}

    @post("/items", status_code=201)
    async def items(self, item: Item) -> Item:
        return item


def production_like_app() -> App:
    return App(
        {
            "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
            "CORS_ENABLED": True,
            "CORS_ALLOW_ORIGINS": ["https://app.example.com"],
            "ACCESS_LOG": False,
        },
        controllers=[HotApi],
    )


def calls_per_request(app: App, target: str, n: int = 100) -> float:
    path_part, _, query = target.partition("?")
    body = b'{"name": "x", "price": 1.5, "tags": ["a"]}'
    method = "POST" if path_part == "/items" else "GET"
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    if method == "POST":
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body if method == "POST" else b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": method,
            "scheme": "http",
            "path": path_part,
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 5000),
        }

    async def run() -> float:
        await app.startup()
        try:
            await app(scope(), receive, send)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(n):
                await app(scope(), receive, send)
            profile.disable()
        finally:
            await app.shutdown()
        total: int = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        return total // n  # the leftover is the profiler's own enable/disable

    result = asyncio.run(run())
    assert set(statuses) == {201 if method == "POST" else 200}
    return result


@pytest.mark.parametrize(("target", "budget"), list(BUDGETS.items()))
def test_calls_per_request_within_budget(target: str, budget: int) -> None:
    measured = calls_per_request(production_like_app(), target)
    assert measured <= budget, f"{target}: {measured:.0f} calls/request, budget {budget}"


def test_only_routes_with_nothing_around_the_handler_skip_handle() -> None:
    from ferrule.core import Request, consumes, guard

    async def deny(req: Request) -> None:
        raise PermissionError("no")

    @path("/x")
    class Mixed(Controller):
        @get("/bare")
        async def bare(self) -> str:
            return "bare"

        @get("/guarded")
        @guard(deny)
        async def guarded(self) -> str:
            return "guarded"

        @get("/param")
        async def param(self, q: int = 0) -> int:
            return q

        @post("/typed")
        @consumes("application/json")
        async def typed(self) -> str:
            return "typed"

        @get("/sync")
        def sync(self) -> str:
            return "sync"

    app = App(controllers=[Mixed])
    by_rule = {route.rule: route for route in app.routes}
    assert by_rule["/x/bare"].bare is not None
    for rule in ("/x/guarded", "/x/param", "/x/typed", "/x/sync"):
        assert by_rule[rule].bare is None, rule
