"""Turn controller classes into compiled :class:`Route` objects."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin, is_typeddict

from pydantic import BaseModel, TypeAdapter

from ..binding import compile_dependant, resolve_hints
from ..controller import Controller, class_guards, get_meta, route_specs
from ..exceptions import ImproperlyConfiguredError
from ..responses import Response
from .route import Hook, Route

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..app import App

__all__ = ("compile_controller", "response_model_of", "rule_arguments")

_RULE_ARG = re.compile(
    r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?(?P<var>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
_PLAIN = (dict, list, str, bytes, object, type(None))


def rule_arguments(rule: str) -> dict[str, str]:
    """``"/<int:id>/<name>"`` -> ``{"id": "int", "name": "default"}``."""
    return {m["var"]: (m["conv"] or "default") for m in _RULE_ARG.finditer(rule)}


def response_model_of(fn: Callable[..., Any], hints: dict[str, Any]) -> Any:
    """The model a return annotation asks the body to be validated through, if any."""
    ret = hints.get("return", inspect.Parameter.empty)
    if get_origin(ret) is Annotated:
        ret = get_args(ret)[0]
    if get_origin(ret) is Response:
        args = get_args(ret)
        ret = args[0] if args else None
    if ret is inspect.Parameter.empty or ret is None or ret is Any or ret is Response:
        return None
    if ret in _PLAIN or (isinstance(ret, type) and issubclass(ret, Response)):
        return None
    # Only annotations that contain a model (pydantic, dataclass, TypedDict) filter
    # the body; plain containers such as dict[str, int] are sent as returned.
    return ret if _has_model(ret) else None


def _has_model(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return (
            issubclass(annotation, BaseModel)
            or dataclasses.is_dataclass(annotation)
            or is_typeddict(annotation)
        )
    return any(_has_model(arg) for arg in get_args(annotation))


def _join(prefix: str, rule: str) -> str:
    if rule in ("", "/") and prefix:
        return prefix
    return prefix + rule


def _hook(fn: Callable[..., Any], kind: str) -> Hook:
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    takes_request = kind == "before" or len(params) >= 2
    return Hook(fn, inspect.iscoroutinefunction(fn), takes_request)


def _route_after(meta: dict[str, Any]) -> tuple[Hook, ...]:
    """Per-route ``after_hooks`` that decorators put in the route meta (``fn(req, res)``)."""
    return tuple(
        Hook(fn, inspect.iscoroutinefunction(fn), True) for fn in meta.get("after_hooks", ())
    )


def _guard_hook(check: Callable[..., Any]) -> Hook:
    call = getattr(type(check), "__call__", None)  # noqa: B004
    is_async = inspect.iscoroutinefunction(check) or (
        not inspect.isroutine(check) and inspect.iscoroutinefunction(call)
    )
    return Hook(check, is_async, True)


def _members(cls: type) -> list[tuple[str, Any]]:
    """Class attributes in definition order, base classes first, overrides replacing."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass is object:
            continue
        for name, value in vars(klass).items():
            members[name] = value
    return list(members.items())


def compile_controller(app: App, controller: Controller) -> list[Route]:
    """Compile every route declared on ``controller``."""
    cls = type(controller)
    cmeta = cls.__ferrule_controller__
    debug = app.config.DEBUG
    if cmeta.development and not debug:
        return []
    members = _members(cls)
    before: list[Hook] = []
    after: list[Hook] = []
    for name, value in members:
        meta = get_meta(value)
        if meta.get("before_request"):
            before.append(_hook(getattr(controller, name), "before"))
        if meta.get("after_request"):
            after.append(_hook(getattr(controller, name), "after"))

    routes: list[Route] = []
    for name, value in members:
        specs = route_specs(value)
        if not specs:
            continue
        meta = get_meta(value)
        if meta.get("development") and not debug:
            continue
        handler = getattr(controller, name)
        guards = tuple(
            _guard_hook(check) for check in (*class_guards(cls), *meta.get("guards", ()))
        )
        hints = resolve_hints(handler)
        model = response_model_of(handler, hints)
        try:
            adapter = TypeAdapter(model) if model is not None else None
        except Exception as exc:
            raise ImproperlyConfiguredError(
                f"Return annotation of {cls.__name__}.{name} ({model!r}) is not a type "
                f"pydantic can validate: {exc}"
            ) from exc
        for spec in specs:
            rule = _join(cmeta.prefix, spec.rule)
            endpoint = spec.name or f"{cls.__name__}.{name}"
            dependant = compile_dependant(
                handler, app=app, path_params=rule_arguments(rule), name=endpoint
            )
            routes.append(
                Route(
                    app=app,
                    endpoint=endpoint,
                    rule=rule,
                    methods=spec.methods,
                    handler=handler,
                    dependant=dependant,
                    is_async=inspect.iscoroutinefunction(handler),
                    controller=controller,
                    spec=spec,
                    meta=meta,
                    response_model=model,
                    response_adapter=adapter,
                    status_code=spec.status_code or 200,
                    before=tuple(before),
                    after=(*after, *_route_after(meta)),
                    guards=guards,
                    tags=tuple(dict.fromkeys((*cmeta.tags, *spec.tags))),
                )
            )
    return routes


def compile_function(
    app: App,
    fn: Callable[..., Any],
    rule: str,
    methods: tuple[str, ...],
    *,
    name: str | None = None,
    status_code: int = 200,
    tags: tuple[str, ...] = (),
    meta: dict[str, Any] | None = None,
) -> Route:
    """Compile a plain function (not a controller method) into a route."""
    if not rule.startswith("/"):
        raise ImproperlyConfiguredError(f"Route rule must start with '/', got {rule!r}")
    hints = resolve_hints(fn)
    model = response_model_of(fn, hints)
    endpoint: str = name or getattr(fn, "__name__", None) or repr(fn)
    all_meta = {**get_meta(fn), **(meta or {})}
    return Route(
        app=app,
        endpoint=endpoint,
        rule=rule,
        methods=tuple(m.upper() for m in methods),
        handler=fn,
        dependant=compile_dependant(fn, app=app, path_params=rule_arguments(rule), name=endpoint),
        is_async=inspect.iscoroutinefunction(fn),
        meta=all_meta,
        guards=tuple(_guard_hook(check) for check in all_meta.get("guards", ())),
        after=_route_after(all_meta),
        response_model=model,
        response_adapter=TypeAdapter(model) if model is not None else None,
        status_code=status_code,
        tags=tags,
    )
