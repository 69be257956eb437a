"""Markers that say where a handler parameter comes from.

Used inside ``Annotated``::

    async def search(self, q: Annotated[str, Query()], token: Annotated[str, Header()]): ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("Body", "Cookie", "Depends", "Form", "Header", "Param", "Query")


class Param:
    """Base of the parameter source markers.

    Args:
        alias: the name on the wire when it differs from the parameter name.
        description: shown in the OpenAPI document.
    """

    source: ClassVar[str] = ""
    __slots__ = ("alias", "description")

    def __init__(self, alias: str | None = None, *, description: str | None = None) -> None:
        self.alias = alias
        self.description = description

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class Query(Param):
    """Take the value from the query string (repeated keys for ``list[...]``)."""

    source = "query"
    __slots__ = ()


class Header(Param):
    """Take the value from a request header (``user_agent`` reads ``User-Agent``)."""

    source = "header"
    __slots__ = ()


class Cookie(Param):
    """Take the value from a request cookie."""

    source = "cookie"
    __slots__ = ()


class Body(Param):
    """Take the value from the JSON body (the whole body, validated as the type)."""

    source = "body"
    __slots__ = ()


class Form(Param):
    """Take the value from an urlencoded or multipart form (a field, a model or a file)."""

    source = "form"
    __slots__ = ()


class Depends:
    """Inject the result of ``provider``.

    A provider may be a sync or async function, or a (sync or async) generator
    whose code after ``yield`` runs after the handler, also when it raised. Its
    own parameters are injected the same way as a handler's. Within one request
    each provider runs once unless ``use_cache=False``.
    """

    __slots__ = ("provider", "use_cache")

    def __init__(self, provider: Callable[..., Any], *, use_cache: bool = True) -> None:
        if not callable(provider):
            raise TypeError(f"Depends() needs a callable provider, got {provider!r}")
        self.provider = provider
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.provider, "__qualname__", repr(self.provider))
        return f"Depends({name})"
