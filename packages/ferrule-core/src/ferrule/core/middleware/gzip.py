"""Response compression: gzip, or Brotli when ``brotli`` is installed (``GZIP_ENABLED``)."""

from __future__ import annotations

import importlib
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("GZipMiddleware", "accepted_encoding")

_COMPRESSIBLE_PREFIXES = ("text/",)
_COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/x-ndjson",
        "application/ld+json",
        "application/manifest+json",
        "application/wasm",
        "application/yaml",
        "image/svg+xml",
    }
)
_NEVER = frozenset({"text/event-stream"})


def _brotli() -> Any:
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


def compressible(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    if media in _NEVER:
        return False
    return (
        media.startswith(_COMPRESSIBLE_PREFIXES)
        or media in _COMPRESSIBLE
        or media.endswith(("+json", "+xml"))
    )


def accepted_encoding(header: str, brotli_available: bool) -> str | None:
    """``"br"``, ``"gzip"`` or None from an Accept-Encoding value (q-values honoured).

    The highest q wins; on a tie Brotli is preferred. ``*`` covers codings not
    listed; ``q=0`` refuses.
    """
    listed: dict[str, float] = {}
    for part in header.split(","):
        coding, *params = part.split(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        listed[coding] = q
    star = listed.get("*", 0.0)
    candidates = ("br", "gzip") if brotli_available else ("gzip",)
    best, best_q = None, 0.0
    for coding in candidates:
        q = listed.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    return best


class _Encoder:
    def __init__(self, coding: str, brotli: Any) -> None:
        self.coding = coding
        if coding == "br":
            self._br = brotli.Compressor()
        else:
            self._gz = zlib.compressobj(6, zlib.DEFLATED, 31)

    def chunk(self, data: bytes) -> bytes:
        """Compress ``data`` and flush, so a streamed chunk reaches the client now."""
        if self.coding == "br":
            out: bytes = self._br.process(data) + self._br.flush()
            return out
        return self._gz.compress(data) + self._gz.flush(zlib.Z_SYNC_FLUSH)

    def finish(self, data: bytes = b"") -> bytes:
        if self.coding == "br":
            out: bytes = self._br.process(data) + self._br.finish()
            return out
        return self._gz.compress(data) + self._gz.flush(zlib.Z_FINISH)


class GZipMiddleware:
    """Compress compressible responses of at least ``minimum_size`` bytes.

    Adds ``Vary: Accept-Encoding`` to compressible responses; leaves alone
    responses that already have a ``Content-Encoding``, partial content (206,
    ``Content-Range``), event streams and ``Cache-Control: no-transform``.
    A streamed body (``more_body``) is compressed chunk by chunk and sent
    without ``Content-Length``. Installed by the app when ``GZIP_ENABLED``.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 500) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.brotli = _brotli()
        self._codings: dict[bytes, str | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = b",".join(v for k, v in scope["headers"] if k == b"accept-encoding")
        try:
            coding = self._codings[accept]
        except KeyError:
            coding = accepted_encoding(accept.decode("latin-1"), self.brotli is not None)
            if len(self._codings) < 256:  # clients send few distinct values
                self._codings[accept] = coding
        responder = _Responder(send, coding, self.minimum_size, self.brotli, scope)
        await self.app(scope, receive, responder.send)


class _Responder:
    def __init__(
        self, send: Send, coding: str | None, minimum: int, brotli: Any, scope: Scope
    ) -> None:
        self._send = send
        self.coding = coding
        self.minimum = minimum
        self.brotli = brotli
        self.head = scope.get("method") == "HEAD"
        self.start: Message | None = None
        self.encoder: _Encoder | None = None
        self.passthrough = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            return
        if self.passthrough or self.start is None:
            await self._send(message)
            return
        if kind != "http.response.body":  # e.g. http.response.pathsend: not ours to touch
            self.passthrough = True
            await self._send(self.start)
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.encoder is not None:
            data = self.encoder.chunk(body) if more else self.encoder.finish(body)
            await self._send({"type": "http.response.body", "body": data, "more_body": more})
            return
        # First body message: decide.
        start = self.start
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", ()))
        decision = self._decide(start["status"], headers, body, more)
        if decision is None:
            self.passthrough = True
            await self._send({**start, "headers": headers})
            await self._send(message)
            return
        encoder = self.encoder = _Encoder(decision, self.brotli)
        headers = [
            (k, _weak(v) if k.lower() == b"etag" else v)
            for k, v in headers
            if k.lower() != b"content-length"
        ]
        headers.append((b"content-encoding", decision.encode()))
        if more:
            data = encoder.chunk(body)
        else:
            data = encoder.finish(body)
            headers.append((b"content-length", b"%d" % len(data)))
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    def _decide(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, more: bool
    ) -> str | None:
        """The coding to use, or None; adds ``Vary`` to compressible responses."""
        ctype = length = None
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-type":
                ctype = value.decode("latin-1")
            elif lname == b"content-length":
                length = value
            elif lname in (b"content-encoding", b"content-range") or (
                lname == b"cache-control" and b"no-transform" in value.lower()
            ):
                return None
        if status == 206 or ctype is None or not compressible(ctype):
            return None
        _add_vary(headers)
        if self.coding is None or self.head or status < 200 or status in (204, 304):
            return None
        if not more:
            size = len(body)
        else:
            try:
                size = int(length) if length is not None else self.minimum
            except ValueError:
                size = self.minimum
        if size < self.minimum:
            return None
        return self.coding


def _add_vary(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            tokens = {t.strip().lower() for t in value.split(b",")}
            if b"accept-encoding" not in tokens and b"*" not in tokens:
                headers[i] = (name, value + b", Accept-Encoding")
            return
    headers.append((b"vary", b"Accept-Encoding"))


def _weak(etag: bytes) -> bytes:
    # The compressed bytes differ from the identity ones: a strong ETag would lie.
    return etag if etag.startswith(b"W/") else b"W/" + etag
