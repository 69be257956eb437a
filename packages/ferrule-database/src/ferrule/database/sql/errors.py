"""Database failures as HTTP answers: unreachable -> 503 + ``Retry-After``.

"Unavailable" means the request failed because the database could not be used
right now, and a retry may succeed: a connection that could not be opened (the
server is down, refuses, times out, SQLite's file cannot be opened), a
connection that broke mid-request (SQLAlchemy flags it ``connection_invalidated``
and the pool discards it; ``POOL_PRE_PING`` replaces stale ones), a pool that
stayed exhausted, or a locked SQLite file. Any other database error is a bug and
gets the generic 500. The transaction of the failed request was rolled back
(the decorators and providers roll back on every exception, the server rolls
back a transaction whose connection died), so nothing is half written.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from ferrule.core import error_response

from .engine import CONNECT_FAILED

if TYPE_CHECKING:
    from ferrule.core import App, Request, Response

__all__ = ("install_error_handlers", "is_unavailable")

logger = logging.getLogger("ferrule.database")

_SQLITE_TRANSIENT = ("unable to open database file", "database is locked", "disk i/o error")
MESSAGE = "The database is temporarily unavailable; please retry shortly."


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means "the database cannot be used right now"."""
    if isinstance(exc, sa_exc.TimeoutError):  # pool exhausted for POOL_TIMEOUT seconds
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or getattr(exc.orig, CONNECT_FAILED, False):
        return True
    text = str(exc.orig).lower()
    return any(marker in text for marker in _SQLITE_TRANSIENT)


def install_error_handlers(app: App, retry_after: int) -> None:
    """Answer database errors: 503 + ``Retry-After`` when unavailable, else 500."""

    async def handle(req: Request, exc: BaseException) -> Response[Any]:
        if is_unavailable(exc):
            cause = getattr(exc, "orig", None) or exc
            logger.warning(
                "Database unavailable in %s %s [request_id=%s]: %s",
                req.method,
                req.path,
                req.request_id,
                cause,
            )
            return error_response(
                503, MESSAGE, headers={"Retry-After": str(retry_after)}, request_id=req.request_id
            )
        # Not ours to soften: re-raising declines, so the kernel's generic 500
        # (logged with the request id, details only under DEBUG) applies.
        raise exc

    app.add_exception_handler(sa_exc.DBAPIError, handle)
    app.add_exception_handler(sa_exc.TimeoutError, handle)
