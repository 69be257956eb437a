"""Assemble the app's ASGI entry: user middleware, then the protective layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import wrap_middleware
from .security import security_headers

if TYPE_CHECKING:
    from ..app import App
    from ..types import ASGIApp

__all__ = ("build_entry",)


def build_entry(app: App) -> ASGIApp:
    """The ASGI callable the app serves through (called once, at freeze).

    Outermost first: trusted proxy headers, HTTPS redirect, compression, the
    exception guard, then the configured middleware (first listed = outermost)
    around the kernel. Layers that are not configured are not installed at all.
    """
    cfg = app.config
    app._sec_http, app._sec_https = security_headers(cfg)
    entry = wrap_middleware(app, app._core, app._middleware)
    if app._middleware:
        entry = app._guard(entry)
    if cfg.GZIP_ENABLED:
        from .gzip import GZipMiddleware

        entry = GZipMiddleware(entry, minimum_size=cfg.GZIP_MIN_SIZE)
    if cfg.HTTPS_REDIRECT:
        from .https import HTTPSRedirectMiddleware

        entry = HTTPSRedirectMiddleware(entry, ferrule=app)
    if cfg.TRUSTED_PROXIES:
        # Outermost: every layer (redirect, sessions, rate limits, HSTS) sees the
        # scheme and client the trusted proxy reports.
        from ..proxies import TrustedProxies
        from .proxy_headers import ProxyHeadersMiddleware

        entry = ProxyHeadersMiddleware(entry, proxies=TrustedProxies(cfg.TRUSTED_PROXIES))
    return entry
