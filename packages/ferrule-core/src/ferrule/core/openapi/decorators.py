"""``@open_api_docs(Descriptor(...))``: document extra responses of a handler."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from ..controller import get_meta, set_meta

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("Descriptor", "open_api_docs")

F = TypeVar("F", bound="Callable[..., Any]")

#: Route metadata key under which ``@open_api_docs`` stores its descriptors.
RESPONSES_META = "openapi_responses"


@dataclass(frozen=True)
class Descriptor:
    """One documented response of an endpoint.

    Args:
        status: the status code (``HttpStatus.NOT_FOUND``, ``404``...).
        description: shown in the docs; defaults to the status phrase.
        media_type: the response's media type.
        body: a pydantic model (or any type pydantic can describe) of the body.
            Without one, an error status (4xx/5xx) with a JSON media type is
            documented with the framework's error shape.
    """

    status: int = HTTPStatus.BAD_REQUEST
    description: str | None = None
    media_type: str = "application/json"
    body: Any = None

    def __post_init__(self) -> None:
        if not 100 <= int(self.status) <= 599:
            raise ValueError(f"Descriptor status must be an HTTP status code, got {self.status!r}")


def open_api_docs(*descriptors: Descriptor) -> Callable[[F], F]:
    """Document responses the handler can give besides its success response.

    Example:
        >>> @get("/<int:user_id>")
        ... @open_api_docs(
        ...     Descriptor(status=HttpStatus.NOT_FOUND, description="User not found"),
        ... )
        ... async def get_user(self, user_id: int) -> User: ...
    """
    for item in descriptors:
        if not isinstance(item, Descriptor):
            raise TypeError(f"@open_api_docs takes Descriptor objects, got {item!r}")

    def decorator(fn: F) -> F:
        current = tuple(get_meta(fn).get(RESPONSES_META, ()))
        set_meta(fn, RESPONSES_META, (*descriptors, *current))
        return fn

    return decorator
