"""The response object: a fluent builder, also usable directly.

A handler may return a ``Response``, or a plain value (``dict``, ``list``,
pydantic model, ``str``, ``bytes``) that the kernel wraps in one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic_core import to_json

from .datastructures import MutableHeaders

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Self

    from pydantic import TypeAdapter

    from .request import Request
    from .types import Send

__all__ = ("Response", "error_response")

T = TypeVar("T")

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_HTML = b"text/html; charset=utf-8"
_TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")

Kind = Literal["json", "text", "html", "bytes", "empty"]


class Response(Generic[T]):
    """An HTTP response.

    Use it fluently from a handler (``req.response``) or construct it::

        return req.response.json({"id": 1}).status(201)
        return Response({"id": 1}, status_code=201)

    As a return annotation, ``Response[Model]`` validates and filters the JSON
    body through ``Model``: fields the model does not declare never leave the
    server.
    """

    __slots__ = ("_content", "_cookies", "_headers", "_kind", "media_type", "status_code")

    #: Subclasses that produce their body incrementally set this and implement
    #: :meth:`stream` (streaming, SSE, files).
    streaming: ClassVar[bool] = False
    #: Subclasses that need async work before rendering (templates) set this and
    #: implement :meth:`prepare`.
    needs_prepare: ClassVar[bool] = False

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = int(status_code)
        self.media_type = media_type
        self._headers: MutableHeaders | None = None
        self._cookies: list[dict[str, Any]] | None = None
        self._content: Any = None
        self._kind: Kind = "empty"
        if headers:
            self.headers.update(headers)
        if content is not None:
            self.content = content

    # -- content -------------------------------------------------------------

    @property
    def content(self) -> Any:
        """The unrendered body (object for JSON, ``str`` or ``bytes`` otherwise)."""
        return self._content

    @content.setter
    def content(self, value: Any) -> None:
        if isinstance(value, bytes | bytearray | memoryview):
            self._kind, self._content = "bytes", bytes(value)
        elif isinstance(value, str):
            self._kind, self._content = "text", value
        elif value is None:
            self._kind, self._content = "empty", None
        else:
            self._kind, self._content = "json", value

    @property
    def kind(self) -> Kind:
        return self._kind

    @property
    def headers(self) -> MutableHeaders:
        """Case-insensitive response headers (created on first use)."""
        h = self._headers
        if h is None:
            h = self._headers = MutableHeaders()
        return h

    # -- fluent builder ------------------------------------------------------

    def status(self, code: int) -> Self:
        """Set the status code."""
        self.status_code = int(code)
        return self

    def json(self, data: Any) -> Self:
        """Send ``data`` (dict, list, pydantic model...) as JSON."""
        self._kind, self._content = "json", data
        return self

    def text(self, text: str) -> Self:
        """Send plain text."""
        self._kind, self._content = "text", text
        return self

    def html(self, html: str, context: Mapping[str, Any] | None = None) -> Self:
        """Send an HTML document, or render a Jinja2 template (docs/templates.md).

        ``html("page.html", {"title": ...})`` renders a template: a call with a
        ``context`` always does, and so does a lone argument without ``<`` ending
        in ``.html``, ``.htm``, ``.jinja``, ``.jinja2`` or ``.j2``. Any other
        string is sent as the HTML body itself.
        """
        if context is not None or (html.endswith(_TEMPLATE_SUFFIXES) and "<" not in html):
            from .templates import use_template

            return use_template(self, html, context)
        self._kind, self._content = "html", html
        return self

    def html_from_string(self, source: str, context: Mapping[str, Any] | None = None) -> Self:
        """Render the template source ``source`` (autoescaped) with ``context``."""
        from .templates import use_template

        return use_template(self, source, context, from_string=True)

    def body(self, data: bytes, media_type: str | None = None) -> Self:
        """Send raw bytes."""
        self._kind, self._content = "bytes", bytes(data)
        if media_type is not None:
            self.media_type = media_type
        return self

    def sse(self, events: Any, **options: Any) -> Response[Any]:
        """Stream ``events`` as Server-Sent Events: ``return req.response.sse(gen())``.

        Returns a new streaming response with this one's status, headers and cookies.
        """
        from .sse import EventSourceResponse

        return EventSourceResponse(events, **options)._inherit(self)

    def ndjson(self, items: Any) -> Response[Any]:
        """Stream ``items`` as newline-delimited JSON: ``return req.response.ndjson(gen())``."""
        from .streaming import NDJSONResponse

        return NDJSONResponse(items)._inherit(self)

    def no_content(self) -> Self:
        """Answer 204 with an empty body."""
        self._kind, self._content = "empty", None
        self.status_code = 204
        return self

    def redirect(self, location: str, status: int = 303) -> Self:
        """Redirect the client to ``location`` (303 See Other by default)."""
        if "\r" in location or "\n" in location:
            raise ValueError(f"Invalid redirect location {location!r}")
        self.headers["location"] = location
        self.status_code = int(status)
        self._kind, self._content = "empty", None
        return self

    def set_header(self, key: str, value: str) -> Self:
        """Set a header, replacing any previous value of that name."""
        self.headers[key] = value
        return self

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | int | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool | None = None,
        http_only: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> Self:
        """Set a cookie. Secure defaults to on when the request came over https."""
        if self._cookies is None:
            self._cookies = []
        self._cookies.append(
            {
                "key": key,
                "value": value,
                "max_age": max_age,
                "expires": expires,
                "path": path,
                "domain": domain,
                "secure": secure,
                "http_only": http_only,
                "samesite": samesite,
            }
        )
        return self

    def delete_cookie(self, key: str, path: str = "/", domain: str | None = None) -> Self:
        """Tell the client to drop a cookie."""
        return self.set_cookie(
            key, "", max_age=0, expires=datetime(1970, 1, 1, tzinfo=UTC), path=path, domain=domain
        )

    # -- rendering (used by the kernel) -----------------------------------------

    async def prepare(self, req: Request) -> None:
        """Do async work before :meth:`render` (only called when ``needs_prepare``)."""

    async def stream(
        self, req: Request, send: Send, status: int, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """Send start and body messages yourself (only called when ``streaming``).

        ``headers`` already holds the request id, CORS and cookie headers.
        """
        body, ctype = self.render()
        if ctype is not None:
            headers.append((b"content-type", ctype))
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})

    def render(self, adapter: TypeAdapter[Any] | None = None) -> tuple[bytes, bytes | None]:
        """Return ``(body, content-type)`` for the current content."""
        kind = self._kind
        if kind == "json":
            if adapter is not None:
                content = self._content
                model = _model_of(adapter)
                if model is not None and type(content) is model:
                    # Already validated as exactly this model: serialize only.
                    body = model.__pydantic_serializer__.to_json(content)
                else:
                    value = adapter.validate_python(content, from_attributes=True)
                    body = adapter.dump_json(value)
            else:
                body = to_json(self._content)
            ctype = _JSON
        elif kind == "text":
            body, ctype = self._content.encode(), _TEXT
        elif kind == "html":
            body, ctype = self._content.encode(), _HTML
        elif kind == "bytes":
            body, ctype = self._content, None
        else:
            body, ctype = b"", None
        if self.media_type is not None:
            mt = self.media_type
            if mt.startswith("text/") and "charset" not in mt:
                mt += "; charset=utf-8"
            ctype = mt.encode("latin-1")
        elif ctype is None and kind == "bytes":
            ctype = b"application/octet-stream"
        return body, ctype

    def raw_headers(self, https: bool) -> list[tuple[bytes, bytes]]:
        """Encode headers and cookies for ASGI (without content-length/type)."""
        raw = self._headers.encoded() if self._headers is not None else []
        if self._cookies:
            for c in self._cookies:
                raw.append((b"set-cookie", _format_cookie(c, https).encode("latin-1")))
        return raw

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {self._kind}>"


def _model_of(adapter: TypeAdapter[Any]) -> Any:
    """The pydantic model class an adapter validates, or None (cached on it)."""
    try:
        return adapter._ferrule_model  # type: ignore[attr-defined]
    except AttributeError:
        pass
    from pydantic import BaseModel

    target = getattr(adapter, "_type", None)
    model = target if isinstance(target, type) and issubclass(target, BaseModel) else None
    try:
        adapter._ferrule_model = model  # type: ignore[attr-defined]
    except AttributeError:
        return model
    return model


def _format_cookie(c: dict[str, Any], https: bool) -> str:
    cookie: SimpleCookie = SimpleCookie()
    key = c["key"]
    cookie[key] = c["value"]
    morsel = cookie[key]
    if c["max_age"] is not None:
        morsel["max-age"] = c["max_age"]
    expires = c["expires"]
    if expires is not None:
        if isinstance(expires, int):
            expires = datetime.now(UTC) + timedelta(seconds=expires)
        morsel["expires"] = format_datetime(expires, usegmt=True)
    morsel["path"] = c["path"]
    if c["domain"]:
        morsel["domain"] = c["domain"]
    secure = https if c["secure"] is None else c["secure"]
    samesite = c["samesite"]
    if samesite == "none":
        # Browsers drop SameSite=None cookies that are not Secure.
        secure = True
    if secure:
        morsel["secure"] = True
    if c["http_only"]:
        morsel["httponly"] = True
    if samesite:
        morsel["samesite"] = samesite.capitalize()
    return morsel.OutputString()


def error_response(
    status_code: int,
    message: str,
    errors: list[Any] | None = None,
    *,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> Response[Any]:
    """Build the framework's single JSON error shape."""
    body: dict[str, Any] = {"status": "error", "message": message, "errors": errors or []}
    if data is not None:
        body["data"] = data
    if request_id:
        body["request_id"] = request_id
    return Response(body, status_code=status_code, headers=headers)
