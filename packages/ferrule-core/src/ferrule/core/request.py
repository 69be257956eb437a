"""The request object handed to handlers."""

from __future__ import annotations

from http.cookies import _unquote
from typing import TYPE_CHECKING, Any

from pydantic_core import from_json

from .datastructures import Headers, QueryParams, State
from .exceptions import HTTPException
from .responses import Response

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .app import App
    from .forms import FilePart, FormData
    from .sessions import Session
    from .types import Receive, Scope

__all__ = ("ClientDisconnectError", "Request")


class ClientDisconnectError(Exception):
    """The client went away before the request body was read."""


def parse_cookies(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        cookies[key] = _unquote(value.strip())
    return cookies


_UNSET: Any = object()


class Request:
    """An HTTP request. Everything is parsed lazily, at most once.

    Attributes:
        method: upper-case HTTP method.
        path: the decoded request path.
        route_parameters: values captured by the route rule.
        state: per-request attribute bag for middleware and hooks.
        app: the :class:`~ferrule.core.App` serving the request.
    """

    # No __slots__: what most requests never set (a body, parsed headers, a form,
    # a response builder, CORS headers...) is a class-level default, so the
    # constructor stores only what every request has. Python 3.11+ keeps the
    # stored attributes inline in the object, as fast as slots to read and write.
    route: Any = None
    request_id: str = ""
    _state: State | None = None
    _headers: Headers | None = None
    _query: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _body: bytes | None = None
    _json: Any = _UNSET
    if TYPE_CHECKING:  # (not a runtime annotation: typing.get_type_hints(Request) works)
        _form: FormData | None
    _form = None
    _response: Response[Any] | None = None
    _stream_consumed: bool = False
    #: CORS headers the kernel adds to the response (set when allowed).
    _cors: list[tuple[bytes, bytes]] | None = None
    _status: int = 0

    def __init__(self, scope: Scope, receive: Receive, app: App) -> None:
        self.scope = scope
        self._receive = receive
        self.app = app
        self.method: str = scope.get("method", "GET")
        path: str = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):
            # Mounted under a prefix (or served with --root-path): route on the rest.
            path = path[len(root) :] or "/"
        self.path = path
        self.route_parameters: dict[str, Any] = {}
        # What the kernel always needs from the headers, read with one dict built
        # in C. Repeated names (only possible when the sizes differ) take the
        # careful path: a repeated Host is ambiguous (RFC 9112 3.2) and must fail.
        raw = scope["headers"]
        index = dict(raw)
        host = index.get(b"host")
        if len(index) != len(raw) and sum(1 for name, _ in raw if name == b"host") > 1:
            host = b"/duplicate"
        self._host: bytes | None = host
        self._ctype: bytes | None = index.get(b"content-type")
        self._clen: bytes | None = index.get(b"content-length")
        rid_key = app._rid_key
        self._rid_in: bytes | None = index.get(rid_key) if rid_key is not None else None
        self._origin: bytes | None = index.get(b"origin")
        # Content negotiation (negotiation.py) compares it with */* and JSON types.
        # (`in` + `[]` rather than .get: no method call on every request.)
        self._accept: bytes | None = index[b"accept"] if b"accept" in index else None  # noqa: SIM401

    @property
    def state(self) -> State:
        """Per-request attribute bag for middleware, guards and hooks."""
        s = self._state
        if s is None:
            s = self._state = State()
        return s

    @property
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued request headers."""
        h = self._headers
        if h is None:
            h = self._headers = Headers(self.scope["headers"])
        return h

    @property
    def query_params(self) -> QueryParams:
        """Multi-valued query string parameters."""
        q = self._query
        if q is None:
            q = self._query = QueryParams(self.scope.get("query_string", b""))
        return q

    @property
    def query_string(self) -> str:
        qs: bytes = self.scope.get("query_string", b"")
        return qs.decode("latin-1")

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent by the client."""
        c = self._cookies
        if c is None:
            c = self._cookies = parse_cookies(self.headers.get("cookie", ""))
        return c

    @property
    def session(self) -> Session:
        """The session (needs ``SESSION_BACKEND``; see docs/sessions.md)."""
        from .sessions import session_of

        return session_of(self)

    @property
    def client(self) -> tuple[str, int] | None:
        """``(host, port)`` of the peer as reported by the server."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def url_scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def content_type(self) -> str:
        """The media type of the body, without parameters, lower-cased."""
        raw = self._ctype
        if raw is None:
            return ""
        if raw == b"application/json":
            return "application/json"
        return raw.decode("latin-1").partition(";")[0].strip().lower()

    @property
    def response(self) -> Response[Any]:
        """The response being built for this request (fluent builder)."""
        r = self._response
        if r is None:
            status = self.route.status_code if self.route is not None else 200
            r = self._response = Response(status_code=status)
        return r

    res = response

    def _check_declared_length(self) -> int:
        limit: int = self.app._max_body
        declared = self._clen
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise HTTPException(400, "Invalid Content-Length header") from None
            if size > limit:
                raise HTTPException(413, f"Request body exceeds the limit of {limit} bytes")
        return limit

    async def _next_chunk(self) -> tuple[bytes, bool]:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectError()
        return message.get("body", b""), message.get("more_body", False)

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, enforcing ``MAX_BODY_SIZE``."""
        if self._body is not None:
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("The request body stream was already consumed.")
        self._stream_consumed = True
        limit = self._check_declared_length()
        received = 0
        more = True
        while more:
            chunk, more = await self._next_chunk()
            if chunk:
                received += len(chunk)
                # Content-Length may be absent or lie: count what really arrives.
                if received > limit:
                    raise HTTPException(413, f"Request body exceeds the limit of {limit} bytes")
                yield chunk

    async def body(self) -> bytes:
        """Read and return the whole body (bounded by ``MAX_BODY_SIZE``)."""
        if self._body is not None:
            return self._body
        if self._stream_consumed:
            raise RuntimeError("The request body stream was already consumed.")
        self._stream_consumed = True
        limit = self._check_declared_length()
        # Not built on stream(): an async generator per request costs measurably.
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectError()
        chunk: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if not more:
            if len(chunk) > limit:
                raise HTTPException(413, f"Request body exceeds the limit of {limit} bytes")
            self._body = chunk
            return chunk
        chunks = [chunk]
        received = len(chunk)
        while more:
            chunk, more = await self._next_chunk()
            received += len(chunk)
            if received > limit:
                raise HTTPException(413, f"Request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """Parse the body as JSON; malformed JSON is a 400."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = from_json(body) if body else None
            except ValueError as exc:
                raise HTTPException(400, f"Malformed JSON body: {exc}") from None
        return self._json

    async def form(self) -> FormData:
        """Parse an urlencoded or multipart form once (a multi-dict of str and UploadFile).

        Uploaded files are closed (temporary files deleted) after the response.
        """
        f = self._form
        if f is None:
            from .forms import parse_form

            f = self._form = await parse_form(self)
        return f

    def form_iter(self) -> AsyncIterator[tuple[str, str | FilePart]]:
        """Stream the form: ``(name, str)`` for fields, ``(name, FilePart)`` for files."""
        from .forms import iter_form

        return iter_form(self)

    def url_for(self, endpoint: str, **values: Any) -> str:
        return self.app.url_for(endpoint, **values)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"
