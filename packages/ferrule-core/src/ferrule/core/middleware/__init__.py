"""Middleware: the ``MiddlewareBase`` API and the protective layers (gzip, HTTPS)."""

from __future__ import annotations

from .base import MiddlewareBase
from .gzip import GZipMiddleware
from .https import HTTPSRedirectMiddleware

__all__ = ("GZipMiddleware", "HTTPSRedirectMiddleware", "MiddlewareBase")
