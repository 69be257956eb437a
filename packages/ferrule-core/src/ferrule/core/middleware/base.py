"""Response-level middleware (``MiddlewareBase``) and the app's middleware stack.

Pure ASGI middleware sees messages; a ``MiddlewareBase`` sees a ``Request`` and
returns a ``Response``. Apps that configure no ``MiddlewareBase`` never touch
this module's per-request code: the kernel keeps its fast paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..negotiation import JSON_ACCEPTS, negotiate
from ..request import ClientDisconnectError, Request
from ..responses import Response
from ..routing.router import MethodNotAllowedError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ..app import App
    from ..routing.route import Route
    from ..types import ASGIApp, Message, Receive, Scope, Send

    Next = Callable[[Request], Awaitable[Response[Any]]]

__all__ = ("MiddlewareBase", "wrap_middleware")

_UNHANDLED = "_ferrule_unhandled"


class MiddlewareBase:
    """Middleware written against ``Request`` and ``Response`` (seed style).

    Subclass it and implement :meth:`middleware`; call ``await self.next(req)``
    for the inner response, change it, or return your own to short-circuit.
    List the class in ``MIDDLEWARE`` or ``App(middleware=[...])``, mixed
    freely with ASGI middleware (the first listed is the outermost).

    Example:
        >>> class Timing(MiddlewareBase):
        ...     async def middleware(self, req: Request) -> Response[Any]:
        ...         t0 = time.perf_counter()
        ...         res = await self.next(req)
        ...         res.headers["x-time-ms"] = f"{(time.perf_counter() - t0) * 1000:.1f}"
        ...         return res

    Exceptions raised here reach the app's exception handlers. Options given
    with ``app.add_middleware(Cls, key=value)`` are passed to ``__init__``.
    """

    def __init__(self, app: App, next: Next, **options: Any) -> None:
        self.app = app
        self.next = next
        self.options = options

    async def middleware(self, req: Request) -> Response[Any]:
        """Handle ``req``; the default passes it on unchanged."""
        return await self.next(req)


def is_response_middleware(factory: Any) -> bool:
    return isinstance(factory, type) and issubclass(factory, MiddlewareBase)


def wrap_middleware(app: App, core: ASGIApp, entries: list[tuple[Any, dict[str, Any]]]) -> ASGIApp:
    """Wrap ``core`` in ``entries`` (first = outermost), ASGI and MiddlewareBase mixed.

    ``MiddlewareBase`` entries with only other ``MiddlewareBase`` entries inside
    them run inside the kernel on the real Response. Those listed outside an
    ASGI middleware receive that middleware's output as a buffered Response.
    """
    entry = core
    pending: list[tuple[type[MiddlewareBase], dict[str, Any]]] = []
    for factory, options in reversed(entries):
        if is_response_middleware(factory):
            pending.append((factory, options))
            continue
        entry = _flush(app, core, entry, pending)
        entry = factory(entry, **options)
    return _flush(app, core, entry, pending)


def _chain(
    app: App, innermost: Next, pending: list[tuple[type[MiddlewareBase], dict[str, Any]]]
) -> Next:
    call = innermost
    for cls, options in pending:  # innermost first
        call = cls(app, call, **options).middleware
    pending.clear()
    return call


def _flush(
    app: App,
    core: ASGIApp,
    entry: ASGIApp,
    pending: list[tuple[type[MiddlewareBase], dict[str, Any]]],
) -> ASGIApp:
    if not pending:
        return entry
    if entry is core:
        # Innermost: the kernel produces a Response instead of sending directly.
        head = _chain(app, lambda req: respond(app, req), pending)
        vars(app)["_dispatch"] = _ChainDispatch(app, head)
        return entry
    adapter = _BufferedAdapter(app, entry)
    adapter.head = _chain(app, adapter.call_inner, pending)
    return adapter


class _ChainDispatch:
    """Replaces ``App._dispatch`` when MiddlewareBase runs inside the kernel."""

    __slots__ = ("app", "head")

    def __init__(self, app: App, head: Next) -> None:
        self.app = app
        self.head = head

    async def __call__(self, req: Request, send: Send) -> None:
        app = self.app
        try:
            response = await self.head(req)
        except ClientDisconnectError:
            return
        except Exception as exc:
            app._error_cors(req, req.route)
            response = await app._errors.render(req, exc)
            await app._send(req, response, send, None)
            if app.propagate_exceptions and app._unhandled(exc):
                raise
            return
        if not isinstance(response, Response):
            response = await app._errors.render(
                req,
                TypeError(f"Middleware returned {response!r} instead of a Response"),
            )
        await app._send(req, response, send, None)
        state = req._state
        if state is not None and hasattr(state, _UNHANDLED):
            raise getattr(state, _UNHANDLED)


async def respond(app: App, req: Request) -> Response[Any]:
    """Run the request through routing and its handler; return the Response.

    Routing and error handling are the kernel's own (``_route``,
    ``_method_not_allowed``); only the send fast paths of ``_dispatch`` are left out.
    """
    try:
        answered = app._route(req)
        if answered is not None:
            return answered
        route: Route = req.route
        result = await route.handle(req)
        accept = req._accept
        if accept is not None and accept not in JSON_ACCEPTS:
            result = negotiate(req, route, result)
        response = route.to_response(req, result)
        if route.produces is not None and response.media_type is None:
            response.media_type = route.produces
        adapter = route.response_adapter
        if adapter is not None and response.kind == "json":
            # Filter through the response model now, so middleware sees what is sent.
            value = adapter.validate_python(response.content, from_attributes=True)
            response.content = adapter.dump_python(value, mode="json")
    except ClientDisconnectError:
        raise
    except MethodNotAllowedError as exc:
        return await app._method_not_allowed(req, exc)
    except Exception as exc:
        app._error_cors(req, req.route)
        response = await app._errors.render(req, exc)
        if app.propagate_exceptions and app._unhandled(exc):
            setattr(req.state, _UNHANDLED, exc)
        return response
    return response


class _BufferedAdapter:
    """MiddlewareBase listed outside an ASGI middleware: buffer what it sends."""

    def __init__(self, app: App, inner: ASGIApp) -> None:
        self.app = app
        self.inner = inner
        self.head: Next | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.head is None:
            await self.inner(scope, receive, send)
            return
        req = Request(scope, receive, self.app)
        response = await self.head(req)
        body, ctype = response.render()
        headers = response.raw_headers(scope.get("scheme") == "https")
        if ctype is not None and (
            response._headers is None or "content-type" not in response._headers
        ):
            headers.append((b"content-type", ctype))
        headers.append((b"content-length", b"%d" % len(body)))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})

    async def call_inner(self, req: Request) -> Response[Any]:
        status = 500
        raw: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, raw
            if message["type"] == "http.response.start":
                status = message["status"]
                raw = list(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.inner(req.scope, req._receive, capture)
        response: Response[Any] = Response(b"".join(chunks), status_code=status)
        for name, value in raw:
            if name.lower() != b"content-length":
                response.headers.add(name.decode("latin-1"), value.decode("latin-1"))
        return response
