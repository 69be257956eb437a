"""Class-based controllers and their decorators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .app import App

__all__ = (
    "Controller",
    "RouteSpec",
    "after_request",
    "consumes",
    "delete",
    "development",
    "get",
    "guard",
    "patch",
    "path",
    "post",
    "produces",
    "put",
    "route",
)

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

_ROUTES = "__ferrule_routes__"
_META = "__ferrule_meta__"


@dataclass(frozen=True)
class RouteSpec:
    """What a method decorator declared: methods, rule and documentation hints."""

    methods: tuple[str, ...]
    rule: str
    tags: tuple[str, ...] = ()
    open_api_spec: bool = True
    summary: str | None = None
    name: str | None = None
    status_code: int | None = None


@dataclass
class ControllerMeta:
    prefix: str = ""
    tags: tuple[str, ...] = ()
    open_api_spec: bool = True
    development: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Controller:
    """Base class of controllers: groups of handlers under one URL prefix.

    Example:
        >>> @path("/api/v1/users", tags=["Users"])
        ... class UsersApi(Controller):
        ...     @get("/<int:user_id>")
        ...     async def get_user(self, req: Request, user_id: int) -> dict:
        ...         return {"id": user_id}

    One instance is created per application; ``self.app`` is that application.
    """

    __ferrule_controller__: ControllerMeta = ControllerMeta()

    def __init__(self, app: App) -> None:
        self.app = app

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__ferrule_controller__" not in cls.__dict__:
            cls.__ferrule_controller__ = ControllerMeta()


def path(
    prefix: str = "", tags: list[str] | tuple[str, ...] | None = None, open_api_spec: bool = True
) -> Callable[[C], C]:
    """Give a controller its URL prefix, OpenAPI tags and visibility."""
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"@path prefix must start with '/', got {prefix!r}")

    def decorator(cls: C) -> C:
        if not (isinstance(cls, type) and issubclass(cls, Controller)):
            raise TypeError(f"@path decorates Controller subclasses, got {cls!r}")
        meta = cls.__dict__.get("__ferrule_controller__") or ControllerMeta()
        meta.prefix = prefix.rstrip("/")
        meta.tags = tuple(tags or ())
        meta.open_api_spec = open_api_spec
        cls.__ferrule_controller__ = meta
        return cls

    return decorator


def route(
    rule: str,
    methods: list[str] | tuple[str, ...],
    *,
    tags: list[str] | tuple[str, ...] | None = None,
    open_api_spec: bool = True,
    summary: str | None = None,
    name: str | None = None,
    status_code: int | None = None,
) -> Callable[[F], F]:
    """Declare a handler for ``methods`` on the Werkzeug ``rule``."""
    if not rule.startswith("/"):
        raise ValueError(f"Route rule must start with '/', got {rule!r}")
    spec = RouteSpec(
        methods=tuple(m.upper() for m in methods),
        rule=rule,
        tags=tuple(tags or ()),
        open_api_spec=open_api_spec,
        summary=summary,
        name=name,
        status_code=status_code,
    )

    def decorator(fn: F) -> F:
        specs: list[RouteSpec] = list(getattr(fn, _ROUTES, ()))
        specs.append(spec)
        setattr(fn, _ROUTES, tuple(specs))
        return fn

    return decorator


def _method(verb: str) -> Callable[..., Callable[[F], F]]:
    def decorator(
        rule: str = "/",
        *,
        tags: list[str] | tuple[str, ...] | None = None,
        open_api_spec: bool = True,
        summary: str | None = None,
        name: str | None = None,
        status_code: int | None = None,
    ) -> Callable[[F], F]:
        return route(
            rule,
            [verb],
            tags=tags,
            open_api_spec=open_api_spec,
            summary=summary,
            name=name,
            status_code=status_code,
        )

    decorator.__name__ = verb.lower()
    decorator.__qualname__ = verb.lower()
    decorator.__doc__ = f"Handle ``{verb}`` requests on ``rule`` (relative to the controller)."
    return decorator


get = _method("GET")
post = _method("POST")
put = _method("PUT")
patch = _method("PATCH")
delete = _method("DELETE")


def set_meta(fn: Any, key: str, value: Any) -> None:
    """Attach a piece of route metadata (used by decorators of extensions too)."""
    meta: dict[str, Any] | None = fn.__dict__.get(_META)
    if meta is None:
        meta = {}
        setattr(fn, _META, meta)
    meta[key] = value


def get_meta(fn: Any) -> dict[str, Any]:
    meta: dict[str, Any] = getattr(fn, _META, None) or {}
    return meta


def route_specs(fn: Any) -> tuple[RouteSpec, ...]:
    return tuple(getattr(fn, _ROUTES, ()))


def consumes(media_type: str) -> Callable[[F], F]:
    """Require the request body to have this media type (else 415)."""

    def decorator(fn: F) -> F:
        set_meta(fn, "consumes", str(media_type))
        return fn

    return decorator


def produces(media_type: str) -> Callable[[F], F]:
    """Set the response media type of the handler."""

    def decorator(fn: F) -> F:
        set_meta(fn, "produces", str(media_type))
        return fn

    return decorator


def guard(*checks: Callable[..., Any]) -> Callable[[F], F]:
    """Run ``checks`` before the handler (or every handler of a controller class).

    A check receives the request; it rejects by raising (``abort(...)``, an
    ``HTTPException``) or by returning a ``Response``, which is sent instead. Class
    guards run before method guards, in the order written.

    Example:
        >>> async def api_key_required(req: Request) -> None:
        ...     if req.headers.get("x-api-key") != "secret":
        ...         abort("Invalid API key", status_code=401)
    """
    for check in checks:
        if not callable(check):
            raise TypeError(f"@guard takes callables, got {check!r}")

    def decorator(obj: F) -> F:
        if isinstance(obj, type):
            existing = tuple(obj.__dict__.get("__ferrule_guards__", ()))
            obj.__ferrule_guards__ = (*existing, *checks)  # type: ignore[attr-defined]
        else:
            current = tuple(get_meta(obj).get("guards", ()))
            # Decorators apply bottom-up: keep the order in which they are written.
            set_meta(obj, "guards", (*checks, *current))
        return obj

    return decorator


def class_guards(cls: type) -> tuple[Callable[..., Any], ...]:
    """Guards declared with ``@guard`` on ``cls`` and its bases, base first."""
    found: list[Callable[..., Any]] = []
    for klass in reversed(cls.__mro__):
        found.extend(klass.__dict__.get("__ferrule_guards__", ()))
    return tuple(found)


def before_request(fn: F) -> F:
    """Run this controller method before each of the controller's handlers.

    It receives the request; returning a ``Response`` short-circuits the handler.
    """
    set_meta(fn, "before_request", True)
    return fn


def after_request(fn: F) -> F:
    """Run this controller method after each handler with the response.

    It is called as ``method(res)`` or ``method(req, res)``; returning a
    ``Response`` replaces the response.
    """
    set_meta(fn, "after_request", True)
    return fn


def development(obj: F) -> F:
    """Only register this route (or controller) when ``DEBUG`` is on."""
    if isinstance(obj, type) and issubclass(obj, Controller):
        meta = obj.__dict__.get("__ferrule_controller__") or ControllerMeta()
        meta.development = True
        obj.__ferrule_controller__ = meta
    else:
        set_meta(obj, "development", True)
    return obj
