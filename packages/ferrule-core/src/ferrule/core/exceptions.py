"""The one exception hierarchy of Ferrule.

Every error the framework raises derives from :class:`FerruleError`. Errors a
request can trigger are :class:`HTTPException` subclasses and are rendered in
the single JSON error shape::

    {"status": "error", "message": "...", "errors": [...]}
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = (
    "FerruleError",
    "HTTPException",
    "ImproperlyConfiguredError",
    "MissingDependencyError",
    "PluginError",
    "RequestValidationError",
    "abort",
)


class FerruleError(Exception):
    """Base class of every error raised by Ferrule."""


class ImproperlyConfiguredError(FerruleError, ValueError):
    """The application or an extension is configured wrongly.

    Raised at startup, never during a request; the message names the config key
    and how to fix it.
    """


class MissingDependencyError(FerruleError, ImportError):
    """An optional dependency is needed but not installed."""

    def __init__(self, package: str, extra: str | None = None) -> None:
        target = f"ferrule-core[{extra}]" if extra else package
        super().__init__(
            f"The package {package!r} is required for this feature but is not installed. "
            f"Install it with: pip install '{target}'"
        )
        self.package = package
        self.extra = extra


class PluginError(FerruleError):
    """A plugin that the application asked for could not be loaded."""


class HTTPException(FerruleError):
    """An error with an HTTP status, rendered as the framework's JSON error body.

    Args:
        status_code: the HTTP status to answer with.
        detail: the human readable message (defaults to the status phrase).
        headers: extra response headers, e.g. ``{"Retry-After": "5"}``.
        errors: structured error items for the ``errors`` key (kept in ``error_items``).
        data: any JSON-serializable payload added under ``data``.
    """

    def __init__(
        self,
        status_code: int,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        errors: Sequence[Any] | None = None,
        data: Any = None,
    ) -> None:
        if detail is None:
            try:
                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = "Error"
        super().__init__(detail)
        self.status_code = int(status_code)
        self.detail = detail
        self.headers = dict(headers) if headers else None
        self.error_items: list[Any] = list(errors) if errors else []
        self.data = data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, detail={self.detail!r})"


class RequestValidationError(HTTPException):
    """The request did not satisfy the handler's declared parameters (422).

    ``errors()`` returns one item per problem with ``loc``, ``msg`` and ``type``,
    like pydantic's ``ValidationError.errors()``.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(422, "Validation failed", errors=[dict(e) for e in errors])

    def errors(self) -> list[dict[str, Any]]:
        """Return the list of validation problems."""
        return list(self.error_items)


def abort(msg: str, status_code: int = 400, data: Any = None) -> NoReturn:
    """Stop handling the request and answer with an error.

    Example:
        >>> abort("User 7 not found", status_code=HttpStatus.NOT_FOUND)
    """
    raise HTTPException(status_code, msg, data=data)
