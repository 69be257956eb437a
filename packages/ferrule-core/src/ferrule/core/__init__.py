"""Ferrule core: the ASGI kernel of the Ferrule web framework."""

from .app import App
from .config import BaseConfig
from .controller import (
    Controller,
    after_request,
    before_request,
    consumes,
    delete,
    development,
    get,
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
from .responses import Response
from .routing.router import MethodNotAllowedError, NotFoundError, UrlBuildError

__version__ = "0.1.0"

__all__ = (
    "App",
    "BaseConfig",
    "Body",
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
    "before_request",
    "consumes",
    "cors",
    "delete",
    "development",
    "get",
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
