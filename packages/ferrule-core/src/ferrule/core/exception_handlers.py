"""Exception handlers: classes whose ``@handles`` methods turn errors into responses."""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._concurrency import run_sync
from .exceptions import HTTPException, ImproperlyConfiguredError
from .responses import Response, error_response

if TYPE_CHECKING:
    from .app import App
    from .request import Request

__all__ = ("ExceptionHandler", "ExceptionHandlerRegistry", "handles")

F = TypeVar("F", bound=Callable[..., Any])
HandlerFn = Callable[["Request", BaseException], Any]
logger = logging.getLogger("ferrule.core.errors")


def handles(*exception_types: type[BaseException]) -> Callable[[F], F]:
    """Mark an ``ExceptionHandler`` method as the handler of these exception types."""
    for exc_type in exception_types:
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(f"@handles takes exception classes, got {exc_type!r}")

    def decorator(fn: F) -> F:
        existing: tuple[type[BaseException], ...] = getattr(fn, "__ferrule_handles__", ())
        fn.__ferrule_handles__ = (*existing, *exception_types)  # type: ignore[attr-defined]
        return fn

    return decorator


class ExceptionHandler:
    """Base class for exception handlers.

    Example:
        >>> class Errors(ExceptionHandler):
        ...     @handles(KeyError)
        ...     async def missing(self, req: Request, exc: KeyError) -> Response:
        ...         return req.response.json({"missing": str(exc)}).status(404)

    The most specific handler (by the exception's MRO) wins. A handler for
    ``Exception`` replaces the generic 500 answer; framework HTTP errors keep
    their own handler unless you handle ``HTTPException`` (or a subclass). A
    handler that re-raises the exception it was given declines it: the built-in
    rendering (HTTP error shape, or the logged generic 500) applies.
    """

    def __init__(self, app: App) -> None:
        self.app = app

    def handlers(self) -> list[tuple[type[BaseException], HandlerFn]]:
        found: list[tuple[type[BaseException], HandlerFn]] = []
        for name in dir(type(self)):
            attr = getattr(type(self), name, None)
            for exc_type in getattr(attr, "__ferrule_handles__", ()):
                found.append((exc_type, getattr(self, name)))
        return found


class ExceptionHandlerRegistry:
    """Looks up the handler for an exception by MRO, with a per-type cache."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._user: dict[type[BaseException], HandlerFn] = {}
        self._cache: dict[type[BaseException], HandlerFn | None] = {}

    def add(self, exc_type: type[BaseException], fn: HandlerFn) -> None:
        self._user[exc_type] = fn
        self._cache.clear()

    def add_handler_object(self, handler: Any) -> None:
        if isinstance(handler, type):
            if not issubclass(handler, ExceptionHandler):
                raise ImproperlyConfiguredError(
                    f"{handler.__qualname__} in EXCEPTION_HANDLERS is not an ExceptionHandler "
                    "subclass. Subclass ferrule.core.ExceptionHandler and mark methods with "
                    "@handles(...)."
                )
            handler = handler(self.app)
        if not isinstance(handler, ExceptionHandler):
            raise ImproperlyConfiguredError(
                f"{handler!r} is not an ExceptionHandler; subclass ferrule.core.ExceptionHandler."
            )
        pairs = handler.handlers()
        if not pairs:
            raise ImproperlyConfiguredError(
                f"{type(handler).__qualname__} declares no @handles(...) methods."
            )
        for exc_type, fn in pairs:
            self.add(exc_type, fn)

    def lookup(self, exc_type: type[BaseException]) -> HandlerFn | None:
        try:
            return self._cache[exc_type]
        except KeyError:
            pass
        found: HandlerFn | None = None
        for klass in exc_type.__mro__:
            fn = self._user.get(klass)
            if fn is not None:
                found = fn
                break
            if klass is HTTPException:
                break  # framework errors keep their built-in rendering
        self._cache[exc_type] = found
        return found

    async def render(self, req: Request, exc: BaseException) -> Response[Any]:
        """Turn ``exc`` into a response (user handler, HTTP error, or a 500)."""
        fn = self.lookup(type(exc))
        if fn is not None:
            try:
                if inspect.iscoroutinefunction(fn):
                    result = await fn(req, exc)
                else:
                    result = await run_sync(fn, req, exc)
            except Exception as handler_exc:
                if handler_exc is exc:
                    # Re-raising the exception declines it: default rendering applies.
                    return self.default(req, exc)
                logger.exception(
                    "Exception handler %r failed [request_id=%s]",
                    fn,
                    req.request_id,
                    exc_info=handler_exc,
                )
                return self.server_error(req, handler_exc)
            if result is None:
                return req.response
            if isinstance(result, Response):
                return result
            status = exc.status_code if isinstance(exc, HTTPException) else 200
            return Response(result, status_code=status)
        return self.default(req, exc)

    def default(self, req: Request, exc: BaseException) -> Response[Any]:
        """The built-in rendering: the error shape for HTTP errors, else a logged 500."""
        if isinstance(exc, HTTPException):
            return error_response(
                exc.status_code, exc.detail, exc.error_items, data=exc.data, headers=exc.headers
            )
        logger.error(
            "Unhandled exception in %s %s [request_id=%s]",
            req.method,
            req.path,
            req.request_id,
            exc_info=exc,
        )
        return self.server_error(req, exc)

    def server_error(self, req: Request, exc: BaseException) -> Response[Any]:
        data = None
        if self.app.config.DEBUG:
            data = {
                "exception": f"{type(exc).__qualname__}: {exc}",
                "traceback": traceback.format_exception(exc),
            }
        return error_response(500, "Internal server error", data=data, request_id=req.request_id)
