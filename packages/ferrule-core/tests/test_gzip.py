"""GZIP_ENABLED: gzip / Brotli compression of compressible responses."""

from __future__ import annotations

import gzip
import importlib
import zlib
from typing import TYPE_CHECKING, Any

import anyio
import brotli
import pytest

from ferrule.core import App, Controller, Request, Response, StreamingResponse, get, path
from ferrule.core.middleware.gzip import GZipMiddleware, accepted_encoding, compressible

if TYPE_CHECKING:
    from ferrule.core.types import Message

BIG = "x" * 2000


@path("/z")
class ZipApi(Controller):
    @get("/big")
    async def big(self) -> dict[str, str]:
        return {"data": BIG}

    @get("/small")
    async def small(self) -> dict[str, str]:
        return {"data": "x"}

    @get("/png")
    async def png(self, req: Request) -> Response[Any]:
        return req.response.body(b"\x89PNG" + b"\0" * 2000, media_type="image/png")

    @get("/encoded")
    async def encoded(self, req: Request) -> Response[Any]:
        return req.response.body(gzip.compress(BIG.encode()), media_type="text/plain").set_header(
            "Content-Encoding", "gzip"
        )

    @get("/partial")
    async def partial(self, req: Request) -> Response[Any]:
        res = req.response.body(BIG.encode(), media_type="text/plain").status(206)
        return res.set_header("Content-Range", f"bytes 0-1999/{len(BIG) * 2}")

    @get("/events")
    async def events(self) -> StreamingResponse:
        async def gen() -> Any:
            yield "data: " + BIG + "\n\n"

        return StreamingResponse(gen(), media_type="text/event-stream")

    @get("/stream")
    async def stream(self) -> StreamingResponse:
        async def gen() -> Any:
            for i in range(3):
                yield f"{i}:" + BIG + "\n"

        return StreamingResponse(gen(), media_type="application/x-ndjson")

    @get("/etag")
    async def etag(self, req: Request) -> Response[Any]:
        return req.response.text(BIG).set_header("ETag", '"abc"').set_header("Vary", "Origin")


def _receiver() -> Any:
    """The request body once, then wait (as a server does until the client leaves)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b""}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def make(**config: Any) -> App:
    return App({"GZIP_ENABLED": True, **config}, controllers=[ZipApi])


async def raw_get(
    app: App, url: str, accept_encoding: str | None = "gzip"
) -> tuple[Message, bytes]:
    """Call the app at the ASGI level, without an HTTP client that decodes bodies."""
    app._freeze()
    messages: list[Message] = []
    headers = [(b"host", b"localhost")]
    if accept_encoding is not None:
        headers.append((b"accept-encoding", accept_encoding.encode()))

    receive = _receiver()

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
    }
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return messages[0], body


def hdrs(start: Message) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in start["headers"]}


async def test_gzip_compresses_large_json() -> None:
    start, body = await raw_get(make(), "/z/big", "gzip")
    h = hdrs(start)
    assert h["content-encoding"] == "gzip"
    assert h["vary"] == "Accept-Encoding"
    assert int(h["content-length"]) == len(body) < 2000
    assert gzip.decompress(body) == b'{"data":"' + BIG.encode() + b'"}'
    assert h["x-content-type-options"] == "nosniff"  # other headers kept


async def test_brotli_preferred_when_both_allowed() -> None:
    start, body = await raw_get(make(), "/z/big", "gzip, deflate, br")
    assert hdrs(start)["content-encoding"] == "br"
    assert brotli.decompress(body).startswith(b'{"data":"xxx')


async def test_q_values_are_honoured() -> None:
    start, _ = await raw_get(make(), "/z/big", "br;q=0.5, gzip;q=0.9")
    assert hdrs(start)["content-encoding"] == "gzip"
    refused, raw = await raw_get(make(), "/z/big", "gzip;q=0, br;q=0")
    assert "content-encoding" not in hdrs(refused)
    assert hdrs(refused)["vary"] == "Accept-Encoding"
    assert raw.startswith(b'{"data"')
    star, _ = await raw_get(make(), "/z/big", "*;q=0.3")
    assert hdrs(star)["content-encoding"] == "br"


async def test_no_accept_encoding_no_compression() -> None:
    start, body = await raw_get(make(), "/z/big", None)
    h = hdrs(start)
    assert "content-encoding" not in h
    assert h["vary"] == "Accept-Encoding"
    assert int(h["content-length"]) == len(body)


@pytest.mark.parametrize("url", ["/z/small", "/z/png", "/z/partial", "/z/events"])
async def test_not_compressed(url: str) -> None:
    start, body = await raw_get(make(), url, "gzip, br")
    h = hdrs(start)
    assert "content-encoding" not in h, url
    assert len(body) > 0


async def test_already_encoded_is_left_alone() -> None:
    start, body = await raw_get(make(), "/z/encoded", "gzip, br")
    h = hdrs(start)
    assert h["content-encoding"] == "gzip"
    assert gzip.decompress(body) == BIG.encode()  # not compressed twice


async def test_min_size_is_configurable() -> None:
    start, _ = await raw_get(make(GZIP_MIN_SIZE=5), "/z/small", "gzip")
    assert hdrs(start)["content-encoding"] == "gzip"
    start, _ = await raw_get(make(GZIP_MIN_SIZE=100_000), "/z/big", "gzip")
    assert "content-encoding" not in hdrs(start)


async def test_streaming_is_compressed_chunk_wise() -> None:
    app = make()
    app._freeze()
    messages: list[Message] = []

    receive = _receiver()

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/z/stream",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 1),
    }
    await app(scope, receive, send)
    h = hdrs(messages[0])
    assert h["content-encoding"] == "gzip"
    assert "content-length" not in h
    bodies = [m for m in messages[1:] if m["type"] == "http.response.body"]
    assert len(bodies) >= 3
    # Each chunk is flushed: the first one decodes on its own.
    first = zlib.decompressobj(31).decompress(bodies[0]["body"])
    assert first.startswith(b"0:xxx")
    whole = zlib.decompressobj(31).decompress(b"".join(m["body"] for m in bodies))
    assert whole.count(b"\n") == 3


async def test_strong_etag_is_weakened_and_vary_merged() -> None:
    start, _ = await raw_get(make(), "/z/etag", "gzip")
    h = hdrs(start)
    assert h["etag"] == 'W/"abc"'
    assert h["vary"] == "Origin, Accept-Encoding"


async def test_off_by_default() -> None:
    app = App(controllers=[ZipApi])
    start, _ = await raw_get(app, "/z/big", "gzip")
    assert "content-encoding" not in hdrs(start)
    assert "vary" not in hdrs(start)


async def test_gzip_only_when_brotli_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake(name: str, *args: Any) -> Any:
        if name == "brotli":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake)
    middleware = GZipMiddleware(lambda *a: None)  # type: ignore[arg-type, return-value]
    assert middleware.brotli is None
    assert accepted_encoding("br, gzip", brotli_available=False) == "gzip"
    assert accepted_encoding("br", brotli_available=False) is None


def test_compressible_types() -> None:
    for ctype in (
        "text/html; charset=utf-8",
        "application/json",
        "application/problem+json",
        "application/javascript",
        "image/svg+xml",
        "application/xml",
    ):
        assert compressible(ctype), ctype
    for ctype in ("image/png", "application/octet-stream", "text/event-stream", "video/mp4"):
        assert not compressible(ctype), ctype
