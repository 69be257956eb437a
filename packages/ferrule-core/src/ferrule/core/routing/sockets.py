"""WebSocket routes: compiled ``@socket`` handlers, their router and the dispatcher.

WebSocket rules live in their own Werkzeug ``Map``, so the HTTP router and its
fast paths are untouched. The dispatcher checks the Host, the Origin and the
route's guards before the handler runs (a refusal closes the handshake), then
runs the handler with the same dependency injection as HTTP handlers.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

import anyio
from werkzeug.exceptions import HTTPException as WerkzeugHTTPException
from werkzeug.routing import Map, RequestRedirect, Rule

from ..binding import compile_dependant, resolve_hints
from ..controller import class_guards, get_meta
from ..di import RequestContext, solve
from ..exceptions import FerruleError, HTTPException, ImproperlyConfiguredError
from ..logging import request_id_var
from ..responses import Response, error_response
from ..websockets import (
    INTERNAL_ERROR,
    NOT_FOUND,
    POLICY_VIOLATION,
    OriginPolicy,
    WebSocket,
    WebSocketDisconnect,
    _State,
)
from .compiler import _guard_hook, _join, _members, rule_arguments

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..app import App
    from ..binding import Dependant
    from ..controller import Controller
    from ..types import Receive, Scope, Send
    from .route import Hook, Route

__all__ = ("SocketRoute", "SocketRouter", "compile_sockets", "serve_websocket")

logger = logging.getLogger("ferrule.core.websockets")


class SocketRoute:
    """One ``@socket`` handler on one rule, compiled at startup."""

    __slots__ = ("controller", "dependant", "endpoint", "guards", "handler", "meta", "rule")

    def __init__(
        self,
        *,
        endpoint: str,
        rule: str,
        handler: Callable[..., Any],
        dependant: Dependant,
        guards: tuple[Hook, ...],
        controller: Controller | None,
        meta: dict[str, Any],
    ) -> None:
        self.endpoint = endpoint
        self.rule = rule
        self.handler = handler
        self.dependant = dependant
        self.guards = guards
        self.controller = controller
        self.meta = meta

    def __repr__(self) -> str:
        return f"<SocketRoute {self.rule} -> {self.endpoint}>"


def compile_sockets(app: App, controller: Controller) -> list[SocketRoute]:
    """Compile every ``@socket`` handler declared on ``controller``."""
    cls = type(controller)
    cmeta = cls.__ferrule_controller__
    debug = app.config.DEBUG
    if cmeta.development and not debug:
        return []
    found: list[SocketRoute] = []
    for name, value in _members(cls):
        meta = get_meta(value)
        specs = meta.get("sockets")
        if not specs or (meta.get("development") and not debug):
            continue
        handler = getattr(controller, name)
        if not inspect.iscoroutinefunction(handler):
            raise ImproperlyConfiguredError(
                f"@socket handler {cls.__name__}.{name} must be 'async def': a WebSocket "
                "handler awaits its messages."
            )
        resolve_hints(handler)  # a clear error for unresolvable annotations
        guards = tuple(
            _guard_hook(check) for check in (*class_guards(cls), *meta.get("guards", ()))
        )
        for spec_rule, spec_name in specs:
            rule = _join(cmeta.prefix, spec_rule)
            endpoint = spec_name or f"{cls.__name__}.{name}"
            dep = compile_dependant(
                handler, app=app, path_params=rule_arguments(rule), name=endpoint
            )
            if dep.has_body:
                raise ImproperlyConfiguredError(
                    f"@socket handler {endpoint} has a body parameter; a WebSocket has no "
                    "request body. Read messages with ws.receive_json() instead."
                )
            found.append(
                SocketRoute(
                    endpoint=endpoint,
                    rule=rule,
                    handler=handler,
                    dependant=dep,
                    guards=guards,
                    controller=controller,
                    meta=meta,
                )
            )
    return found


def _websocket_params(dep: Dependant) -> list[str]:
    names = [p.name for p in dep.params if p.source == "websocket"]
    for _, sub, _ in dep.dependencies:
        names.extend(_websocket_params(sub))
    return names


def check_http_routes(routes: list[Route]) -> None:
    """A ``WebSocket`` parameter on an HTTP handler is a startup error."""
    for route in routes:
        names = _websocket_params(route.dependant)
        if names:
            raise ImproperlyConfiguredError(
                f"HTTP route {route.endpoint} ({route.rule}) has a WebSocket parameter "
                f"{names[0]!r}; declare the handler with @socket(...) instead of an HTTP "
                "method decorator."
            )


class SocketRouter:
    """``@socket`` rules in their own Werkzeug ``Map``."""

    def __init__(self, app: App, routes: list[SocketRoute]) -> None:
        self.routes = routes
        self.origins = OriginPolicy(app.config.WEBSOCKET_ALLOWED_ORIGINS)
        self.map = Map(strict_slashes=False, merge_slashes=False)
        seen: dict[str, SocketRoute] = {}
        for route in routes:
            other = seen.get(route.endpoint)
            if other is not None and other.handler != route.handler:
                raise FerruleError(
                    f"Two socket handlers share the endpoint name {route.endpoint!r} "
                    f"({other.rule} and {route.rule}); give one a name=... ."
                )
            seen[route.endpoint] = route
            rule = Rule(route.rule, endpoint=route.endpoint, methods=["GET"])
            rule.ferrule_socket = route  # type: ignore[attr-defined]
            self.map.add(rule)
        self.adapter = self.map.bind("localhost", "/")

    def match(self, path: str) -> tuple[SocketRoute, dict[str, Any]] | None:
        try:
            rule, args = self.adapter.match(path, "GET", return_rule=True)
        except (WerkzeugHTTPException, RequestRedirect):
            return None
        route: SocketRoute = rule.ferrule_socket  # type: ignore[attr-defined]
        return route, dict(args)

    def url_for(self, endpoint: str, values: dict[str, Any]) -> str:
        return str(self.adapter.build(endpoint, values))


def build_socket_router(
    app: App, sockets: list[SocketRoute], routes: list[Route]
) -> SocketRouter | None:
    """Called once when the app freezes; None when the app has no socket handlers."""
    check_http_routes(routes)
    return SocketRouter(app, sockets) if sockets else None


# -- the dispatcher ----------------------------------------------------------------


async def serve_websocket(app: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI ``websocket`` connection."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    ws = WebSocket(scope, receive, send, app)
    rid = ws.request_id = app._request_id(ws._rid_in)
    token = request_id_var.set(rid)
    try:
        await _serve(app, ws)
    finally:
        request_id_var.reset(token)


async def _serve(app: App, ws: WebSocket) -> None:
    host_ok = app._host_ok
    assert host_ok is not None  # set when the app froze
    if not host_ok(ws._host):
        host = ws._host.decode("latin-1") if ws._host else None
        await _refuse(ws, 400, POLICY_VIOLATION, f"Invalid Host header {host!r}")
        return
    router: SocketRouter | None = app._sockets
    if router is None or (matched := router.match(ws.path)) is None:
        await _refuse(ws, 404, NOT_FOUND, f"Not found: {ws.path}")
        return
    if not router.origins.allows(ws._origin, ws._host, secure=ws.scope.get("scheme") == "wss"):
        origin = ws._origin.decode("latin-1") if ws._origin is not None else ""
        logger.warning("WebSocket to %s refused: Origin %r is not allowed", ws.path, origin)
        await _refuse(ws, 403, POLICY_VIOLATION, f"Origin {origin!r} is not allowed")
        return
    route, args = matched
    ws.route = route
    ws.route_parameters = args
    dep = route.dependant
    ctx = RequestContext() if dep.needs_context else None
    async with anyio.create_task_group() as tg:
        ws._task_group = tg
        error: BaseException | None = None
        try:
            for check in route.guards:
                rejected = await check(ws)
                if isinstance(rejected, Response):
                    await _refuse_with(ws, rejected, POLICY_VIOLATION, "Refused by a guard")
                    return
            kwargs = await solve(dep, ws, ctx, app)
            await route.handler(**kwargs)
        except WebSocketDisconnect:
            pass  # the client left, or a send_* already closed the connection
        except Exception as exc:
            error = exc
        if ctx is not None:
            try:
                await ctx.close(error)
            except Exception as exc:
                error = exc
        if error is None:
            await ws.close()
        elif isinstance(error, HTTPException):
            if ws._ws_state is _State.CONNECTING:
                await _refuse(ws, error.status_code, POLICY_VIOLATION, error.detail, error)
            else:
                await ws.close(POLICY_VIOLATION, error.detail)
        else:
            logger.error(
                "WebSocket handler %s failed (request id %s)",
                route.endpoint,
                ws.request_id,
                exc_info=error,
            )
            if ws._ws_state is _State.CONNECTING:
                await _refuse(ws, 500, INTERNAL_ERROR, "Internal server error")
            else:
                await ws.close(INTERNAL_ERROR, "Internal server error")
        if ws._queue_in is not None:
            ws._queue_in.close()
        tg.cancel_scope.cancel()


async def _refuse(
    ws: WebSocket, status: int, code: int, message: str, exc: HTTPException | None = None
) -> None:
    """Refuse the handshake: close before accept (servers answer 403), or with
    ``WEBSOCKET_DENIAL_RESPONSE`` an HTTP error response when the server supports it."""
    errors = exc.error_items if exc is not None else None
    response = error_response(status, message, errors, request_id=ws.request_id)
    await _refuse_with(ws, response, code, message)


async def _refuse_with(ws: WebSocket, response: Response[Any], code: int, reason: str) -> None:
    extensions = ws.scope.get("extensions") or {}
    if ws.app.config.WEBSOCKET_DENIAL_RESPONSE and "websocket.http.response" in extensions:
        body, ctype = response.render()
        headers = response.raw_headers(False)
        if ctype is not None:
            headers.append((b"content-type", ctype))
        headers.append((b"content-length", b"%d" % len(body)))
        rid_key = ws.app._rid_key
        if rid_key is not None:
            headers.append((rid_key, ws.request_id.encode()))
        await ws._send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        await ws._send({"type": "websocket.http.response.body", "body": body})
        ws._ws_state = _State.CLOSED
        return
    await ws.close(code, reason)
