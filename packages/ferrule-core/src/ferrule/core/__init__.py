"""Ferrule core: the ASGI kernel of the Ferrule web framework.

Names are imported lazily (PEP 562), so importing a submodule such as the
pytest plugin does not pull in the whole kernel.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import App
    from .cli_controller import CLIController, argument, command
    from .config import BaseConfig
    from .controller import (
        Controller,
        after_request,
        before_request,
        consumes,
        delete,
        development,
        get,
        guard,
        patch,
        path,
        post,
        produces,
        put,
        route,
    )
    from .cors import CorsPolicy, cors, no_cors
    from .datastructures import Headers, MutableHeaders, QueryParams, State
    from .exception_handlers import ExceptionHandler, handles
    from .exceptions import (
        FerruleError,
        HTTPException,
        ImproperlyConfiguredError,
        MissingDependencyError,
        PluginError,
        RequestValidationError,
        abort,
    )
    from .extensions import Extension
    from .forms import FilePart, FormData
    from .http import HttpStatus, MediaType
    from .lifespan import on_shutdown, on_startup
    from .middleware import MiddlewareBase
    from .openapi import Descriptor, open_api_docs
    from .params import Body, Cookie, Depends, Form, Header, Query
    from .plugins import Plugin
    from .ratelimit import RateLimit, rate_limit
    from .request import Request
    from .responses import Response, error_response
    from .routing.router import MethodNotAllowedError, NotFoundError, UrlBuildError
    from .sessions import Session
    from .sse import EventSourceResponse, ServerSentEvent
    from .staticfiles import FileResponse
    from .stores import MemoryStore, Store, StoreRegistry
    from .streaming import NDJSONResponse, StreamingResponse
    from .templates import HtmlAbortError, TemplateResponse, Templates, html_abort
    from .uploads import UploadFile, secure_filename
    from .websockets import WebSocket, WebSocketDisconnect, socket

# Eager on purpose: the submodule ``cors`` would otherwise shadow the ``cors``
# decorator as a package attribute. Both modules are light.
from .cors import CorsPolicy, cors, no_cors

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "MemoryStore": ".stores",
    "RateLimit": ".ratelimit",
    "Session": ".sessions",
    "Store": ".stores",
    "StoreRegistry": ".stores",
    "rate_limit": ".ratelimit",
    "App": ".app",
    "BaseConfig": ".config",
    "Body": ".params",
    "CLIController": ".cli_controller",
    "Controller": ".controller",
    "Cookie": ".params",
    "CorsPolicy": ".cors",
    "Depends": ".params",
    "Descriptor": ".openapi",
    "ExceptionHandler": ".exception_handlers",
    "Extension": ".extensions",
    "FerruleError": ".exceptions",
    "FilePart": ".forms",
    "Form": ".params",
    "FormData": ".forms",
    "UploadFile": ".uploads",
    "secure_filename": ".uploads",
    "HTTPException": ".exceptions",
    "Header": ".params",
    "Headers": ".datastructures",
    "HttpStatus": ".http",
    "ImproperlyConfiguredError": ".exceptions",
    "MediaType": ".http",
    "MethodNotAllowedError": ".routing.router",
    "MiddlewareBase": ".middleware",
    "MissingDependencyError": ".exceptions",
    "MutableHeaders": ".datastructures",
    "NotFoundError": ".routing.router",
    "Plugin": ".plugins",
    "PluginError": ".exceptions",
    "Query": ".params",
    "QueryParams": ".datastructures",
    "Request": ".request",
    "RequestValidationError": ".exceptions",
    "Response": ".responses",
    "error_response": ".responses",
    "State": ".datastructures",
    "UrlBuildError": ".routing.router",
    "EventSourceResponse": ".sse",
    "NDJSONResponse": ".streaming",
    "ServerSentEvent": ".sse",
    "StreamingResponse": ".streaming",
    "FileResponse": ".staticfiles",
    "HtmlAbortError": ".templates",
    "TemplateResponse": ".templates",
    "Templates": ".templates",
    "html_abort": ".templates",
    "WebSocket": ".websockets",
    "WebSocketDisconnect": ".websockets",
    "socket": ".websockets",
    "abort": ".exceptions",
    "after_request": ".controller",
    "argument": ".cli_controller",
    "before_request": ".controller",
    "command": ".cli_controller",
    "consumes": ".controller",
    "cors": ".cors",
    "delete": ".controller",
    "development": ".controller",
    "get": ".controller",
    "guard": ".controller",
    "handles": ".exception_handlers",
    "no_cors": ".cors",
    "on_shutdown": ".lifespan",
    "on_startup": ".lifespan",
    "open_api_docs": ".openapi",
    "patch": ".controller",
    "path": ".controller",
    "post": ".controller",
    "produces": ".controller",
    "put": ".controller",
    "route": ".controller",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ferrule.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = (
    "App",
    "BaseConfig",
    "Body",
    "CLIController",
    "Controller",
    "Cookie",
    "CorsPolicy",
    "Depends",
    "Descriptor",
    "EventSourceResponse",
    "ExceptionHandler",
    "Extension",
    "FerruleError",
    "FilePart",
    "FileResponse",
    "Form",
    "FormData",
    "HTTPException",
    "Header",
    "Headers",
    "HtmlAbortError",
    "HttpStatus",
    "ImproperlyConfiguredError",
    "MediaType",
    "MemoryStore",
    "MethodNotAllowedError",
    "MiddlewareBase",
    "MissingDependencyError",
    "MutableHeaders",
    "NDJSONResponse",
    "NotFoundError",
    "Plugin",
    "PluginError",
    "Query",
    "QueryParams",
    "RateLimit",
    "Request",
    "RequestValidationError",
    "Response",
    "ServerSentEvent",
    "Session",
    "State",
    "Store",
    "StoreRegistry",
    "StreamingResponse",
    "TemplateResponse",
    "Templates",
    "UploadFile",
    "UrlBuildError",
    "WebSocket",
    "WebSocketDisconnect",
    "abort",
    "after_request",
    "argument",
    "before_request",
    "command",
    "consumes",
    "cors",
    "delete",
    "development",
    "error_response",
    "get",
    "guard",
    "handles",
    "html_abort",
    "no_cors",
    "on_shutdown",
    "on_startup",
    "open_api_docs",
    "patch",
    "path",
    "post",
    "produces",
    "put",
    "rate_limit",
    "route",
    "secure_filename",
    "socket",
)
