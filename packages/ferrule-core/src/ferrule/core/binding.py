"""Compile a handler's signature into a plan of extractors, once per route.

Every parameter gets an extractor that knows its source (path, query, header,
cookie, body, request, app service or dependency) and its cached pydantic
``TypeAdapter``. At request time only the extractors run: no ``inspect``, no
type-hint evaluation.
"""

from __future__ import annotations

import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, ValidationError

from .exceptions import HTTPException, ImproperlyConfiguredError
from .params import Depends, Param
from .request import Request
from .services import NOT_FOUND as _NOT_FOUND

if TYPE_CHECKING:
    from .app import App

__all__ = ("Dependant", "ParamError", "compile_dependant", "resolve_hints")

_EMPTY = inspect.Parameter.empty
_SCALARS: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    Decimal,
    UUID,
    date,
    datetime,
    time,
    timedelta,
    PurePath,
    bytes,
)
_JSON_TYPES = ("application/json",)


class ParamError(Exception):
    """Raised by an extractor; carries the 422 items for one parameter."""

    __slots__ = ("items",)

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items


class _Missing(Exception):
    pass


Extractor = Callable[[Request], Any]


@dataclass
class ParamInfo:
    """Static facts about one parameter (used by the router, OpenAPI, and errors)."""

    name: str
    source: str
    alias: str
    annotation: Any
    required: bool
    default: Any
    marker: Param | None = None
    adapter: TypeAdapter[Any] | None = None
    dependency: Dependant | None = None
    is_list: bool = False


@dataclass
class Dependant:
    """A compiled callable: its parameters and how to call it."""

    call: Callable[..., Any]
    name: str
    params: list[ParamInfo] = field(default_factory=list)
    sync_extractors: list[tuple[str, Extractor]] = field(default_factory=list)
    body_params: list[ParamInfo] = field(default_factory=list)
    dependencies: list[tuple[str, Dependant, bool]] = field(default_factory=list)
    is_async: bool = True
    is_gen: bool = False
    is_async_gen: bool = False
    needs_context: bool = False

    @property
    def has_body(self) -> bool:
        return bool(self.body_params) or any(d.has_body for _, d, _ in self.dependencies)


def _hint_target(fn: Callable[..., Any]) -> Any:
    """The function whose annotations describe calling ``fn``."""
    if isinstance(fn, type):
        return fn.__init__  # type: ignore[misc]
    target = inspect.unwrap(fn)
    if not (inspect.isroutine(target) or isinstance(target, functools.partial)):
        call = getattr(type(target), "__call__", None)  # noqa: B004
        if call is not None:
            return call
    return target


def resolve_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Evaluate annotations of ``fn`` (``include_extras``), with a clear error."""
    target = _hint_target(fn)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError as exc:
        raise ImproperlyConfiguredError(
            f"Cannot resolve the type annotations of {_qualname(fn)}: {exc}. "
            "Annotations must name types importable from the module "
            "(not classes defined inside a function)."
        ) from exc


def _qualname(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _unwrap_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if get_origin(annotation) is Annotated:
        base, *meta = get_args(annotation)
        return base, meta
    return annotation, []


def _strip_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_scalar(annotation: Any) -> bool:
    ann = _strip_optional(annotation)
    if ann in _SCALARS or ann is Any:
        return True
    if isinstance(ann, type) and issubclass(ann, enum.Enum | str | int | float):
        return True
    origin = get_origin(ann)
    if origin is typing.Literal:
        return True
    if origin is Union or origin is types.UnionType:
        return all(_is_scalar(a) for a in get_args(ann) if a is not type(None))
    return _is_sequence(ann)


def _is_sequence(annotation: Any) -> bool:
    ann = _strip_optional(annotation)
    origin = get_origin(ann)
    if origin in (list, set, frozenset, tuple):
        args = [a for a in get_args(ann) if a is not Ellipsis]
        return all(_is_scalar(a) for a in args)
    return False


def _is_model(annotation: Any) -> bool:
    ann = _strip_optional(annotation)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return True
    origin = get_origin(ann)
    if origin in (list, dict):
        return any(_is_model(a) for a in get_args(ann))
    return False


def _error_items(exc: ValidationError, loc_prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"loc": [*loc_prefix, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False)
    ]


def _missing(source: str, alias: str) -> ParamError:
    return ParamError([{"loc": [source, alias], "msg": "Field required", "type": "missing"}])


def _validator(annotation: Any) -> TypeAdapter[Any] | None:
    """A TypeAdapter, or None when the raw string is already the right type."""
    if annotation is str or annotation is Any or annotation is _EMPTY:
        return None
    return TypeAdapter(annotation)


def _make_simple_extractor(info: ParamInfo, getter: Callable[[Request, str], Any]) -> Extractor:
    alias, source = info.alias, info.source
    adapter, required, default = info.adapter, info.required, info.default
    loc = (source, alias)

    def extract(req: Request) -> Any:
        raw = getter(req, alias)
        if raw is None:
            if required:
                raise _missing(source, alias)
            return default
        if adapter is None:
            return raw
        try:
            return adapter.validate_python(raw)
        except ValidationError as exc:
            raise ParamError(_error_items(exc, loc)) from None

    return extract


def _query_one(req: Request, key: str) -> Any:
    return req.query_params.get(key)


def _query_many(req: Request, key: str) -> Any:
    values = req.query_params.getlist(key)
    return values or None


def _header_one(req: Request, key: str) -> Any:
    return req.headers.get(key)


def _header_many(req: Request, key: str) -> Any:
    return req.headers.getlist(key) or None


def _cookie(req: Request, key: str) -> Any:
    return req.cookies.get(key)


def _path_param(req: Request, key: str) -> Any:
    return req.route_parameters.get(key)


_CONVERTER_TYPES: dict[str, type] = {"int": int, "float": float, "uuid": UUID}


def compile_dependant(
    call: Callable[..., Any],
    *,
    app: App,
    path_params: dict[str, str] | None = None,
    name: str | None = None,
    _seen: tuple[Callable[..., Any], ...] = (),
) -> Dependant:
    """Compile ``call`` into a :class:`Dependant`.

    ``path_params`` maps route argument names to their Werkzeug converter.
    """
    path_params = path_params or {}
    qual = name or _qualname(call)
    if call in _seen:
        raise ImproperlyConfiguredError(f"Dependency cycle through {qual}.")
    hints = resolve_hints(call)
    signature = inspect.signature(call)
    dep = Dependant(call=call, name=qual)
    unwrapped = inspect.unwrap(call)
    dep.is_async_gen = inspect.isasyncgenfunction(unwrapped)
    dep.is_gen = inspect.isgeneratorfunction(unwrapped)
    dep.is_async = inspect.iscoroutinefunction(unwrapped) or dep.is_async_gen
    if (
        not dep.is_async
        and not dep.is_gen
        and not isinstance(call, type)
        and not inspect.isroutine(unwrapped)
    ):
        dunder = getattr(type(unwrapped), "__call__", None)  # noqa: B004
        dep.is_async = inspect.iscoroutinefunction(dunder)

    for pname, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(pname, _EMPTY)
        base, meta = _unwrap_annotated(annotation)
        marker: Any = next((m for m in meta if isinstance(m, Param | Depends)), None)
        default = param.default
        if marker is None and isinstance(default, Depends):
            marker, default = default, _EMPTY
        required = default is _EMPTY
        info = ParamInfo(
            name=pname,
            source="",
            alias=pname,
            annotation=base,
            required=required,
            default=None if required else default,
        )

        if isinstance(marker, Depends):
            sub = compile_dependant(
                marker.provider, app=app, path_params=path_params, _seen=(*_seen, call)
            )
            info.source, info.dependency = "depends", sub
            dep.dependencies.append((pname, sub, marker.use_cache))
            dep.needs_context = True
        elif isinstance(marker, Param):
            info.marker = marker
            info.source = marker.source
            if marker.source == "header":
                info.alias = marker.alias or pname.replace("_", "-")
            else:
                info.alias = marker.alias or pname
            _bind_sourced(dep, info)
        elif pname in path_params:
            info.source = "path"
            conv_type = _CONVERTER_TYPES.get(path_params[pname], str)
            target = _strip_optional(base)
            info.adapter = None if target is conv_type or base is _EMPTY else TypeAdapter(base)
            info.required = True
            dep.sync_extractors.append((pname, _make_simple_extractor(info, _path_param)))
        elif (isinstance(base, type) and issubclass(base, Request)) or (
            base is _EMPTY and pname in ("req", "request")
        ):
            # A WebSocket is a Request too; "websocket" lets HTTP routes refuse it.
            info.source = "websocket" if getattr(base, "is_websocket", False) else "request"
            dep.sync_extractors.append((pname, _request_extractor))
        elif (service := app.services.lookup(base)) is not _NOT_FOUND:
            info.source = "service"
            dep.sync_extractors.append((pname, _constant(service)))
        elif _is_upload_type(base):
            info.source = "file"
            _bind_sourced(dep, info)
        elif _is_model(base):
            info.source = "body"
            info.adapter = TypeAdapter(base)
            dep.body_params.append(info)
        elif base is _EMPTY or _is_scalar(base):
            info.source = "query"
            _bind_sourced(dep, info)
        else:
            raise ImproperlyConfiguredError(
                f"Cannot tell where parameter {pname!r} of {qual} comes from "
                f"(annotation {base!r}). Use Annotated[..., Query()/Header()/Cookie()/Body()"
                "/Depends(provider)], a pydantic model for the JSON body, or register the "
                "type as an app service with app.services.register(instance)."
            )
        dep.params.append(info)

    if dep.body_params or dep.dependencies:
        from .forms import check_body_sources

        check_body_sources(dep, qual)
    if len(dep.body_params) > 1 and dep.body_params[0].source == "body":
        # Several body parameters: each is a key of one JSON object (embedded).
        for info in dep.body_params:
            info.source = "body-embed"
    dep.needs_context = dep.needs_context or any(d.needs_context for _, d, _ in dep.dependencies)
    return dep


def _bind_sourced(dep: Dependant, info: ParamInfo) -> None:
    base = info.annotation
    if info.source in ("form", "file"):
        from .forms import bind_form_param

        bind_form_param(dep, info)
        return
    if info.source == "body":
        info.adapter = TypeAdapter(base if base is not _EMPTY else Any)
        dep.body_params.append(info)
        return
    info.is_list = _is_sequence(base)
    info.adapter = _validator(base)
    if info.source == "query":
        getter = _query_many if info.is_list else _query_one
    elif info.source == "header":
        getter = _header_many if info.is_list else _header_one
    elif info.source == "cookie":
        getter = _cookie
    else:
        raise ImproperlyConfiguredError(
            f"Parameter source {info.source!r} of {info.name!r} is not supported by this "
            "version of ferrule-core."
        )
    dep.sync_extractors.append((info.name, _make_simple_extractor(info, getter)))


def _is_upload_type(annotation: Any) -> bool:
    from .uploads import UploadFile

    ann = _strip_optional(annotation)
    return ann is UploadFile or (get_origin(ann) is list and get_args(ann) == (UploadFile,))


def _is_request(annotation: Any, name: str) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, Request):
        return True
    return annotation is _EMPTY and name in ("req", "request")


def _request_extractor(req: Request) -> Request:
    return req


def _constant(value: Any) -> Extractor:
    def extract(req: Request) -> Any:
        return value

    return extract


async def read_body_params(dep: Dependant, req: Request, kwargs: dict[str, Any]) -> None:
    """Parse the JSON body into the dependant's body parameters."""
    params = dep.body_params
    if params[0].source in ("form", "form-model", "file"):
        from .forms import read_form_params

        await read_form_params(dep, req, kwargs)
        return
    ctype = req.content_type
    if ctype and ctype not in _JSON_TYPES and not ctype.endswith("+json"):
        raise HTTPException(
            415, f"Unsupported media type {ctype!r}: this endpoint accepts application/json."
        )
    body = await req.body()
    if len(params) == 1 and params[0].source == "body":
        info = params[0]
        if not body:
            if info.required:
                raise ParamError([{"loc": ["body"], "msg": "Field required", "type": "missing"}])
            kwargs[info.name] = info.default
            return
        assert info.adapter is not None  # set at compile time
        try:
            kwargs[info.name] = info.adapter.validate_json(body)
        except ValidationError as exc:
            _raise_body_error(exc)
        return
    data = await req.json() if body else {}
    if not isinstance(data, dict):
        raise ParamError(
            [{"loc": ["body"], "msg": "Input should be a JSON object", "type": "dict_type"}]
        )
    items: list[dict[str, Any]] = []
    for info in params:
        if info.alias not in data:
            if info.required:
                items.extend(_missing("body", info.alias).items)
            else:
                kwargs[info.name] = info.default
            continue
        assert info.adapter is not None
        try:
            kwargs[info.name] = info.adapter.validate_python(data[info.alias])
        except ValidationError as exc:
            items.extend(_error_items(exc, ("body", info.alias)))
    if items:
        raise ParamError(items)


def _raise_body_error(exc: ValidationError) -> typing.NoReturn:
    errors = exc.errors(include_url=False)
    for err in errors:
        if err["type"] == "json_invalid":
            raise HTTPException(400, f"Malformed JSON body: {err['msg']}") from None
    raise ParamError(_error_items(exc, ("body",))) from None
