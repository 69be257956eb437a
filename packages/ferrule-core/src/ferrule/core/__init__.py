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
    from .http import HttpStatus, MediaType
    from .lifespan import on_shutdown, on_startup
    from .params import Body, Cookie, Depends, Header, Query
    from .plugins import Plugin
    from .request import Request
    from .responses import Response, error_response
    from .routing.router import MethodNotAllowedError, NotFoundError, UrlBuildError

# Eager on purpose: the submodule ``cors`` would otherwise shadow the ``cors``
# decorator as a package attribute. Both modules are light.
from .cors import CorsPolicy, cors, no_cors

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "App": ".app",
    "BaseConfig": ".config",
    "Body": ".params",
    "CLIController": ".cli_controller",
    "Controller": ".controller",
    "Cookie": ".params",
    "CorsPolicy": ".cors",
    "Depends": ".params",
    "ExceptionHandler": ".exception_handlers",
    "Extension": ".extensions",
    "FerruleError": ".exceptions",
    "HTTPException": ".exceptions",
    "Header": ".params",
    "Headers": ".datastructures",
    "HttpStatus": ".http",
    "ImproperlyConfiguredError": ".exceptions",
    "MediaType": ".http",
    "MethodNotAllowedError": ".routing.router",
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
    "ExceptionHandler",
    "Extension",
    "FerruleError",
    "HTTPException",
    "Header",
    "Headers",
    "HttpStatus",
    "ImproperlyConfiguredError",
    "MediaType",
    "MethodNotAllowedError",
    "MissingDependencyError",
    "MutableHeaders",
    "NotFoundError",
    "Plugin",
    "PluginError",
    "Query",
    "QueryParams",
    "Request",
    "RequestValidationError",
    "Response",
    "State",
    "UrlBuildError",
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
    "no_cors",
    "on_shutdown",
    "on_startup",
    "patch",
    "path",
    "post",
    "produces",
    "put",
    "route",
)
