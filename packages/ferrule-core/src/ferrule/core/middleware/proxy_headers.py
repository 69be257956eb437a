"""Apply ``X-Forwarded-Proto`` / ``X-Forwarded-For`` from ``TRUSTED_PROXIES`` only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..proxies import TrustedProxies
    from ..types import ASGIApp, Receive, Scope, Send

__all__ = ("ProxyHeadersMiddleware",)


class ProxyHeadersMiddleware:
    """Behind a TLS-terminating proxy: the real scheme and client, if the peer is trusted.

    Installed when ``TRUSTED_PROXIES`` is set, so Secure cookies, HSTS and
    client-IP logic see what the client used, not the proxy hop. Headers from a
    peer that is not a trusted proxy are ignored (anyone could forge them).
    """

    def __init__(self, app: ASGIApp, *, proxies: TrustedProxies) -> None:
        self.inner = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scheme = self.proxies.scheme(scope)
            client = self.proxies.client_host(scope)
            current = scope.get("client")
            if scheme != scope.get("scheme") or (client and (not current or current[0] != client)):
                scope = dict(scope)
                scope["scheme"] = scheme
                if client:
                    scope["client"] = (client, current[1] if current else 0)
        await self.inner(scope, receive, send)
