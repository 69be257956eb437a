"""Redirect http requests to https (``HTTPS_REDIRECT``), proxy-aware."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from ..proxies import TrustedProxies
from ..request import Request
from ..responses import Response, error_response

if TYPE_CHECKING:
    from ..app import App
    from ..types import ASGIApp, Receive, Scope, Send

__all__ = ("HTTPSRedirectMiddleware",)


class HTTPSRedirectMiddleware:
    """Answer plain-http requests with ``308`` to the same URL over https.

    The scheme is the server's, or ``X-Forwarded-Proto`` when the peer is one
    of ``TRUSTED_PROXIES`` (anyone else could forge it). A request that is
    https through a trusted proxy is passed on with ``scope["scheme"]`` set
    to ``https``, so HSTS and Secure cookies apply. The ``Host`` is checked
    against ``ALLOWED_HOSTS`` before it goes into a ``Location``. Paths
    starting with an ``HTTPS_REDIRECT_EXEMPT`` prefix are served over http;
    websocket handshakes over ``ws`` are refused (close code 1008).
    """

    def __init__(self, app: ASGIApp, *, ferrule: App) -> None:
        self.inner = app
        self.ferrule = ferrule
        cfg = ferrule.config
        self.proxies = TrustedProxies(cfg.TRUSTED_PROXIES)
        self.exempt = tuple(cfg.HTTPS_REDIRECT_EXEMPT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.inner(scope, receive, send)
            return
        scheme = self.proxies.scheme(scope)
        if scheme in ("https", "wss"):
            if scope.get("scheme") != scheme:
                scope = {**scope, "scheme": scheme}
            await self.inner(scope, receive, send)
            return
        path: str = scope["path"]
        if self.exempt and path.startswith(self.exempt):
            await self.inner(scope, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "https required"})
            return
        app = self.ferrule
        req = Request(scope, receive, app)
        req.request_id = app._request_id(req._rid_in)
        host_ok = app._host_ok
        if host_ok is None or not host_ok(req._host) or req._host is None:
            host = req._host.decode("latin-1") if req._host else None
            response = error_response(400, f"Invalid Host header {host!r}")
        else:
            response = Response(status_code=308)
            response.headers["location"] = self.location(scope, req._host.decode("latin-1"))
        await app._send(req, response, send, None)

    @staticmethod
    def location(scope: Scope, host: str) -> str:
        """``https://host/path?query``; an explicit port is dropped (https is on 443)."""
        # An IPv6 literal keeps its brackets.
        host = host[: host.index("]") + 1] if host.startswith("[") else host.partition(":")[0]
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope["path"]
        path = quote(path, safe="/%:@!$&'()*+,;=~")
        query: bytes = scope.get("query_string", b"")
        return f"https://{host}{path}" + (f"?{query.decode('latin-1')}" if query else "")
