"""Build the OpenAPI 3.1 document from the app's compiled routes."""

from __future__ import annotations

import inspect
import re
import types
import typing
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic_core import to_jsonable_python

from ..binding import resolve_hints
from ..exceptions import ImproperlyConfiguredError
from ..responses import Response
from .decorators import RESPONSES_META, Descriptor
from .schemas import ErrorResponse, SchemaRegistry

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..app import App
    from ..binding import Dependant, ParamInfo
    from ..routing.route import Route

__all__ = ("generate_openapi", "is_documented", "openapi_path")

OPENAPI_VERSION = "3.1.0"
#: Route metadata key for the security requirements of an operation.
SECURITY_META = "openapi_security"

_RULE_ARG = re.compile(
    r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?(?P<var>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_WIRE_SOURCES = ("path", "query", "header", "cookie")
_BODY_SOURCES = ("body", "body-embed")
_FORM_SOURCES = ("form", "form-model", "file")
_EMPTY = inspect.Parameter.empty


def openapi_path(rule: str) -> str:
    """``/items/<int:item_id>`` -> ``/items/{item_id}``."""
    return _RULE_ARG.sub(lambda m: "{" + m["var"] + "}", rule)


def _converter_schema(conv: str | None, args: str | None) -> dict[str, Any] | None:
    """The schema Werkzeug's converter enforces, or None to use the annotation's."""
    args = args or ""
    if conv == "int":
        return {"type": "integer"} if "signed=True" in args else {"type": "integer", "minimum": 0}
    if conv == "float":
        return {"type": "number"} if "signed=True" in args else {"type": "number", "minimum": 0}
    if conv == "uuid":
        return {"type": "string", "format": "uuid"}
    if conv == "any":
        return {"type": "string", "enum": [a.strip().strip("'\"") for a in args.split(",")]}
    if conv == "path":
        return {"type": "string", "minLength": 1}
    return None


def is_documented(route: Route) -> bool:
    """False for routes hidden with ``open_api_spec=False`` (route or controller)."""
    if route.spec is not None and not route.spec.open_api_spec:
        return False
    if route.meta.get("open_api_spec") is False:
        return False
    if route.controller is not None:
        cmeta = getattr(type(route.controller), "__ferrule_controller__", None)
        if cmeta is not None and not cmeta.open_api_spec:
            return False
    return True


def _walk(dep: Dependant, seen: set[int]) -> Iterator[ParamInfo]:
    if id(dep) in seen:
        return
    seen.add(id(dep))
    for info in dep.params:
        if info.source == "depends" and info.dependency is not None:
            yield from _walk(info.dependency, seen)
        else:
            yield info


def _strip_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _jsonable_default(value: Any) -> tuple[bool, Any]:
    if value is None:
        return False, None
    try:
        return True, to_jsonable_python(value)
    except Exception:
        return False, None


def _doc(route: Route) -> tuple[str | None, str | None]:
    doc = inspect.getdoc(route.handler)
    summary = route.spec.summary if route.spec is not None else None
    if not doc:
        return summary, None
    if summary:
        return summary, doc
    first, _, rest = doc.partition("\n\n")
    first = " ".join(first.split())
    return first, rest.strip() or None


class _Builder:
    def __init__(self, app: App) -> None:
        self.app = app
        self.schemas = SchemaRegistry()
        self.tags: dict[str, None] = {}
        self.operation_ids: set[str] = set()
        self.schemes: dict[str, Any] = dict(getattr(app, "openapi_security_schemes", {}) or {})

    def error_ref(self) -> dict[str, Any]:
        return self.schemas.add(ErrorResponse, "serialization", where="the error shape")

    def parameters(self, route: Route, infos: list[ParamInfo]) -> list[dict[str, Any]]:
        by_path = {info.alias: info for info in infos if info.source == "path"}
        params: list[dict[str, Any]] = []
        for m in _RULE_ARG.finditer(route.rule):
            name, conv = m["var"], m["conv"]
            info = by_path.get(name)
            schema = _converter_schema(conv, m["args"])
            if schema is None:
                ann = info.annotation if info is not None else _EMPTY
                if ann in (_EMPTY, str, Any):
                    schema = {"type": "string", "minLength": 1}
                else:
                    schema = self.schemas.add(ann, "validation", where=f"{route.endpoint}.{name}")
            params.append(self._param(name, "path", True, schema, info))
        seen = {("path", p["name"]) for p in params}
        for info in infos:
            if info.source not in _WIRE_SOURCES or info.source == "path":
                continue
            # A dependency may read the same value as the handler: list it once.
            key = (info.source, info.alias.lower() if info.source == "header" else info.alias)
            if key in seen:
                continue
            seen.add(key)
            ann = _strip_optional(info.annotation)
            if ann is _EMPTY or ann is Any:
                schema = {"type": "string"}
            else:
                schema = self.schemas.add(ann, "validation", where=f"{route.endpoint}.{info.name}")
            ok, default = _jsonable_default(info.default) if not info.required else (False, None)
            if ok:
                schema["default"] = default
            params.append(self._param(info.alias, info.source, info.required, schema, info))
        return params

    @staticmethod
    def _param(
        name: str, where: str, required: bool, schema: dict[str, Any], info: ParamInfo | None
    ) -> dict[str, Any]:
        param: dict[str, Any] = {"name": name, "in": where, "required": required}
        description = getattr(info.marker, "description", None) if info is not None else None
        if description:
            param["description"] = description
        param["schema"] = schema
        return param

    def request_body(self, route: Route, infos: list[ParamInfo]) -> dict[str, Any] | None:
        body = [i for i in infos if i.source in _BODY_SOURCES]
        form = [i for i in infos if i.source in _FORM_SOURCES]
        if form:
            return self._form_body(route, form)
        if not body:
            return None
        media = route.consumes or "application/json"
        where = f"the body of {route.endpoint}"
        if len(body) == 1 and body[0].source == "body":
            ann = body[0].annotation
            schema = self.schemas.add(Any if ann is _EMPTY else ann, "validation", where=where)
            required = body[0].required
        else:
            props = {
                i.alias: self.schemas.add(
                    Any if i.annotation is _EMPTY else i.annotation, "validation", where=where
                )
                for i in body
            }
            needed = [i.alias for i in body if i.required]
            schema = {"type": "object", "properties": props}
            if needed:
                schema["required"] = needed
            required = bool(needed)
        return {"required": required, "content": {media: {"schema": schema}}}

    def _form_body(self, route: Route, form: list[ParamInfo]) -> dict[str, Any]:
        has_file = any(i.source == "file" for i in form)
        media = "multipart/form-data" if has_file else "application/x-www-form-urlencoded"
        where = f"the form of {route.endpoint}"
        models = [i for i in form if i.source == "form-model"]
        if len(models) == 1 and len(form) == 1:
            whole = self.schemas.add(models[0].annotation, "validation", where=where)
            return {"required": models[0].required, "content": {media: {"schema": whole}}}
        props: dict[str, Any] = {}
        for i in form:
            ann = _strip_optional(i.annotation)
            if i.source == "file":
                binary = {"type": "string", "format": "binary"}
                is_list = get_origin(ann) is list
                props[i.alias] = {"type": "array", "items": binary} if is_list else binary
            elif ann in (_EMPTY, Any, str):
                props[i.alias] = {"type": "string"}
            else:
                props[i.alias] = self.schemas.add(ann, "validation", where=where)
        schema: dict[str, Any] = {"type": "object", "properties": props}
        needed = [i.alias for i in form if i.required]
        if needed:
            schema["required"] = needed
        return {"required": bool(needed), "content": {media: {"schema": schema}}}

    def success(self, route: Route) -> tuple[str, dict[str, Any]]:
        status = route.status_code
        out: dict[str, Any] = {"description": _phrase(status)}
        if status == 204 or 100 <= status < 200 or status == 304:
            return str(status), out
        media = route.produces
        target = route.response_model
        if target is None:
            target = self._return_annotation(route)
        if target is None:
            return str(status), out
        if target is str:
            out["content"] = {media or "text/plain": {"schema": {"type": "string"}}}
        elif target is bytes:
            binary = {"type": "string", "format": "binary"}
            out["content"] = {media or "application/octet-stream": {"schema": binary}}
        else:
            where = f"the response of {route.endpoint}"
            found: dict[str, Any] | None
            if target is route.response_model:
                found = self.schemas.add(target, "serialization", where=where)
            else:
                found = self.schemas.try_add(target, "serialization", where=where)
            media_obj = {"schema": found} if found is not None else {}
            out["content"] = {media or "application/json": media_obj}
        return str(status), out

    @staticmethod
    def _return_annotation(route: Route) -> Any:
        try:
            ret = resolve_hints(route.handler).get("return", _EMPTY)
        except ImproperlyConfiguredError:
            return None
        if get_origin(ret) is Annotated:
            ret = get_args(ret)[0]
        if get_origin(ret) is Response:
            args = get_args(ret)
            ret = args[0] if args else None
        if ret in (_EMPTY, None, type(None), Any, object, typing.NoReturn):
            return None
        if isinstance(ret, type) and issubclass(ret, Response):
            return None
        return ret

    def responses(self, route: Route, infos: list[ParamInfo]) -> dict[str, Any]:
        status, success = self.success(route)
        responses: dict[str, Any] = {status: success}
        has_body = any(i.source in (*_BODY_SOURCES, *_FORM_SOURCES) for i in infos)
        if has_body:
            responses["400"] = self._error("Malformed request body")
            responses["413"] = self._error("Request body too large")
            responses["415"] = self._error("Unsupported media type")
        if any(i.source in (*_WIRE_SOURCES, *_BODY_SOURCES, *_FORM_SOURCES) for i in infos):
            responses["422"] = self._error("Validation error")
        for item in route.meta.get(RESPONSES_META, ()):
            responses[str(int(item.status))] = self._descriptor(route, item)
        return dict(sorted(responses.items()))

    def _error(self, description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": self.error_ref()}},
        }

    def _descriptor(self, route: Route, item: Descriptor) -> dict[str, Any]:
        status = int(item.status)
        out: dict[str, Any] = {"description": item.description or _phrase(status)}
        media = str(item.media_type)
        if item.body is not None:
            where = f"the {status} response of {route.endpoint}"
            schema = self.schemas.add(item.body, "serialization", where=where)
            out["content"] = {media: {"schema": schema}}
        elif status >= 400 and (media == "application/json" or media.endswith("+json")):
            out["content"] = {media: {"schema": self.error_ref()}}
        return out

    def security(self, route: Route) -> list[dict[str, list[str]]] | None:
        requirements = route.meta.get(SECURITY_META)
        if requirements is None and route.controller is not None:
            cmeta = getattr(type(route.controller), "__ferrule_controller__", None)
            requirements = cmeta.extra.get(SECURITY_META) if cmeta is not None else None
        if requirements is None:
            return None
        result = [dict(req) for req in requirements]
        for req in result:
            for name in req:
                if name not in self.schemes:
                    raise ImproperlyConfiguredError(
                        f"Route {route.endpoint!r} requires the security scheme {name!r}, "
                        "which no extension registered. Add it to "
                        "app.openapi_security_schemes (known: "
                        f"{sorted(self.schemes) or 'none'})."
                    )
        return result

    def operation_id(self, route: Route, method: str) -> str:
        base = route.endpoint if len(route.methods) == 1 else f"{route.endpoint}_{method}"
        candidate, n = base, 2
        while candidate in self.operation_ids:
            candidate, n = f"{base}_{n}", n + 1
        self.operation_ids.add(candidate)
        return candidate

    def build(self) -> dict[str, Any]:
        cfg = self.app.config
        paths: dict[str, dict[str, Any]] = {}
        for route in self.app.routes:
            if not is_documented(route):
                continue
            methods = [m.lower() for m in route.methods if m.lower() in _HTTP_METHODS]
            if not methods:
                continue
            infos = list(_walk(route.dependant, set()))
            summary, description = _doc(route)
            item = paths.setdefault(openapi_path(route.rule), {})
            for method in methods:
                op: dict[str, Any] = {}
                if route.tags:
                    op["tags"] = list(route.tags)
                    self.tags.update(dict.fromkeys(route.tags))
                if summary:
                    op["summary"] = summary
                if description:
                    op["description"] = description
                op["operationId"] = self.operation_id(route, method)
                params = self.parameters(route, infos)
                if params:
                    op["parameters"] = params
                body = self.request_body(route, infos)
                if body is not None:
                    op["requestBody"] = body
                op["responses"] = self.responses(route, infos)
                security = self.security(route)
                if security is not None:
                    op["security"] = security
                item[method] = op
        info: dict[str, Any] = {"title": cfg.APP_NAME, "version": cfg.VERSION}
        description = cfg.get("OPEN_API_DESCRIPTION")
        if description:
            info["description"] = description
        doc: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
        if self.tags:
            doc["tags"] = [{"name": name} for name in self.tags]
        doc["paths"] = paths
        components: dict[str, Any] = {}
        definitions = self.schemas.finish()
        if definitions:
            components["schemas"] = dict(sorted(definitions.items()))
        if self.schemes:
            components["securitySchemes"] = self.schemes
        if components:
            doc["components"] = components
        return doc


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def generate_openapi(app: App) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of ``app`` (compiling its routes if needed).

    Example:
        >>> spec = generate_openapi(app)
        >>> spec["paths"]["/items/{item_id}"]["get"]["operationId"]
        'ItemsApi.get_item'
    """
    return _Builder(app).build()
