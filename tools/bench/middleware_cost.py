"""In-process cost of middleware on the plain JSON route (docs/middleware.md).

    uv run python tools/bench/middleware_cost.py

Prints the best of five runs of N requests, in µs per request, for: no
middleware, one pure ASGI middleware, one ``MiddlewareBase``, security headers
off, and ``GZIP_ENABLED`` on a body below ``GZIP_MIN_SIZE``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ferrule.core import App, Controller, MiddlewareBase, Request, Response, get, path

N = 40_000


@path("")
class Api(Controller):
    @get("/json")
    async def json(self) -> dict[str, str]:
        return {"message": "Hello, World!"}


class PassThrough:
    """A minimal pure ASGI middleware that wraps ``send``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def wrapped(message: Any) -> None:
            await send(message)

        await self.app(scope, receive, wrapped)


class PassOn(MiddlewareBase):
    async def middleware(self, req: Request) -> Response[Any]:
        return await self.next(req)


def make(middleware: list[Any], **config: Any) -> App:
    return App({"ACCESS_LOG": False, **config}, controllers=[Api], middleware=middleware)


async def bench(app: App, extra: list[tuple[bytes, bytes]] | None = None) -> float:
    headers = [(b"host", b"localhost"), (b"accept", b"*/*"), *(extra or [])]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": "/json",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
        }

    await app.startup()
    try:
        for _ in range(2000):
            await app(scope(), receive, send)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(N):
                await app(scope(), receive, send)
            best = min(best, (time.perf_counter() - start) / N * 1e6)
    finally:
        await app.shutdown()
    return best


async def main() -> None:
    cases: list[tuple[str, App, list[tuple[bytes, bytes]] | None]] = [
        ("no middleware", make([]), None),
        ("one pure ASGI middleware", make([PassThrough]), None),
        ("one MiddlewareBase", make([PassOn]), None),
        (
            "no middleware, SECURITY_HEADERS_ENABLED=False",
            make([], SECURITY_HEADERS_ENABLED=False),
            None,
        ),
        (
            "GZIP_ENABLED, body under GZIP_MIN_SIZE",
            make([], GZIP_ENABLED=True),
            [(b"accept-encoding", b"gzip")],
        ),
    ]
    for name, app, extra in cases:
        print(f"{name:50} {await bench(app, extra):6.2f} µs/request")


if __name__ == "__main__":
    asyncio.run(main())
