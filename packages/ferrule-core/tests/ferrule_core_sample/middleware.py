"""ASGI middleware listed in ``Config.MIDDLEWARE``."""

from typing import Any


class StampMiddleware:
    """Adds ``x-stamp: sample`` to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def stamped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-stamp", b"sample")]
            await send(message)

        await self.app(scope, receive, stamped)
