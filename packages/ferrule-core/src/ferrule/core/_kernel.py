"""The HTTP hot path: ASGI entry, request dispatch and response sending.

``App`` inherits this mixin; it is kept apart so that the per-request code sits
in one short module (DESIGN.md §4: the request path only executes compiled plans).
"""

from __future__ import annotations

import logging
import os
import re
from time import perf_counter
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from .exceptions import HTTPException
from .logging import request_id_var
from .middleware.security import add_missing
from .negotiation import JSON_ACCEPTS, negotiate
from .request import ClientDisconnectError, Request
from .responses import Response, error_response
from .routing.router import MethodNotAllowedError, Router

if TYPE_CHECKING:
    import itertools

    from pydantic import TypeAdapter

    from .config import BaseConfig
    from .cors import CorsPolicy
    from .exception_handlers import ExceptionHandlerRegistry
    from .hosts import HostValidator
    from .routing.route import Route
    from .routing.sockets import SocketRouter
    from .types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("HttpKernel",)

logger = logging.getLogger("ferrule.core")
_access_logger = logging.getLogger("ferrule.access")

_JSON_CT = (b"content-type", b"application/json")
_TEXT_CT = (b"content-type", b"text/plain; charset=utf-8")
_RID_OK = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}\Z")
_RID_PREFIX = os.urandom(4).hex()
_NO_BODY_STATUS = frozenset({204, 304}) | frozenset(range(100, 200))


class HttpKernel:
    """Per-request machinery of :class:`~ferrule.core.App`."""

    # Security headers (middleware/security.py), encoded at freeze; empty when disabled.
    _sec_http: tuple[tuple[bytes, bytes], ...] = ()
    _sec_https: tuple[tuple[bytes, bytes], ...] = ()

    if TYPE_CHECKING:
        config: BaseConfig
        propagate_exceptions: bool
        _router: Router | None
        _entry: ASGIApp | None
        _host_ok: HostValidator | None
        _cors: CorsPolicy | None
        _errors: ExceptionHandlerRegistry
        _rid_key: bytes | None
        _rid_counter: itertools.count[int]
        _access_log: bool
        _max_body: int
        _mounts: list[tuple[str, ASGIApp]]
        _sockets: SocketRouter | None

        def _freeze(self) -> None: ...

        async def _lifespan(self, receive: Receive, send: Send) -> None: ...

    #: Set at freeze: nothing wraps the kernel (no middleware, mounts or protective
    #: layers), so HTTP requests can go straight to ``_http`` (one frame less).
    _direct_http = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._direct_http and scope["type"] == "http":
            await self._http(scope, receive, send)
            return
        entry = self._entry
        if entry is None:
            self._freeze()
            entry = self._entry
            assert entry is not None
        await entry(scope, receive, send)

    async def _core(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self._mounts and kind != "lifespan":
            mounted = self._find_mount(scope)
            if mounted is not None:
                await mounted(scope, receive, send)
                return
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            from .routing.sockets import serve_websocket

            await serve_websocket(self, scope, receive, send)  # type: ignore[arg-type]

    def _find_mount(self, scope: Scope) -> ASGIApp | None:
        """The mounted app for this path, with ``scope`` rewritten for it."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for prefix, mounted in self._mounts:
            if path == prefix or path.startswith(prefix + "/"):
                # ASGI convention (Starlette >= 0.33, uvicorn): path stays absolute,
                # root_path grows by the prefix; the child strips it.
                scope["root_path"] = root + prefix
                return mounted
        return None

    def _request_id(self, incoming: bytes | None) -> str:
        if incoming is not None and _RID_OK.match(incoming):
            return incoming.decode("ascii")
        return f"{_RID_PREFIX}{next(self._rid_counter):08x}"

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = Request(scope, receive, self)  # type: ignore[arg-type]  # self is the App
        rid = req.request_id = self._request_id(req._rid_in)
        token = request_id_var.set(rid)
        access = self._access_log and _access_logger.isEnabledFor(logging.INFO)
        start = perf_counter() if access else 0.0
        try:
            await self._dispatch(req, send)
        finally:
            if req._form is not None:  # uploaded files: close and delete spooled temp files
                await req._form.close()
            request_id_var.reset(token)
            if access:
                _access_logger.info(
                    '%s "%s %s" %d %.2fms',
                    req.client[0] if req.client else "-",
                    req.method,
                    req.path,
                    req._status,
                    (perf_counter() - start) * 1000,
                    extra={"request_id": rid},
                )

    def _route(self, req: Request) -> Response[Any] | None:
        """Host check, CORS preflight and route match (shared with MiddlewareBase).

        Sets ``req.route`` and ``req.route_parameters``; returns a response when
        the request is answered here (a preflight), else None. Raises the 400/404/
        405/308 errors.
        """
        host = req._host
        host_ok: HostValidator = self._host_ok  # type: ignore[assignment]
        if host not in host_ok.accepted and not host_ok(host):  # accepted before: no call
            shown = host.decode("latin-1") if host else None
            raise HTTPException(400, f"Invalid Host header {shown!r}")
        router: Router = self._router  # type: ignore[assignment]
        origin = req._origin
        method = req.method
        if origin is not None and method == "OPTIONS":
            preflight = self._preflight(req, router)
            if preflight is not None:
                return preflight
        # Router.match's static-route lookup, inlined (a static route has no arguments:
        # req.route_parameters keeps its empty dict).
        slot = router.static.get(req.path)
        route = None if slot is None else slot.get(method)
        if route is not None:
            req.route_parameters = {}  # fresh, as Router.match returns (re-routing middleware)
        else:
            route, req.route_parameters = router.match(
                req.path, method, req.scope.get("query_string", b"")
            )
        req.route = route
        if origin is not None and route.cors is not None:
            req._cors = route.cors.headers_for(origin)
        return None

    async def _method_not_allowed(self, req: Request, exc: MethodNotAllowedError) -> Response[Any]:
        """Automatic OPTIONS (204 + Allow), or the 405 error response."""
        self._error_cors(req, req.route)
        if req.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ", ".join(exc.allowed)})
        return await self._errors.render(req, exc)

    async def _dispatch(self, req: Request, send: Send) -> None:
        try:
            answered = self._route(req)
            if answered is not None:
                await self._send(req, answered, send, None)
                return
            route: Route = req.route
            bare = route.bare
            result = await (route.handle(req) if bare is None else bare())
        except ClientDisconnectError:
            return
        except MethodNotAllowedError as exc:
            await self._send(req, await self._method_not_allowed(req, exc), send, None)
            return
        except Exception as exc:
            self._error_cors(req, req.route)
            response = await self._errors.render(req, exc)
            await self._send(req, response, send, None)
            if self.propagate_exceptions and self._unhandled(exc):
                raise
            return

        accept = req._accept
        if accept is not None and accept not in JSON_ACCEPTS:
            try:
                result = negotiate(req, route, result)  # msgpack/yaml by Accept, or 406
            except Exception as exc:  # the body failed its response model
                response = await self._errors.render(req, exc)
                await self._send(req, response, send, None)
                return
        # Fast paths: results that need no Response object end in the plain send below.
        status = route.status_code
        plain = route.plain_result and req._response is None
        if plain and type(result) is str:
            ctype, body = _TEXT_CT, result.encode()
        elif plain and (type(result) is dict or type(result) is list):
            try:
                body = to_json(result)
            except Exception as exc:
                response = await self._errors.render(req, exc)
                await self._send(req, response, send, None)
                return
            ctype = _JSON_CT
        elif (
            route.model_serializer is not None
            and type(result) is route.response_model
            and req._response is None
        ):
            ctype, body = _JSON_CT, route.model_serializer.to_json(result)
        else:
            response = route.to_response(req, result)
            if route.produces is not None and response.media_type is None:
                response.media_type = route.produces
            if not (
                response._headers is None
                and response._cookies is None
                and response.media_type is None
                and response.kind == "json"
                and not response.streaming
                and not response.needs_prepare
                and response.status_code not in _NO_BODY_STATUS
            ):
                try:
                    await self._send(req, response, send, route.response_adapter)
                except _RenderError as exc:
                    response = await self._errors.render(req, exc.__cause__ or exc)
                    await self._send(req, response, send, None)
                return
            # A plain JSON Response (e.g. -> Response[Model]): the short send path.
            try:
                body, _ = response.render(route.response_adapter)
            except Exception as exc:
                response = await self._errors.render(req, exc)
                await self._send(req, response, send, None)
                return
            ctype, status = _JSON_CT, response.status_code

        # The plain send: content type, length, request id, security and CORS headers.
        rid_key = self._rid_key
        # Security headers are unpacked in the list display (no extra call): empty
        # unless enabled.
        sec = self._sec_https if req.scope.get("scheme") == "https" else self._sec_http
        if rid_key is None:
            headers = [ctype, (b"content-length", b"%d" % len(body)), *sec]
        else:
            headers = [
                ctype,
                (b"content-length", b"%d" % len(body)),
                (rid_key, req.request_id.encode()),
                *sec,
            ]
        if req._cors is not None:
            headers += req._cors
        req._status = status
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})

    def _unhandled(self, exc: BaseException) -> bool:
        return not isinstance(exc, HTTPException) and self._errors.lookup(type(exc)) is None

    def _error_cors(self, req: Request, route: Route | None) -> None:
        """Error responses carry CORS headers too, so browsers can read them."""
        if req._origin is not None and req._cors is None:
            policy = route.cors if route is not None else self._cors
            if policy is not None:
                req._cors = policy.headers_for(req._origin)

    def _preflight(self, req: Request, router: Router) -> Response[Any] | None:
        """Answer a CORS preflight, or None when this OPTIONS is not one."""
        requested = req.headers.get("access-control-request-method")
        if requested is None:
            return None
        try:
            route, _ = router.match(req.path, requested.upper())
            policy, routed = route.cors, True
        except MethodNotAllowedError:
            policy, routed = self._cors, False
        except HTTPException:
            return None
        if policy is None or req._origin is None:
            return None
        status, headers = policy.preflight(
            req._origin, requested, req.headers.get("access-control-request-headers", "")
        )
        if status == 204 and routed:
            req._cors = headers
            return Response(status_code=204)
        req._cors = [(b"vary", b"Origin")]
        return error_response(
            403, f"CORS preflight refused for origin {req._origin.decode('latin-1')!r}"
        )

    async def _send(
        self,
        req: Request,
        response: Response[Any],
        send: Send,
        adapter: TypeAdapter[Any] | None,
    ) -> None:
        if response.needs_prepare:
            try:
                await response.prepare(req)
            except Exception as exc:
                # A failed prepare (e.g. rendering) must still answer: the error response
                # of the handlers never needs preparing itself, or gets the generic 500.
                fallback = await self._errors.render(req, exc)
                if fallback.needs_prepare:
                    fallback = self._errors.default(req, exc)
                response, adapter = fallback, None
        https = req.scope.get("scheme") == "https"
        if response.streaming:
            headers = response.raw_headers(https)
            if self._sec_http:
                add_missing(headers, self._sec_https if https else self._sec_http, response)
            if self._rid_key is not None:
                headers.append((self._rid_key, req.request_id.encode()))
            if req._cors is not None:
                headers.extend(req._cors)
            req._status = response.status_code
            await response.stream(req, send, response.status_code, headers)
            return
        try:
            body, ctype = response.render(adapter if response.kind == "json" else None)
        except Exception as exc:
            if adapter is None:
                raise
            raise _RenderError() from exc
        status = response.status_code
        headers = response.raw_headers(https)
        if self._sec_http:
            add_missing(headers, self._sec_https if https else self._sec_http, response)
        if ctype is not None and (
            response._headers is None or "content-type" not in response._headers
        ):
            headers.append((b"content-type", ctype))
        if status in _NO_BODY_STATUS:
            body = b""
        else:
            headers.append((b"content-length", b"%d" % len(body)))
        if self._rid_key is not None:
            headers.append((self._rid_key, req.request_id.encode()))
        if req._cors is not None:
            headers.extend(req._cors)
        req._status = status
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})

    def _guard(self, inner: ASGIApp) -> ASGIApp:
        """Route exceptions escaping middleware to the exception handlers."""

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            started = False

            async def tracking_send(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                await inner(scope, receive, tracking_send)
            except Exception as exc:
                if started:
                    if self.propagate_exceptions:  # the test client re-raises it
                        raise
                    logger.exception("Exception after the response started")
                    return
                req = Request(scope, receive, self)  # type: ignore[arg-type]
                req.request_id = self._request_id(req._rid_in)
                response = await self._errors.render(req, exc)
                await self._send(req, response, send, None)

        return guarded


class _RenderError(Exception):
    """The response body failed validation against the route's response model."""
