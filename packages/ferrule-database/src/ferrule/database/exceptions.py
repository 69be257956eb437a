"""Errors raised by the database battery."""

from __future__ import annotations

from ferrule.core import FerruleError, HTTPException

__all__ = ("DatabaseUnavailableError", "ReadOnlySessionError")


class DatabaseUnavailableError(HTTPException):
    """The database cannot be reached right now: answered 503 with ``Retry-After``."""

    def __init__(self, detail: str | None = None, *, retry_after: int = 5) -> None:
        super().__init__(
            503,
            detail or "The database is temporarily unavailable; please retry shortly.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class ReadOnlySessionError(FerruleError):
    """A write was attempted through a read-only session (``@db.readonly_session``).

    This is a programming error, answered 500: use ``@db.managed_session`` for
    handlers that write.
    """
