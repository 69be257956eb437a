"""``TestClient``: httpx against the app in-process, with the lifespan running."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractAsyncContextManager
    from types import TracebackType
    from typing import Self

    from ..app import App
    from .websocket import WebSocketSession

__all__ = ("TestClient",)


def _default_base_url(app: App) -> str:
    for host in app.config.ALLOWED_HOSTS:
        if host != "*":
            return "http://" + host.lstrip(".")
    return "http://localhost"


class TestClient:
    """Call the app in-process; the lifespan runs inside ``async with``.

    Example:
        >>> async with TestClient(app) as client:
        ...     res = await client.get("/api/v1/users/1")
        ...     assert res.status_code == 200

    The base URL uses the first of the app's ``ALLOWED_HOSTS``, so requests
    pass the Host check without loosening it. With
    ``raise_server_exceptions=True`` an unhandled exception in the app is
    re-raised in the test (after the 500 was produced) instead of only being
    answered 500.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: App,
        *,
        base_url: str | None = None,
        headers: dict[str, str] | None = None,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        raise_server_exceptions: bool = False,
        follow_redirects: bool = False,
        run_lifespan: bool = True,
    ) -> None:
        self.app = app
        self.base_url = base_url or _default_base_url(app)
        self.run_lifespan = run_lifespan
        self.raise_server_exceptions = raise_server_exceptions
        self._previous_propagate = False
        transport = httpx.ASGITransport(
            app=app, client=client, raise_app_exceptions=raise_server_exceptions
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            base_url=self.base_url,
            headers=headers,
            follow_redirects=follow_redirects,
        )

    async def __aenter__(self) -> Self:
        self._previous_propagate = self.app.propagate_exceptions
        self.app.propagate_exceptions = self.raise_server_exceptions
        if self.run_lifespan:
            await self.app.startup()
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._client.__aexit__(exc_type, exc, tb)
        finally:
            self.app.propagate_exceptions = self._previous_propagate
            if self.run_lifespan:
                await self.app.shutdown()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send any request; keyword arguments are httpx's."""
        return await self._client.request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.get(url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.head(url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.options(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.post(url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.put(url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.patch(url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client.delete(url, **kwargs)

    def websocket_connect(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        subprotocols: Sequence[str] = (),
    ) -> AbstractAsyncContextManager[WebSocketSession]:
        """Open a WebSocket in-process: ``async with client.websocket_connect("/ws") as ws:``.

        A refused handshake raises ``WebSocketDisconnect`` (with its close code) on enter.
        The client's cookies and default headers are sent with the handshake.
        """
        from .websocket import websocket_connect

        defaults = list(self._client.headers.items())
        if self._client.cookies:
            jar = "; ".join(f"{k}={v}" for k, v in self._client.cookies.items())
            defaults.append(("cookie", jar))
        return websocket_connect(
            self.app,
            url,
            base_url=self.base_url,
            headers=headers,
            default_headers=defaults,
            subprotocols=subprotocols,
        )
