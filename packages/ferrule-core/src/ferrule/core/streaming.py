"""Streaming responses: chunks from an (async) iterator, and NDJSON.

The body is sent as it is produced, with chunked transfer (no
``Content-Length``). While streaming, the response watches the connection: when
the client disconnects, the iterator is stopped (an async generator sees
``CancelledError`` or ``GeneratorExit`` where it waits, so its ``finally``
runs) and nothing more is produced.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
from pydantic_core import to_json

from .responses import Response

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Self

    from anyio.streams.memory import MemoryObjectSendStream

    from .request import Request
    from .types import Receive, Send

__all__ = ("NDJSONResponse", "StreamingResponse")

_ITEM, _ERROR, _END, _PING = 0, 1, 2, 3
_DONE: Any = object()


class StreamingResponse(Response[Any]):
    """A response whose body comes from an iterator of ``str`` or ``bytes`` chunks.

    Args:
        content: an async iterator/iterable (e.g. an async generator), or a sync
            iterable (a sync generator is advanced in a worker thread, so it may block).
        status_code: the HTTP status.
        headers: extra response headers.
        media_type: the ``Content-Type`` (default ``application/octet-stream``).

    Example:
        >>> async def numbers():
        ...     for i in range(3):
        ...         yield f"{i}\\n"
        >>> StreamingResponse(numbers(), media_type="text/plain")
    """

    __slots__ = ("_source",)

    streaming = True
    default_media_type = "application/octet-stream"

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(None, status_code=status_code, headers=headers, media_type=media_type)
        if not isinstance(content, AsyncIterable | Iterable) or isinstance(
            content, str | bytes | dict
        ):
            raise TypeError(
                f"{type(self).__name__} needs an iterator of chunks (e.g. an async "
                f"generator), got {type(content).__name__}."
            )
        self._source = content

    def _inherit(self, builder: Response[Any]) -> Self:
        """Take status, headers and cookies set on ``req.response`` (the fluent builder)."""
        self.status_code = builder.status_code
        if builder._headers is not None:
            self.headers.update(builder._headers)
        if builder._cookies:
            self._cookies = list(builder._cookies)
        if builder.media_type is not None and self.media_type is None:
            self.media_type = builder.media_type
        return self

    # -- hooks for subclasses ------------------------------------------------------

    def encode(self, item: Any) -> bytes:
        """Turn one item of the iterator into bytes on the wire."""
        if isinstance(item, str):
            return item.encode()
        if isinstance(item, bytes | bytearray | memoryview):
            return bytes(item)
        raise TypeError(
            f"{type(self).__name__} chunks must be str or bytes, got {type(item).__name__}; "
            "use NDJSONResponse (req.response.ndjson) for objects."
        )

    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return []

    def keepalive(self, req: Request) -> tuple[float | None, bytes]:
        """Seconds of silence after which to send the returned bytes (None: never)."""
        return None, b""

    def content_type(self) -> bytes:
        mt = self.media_type or self.default_media_type
        if mt.startswith("text/") and "charset" not in mt:
            mt += "; charset=utf-8"
        return mt.encode("latin-1")

    # -- the kernel's streaming hook ------------------------------------------------

    async def stream(
        self, req: Request, send: Send, status: int, headers: list[tuple[bytes, bytes]]
    ) -> None:
        present = {name for name, _ in headers}
        if b"content-type" not in present:
            headers.append((b"content-type", self.content_type()))
        headers.extend(h for h in self.extra_headers() if h[0] not in present)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        source = _as_async_iterator(self._source)
        if req.method == "HEAD":
            await _aclose(source)
            await send({"type": "http.response.body", "body": b""})
            return
        interval, ping = self.keepalive(req)
        await pump(source, self.encode, req._receive, send, interval, ping)


class NDJSONResponse(StreamingResponse):
    """Newline-delimited JSON: one JSON value per line (``application/x-ndjson``).

    Items are serialized with pydantic-core, so pydantic models, dataclasses,
    datetimes and UUIDs work as in JSON responses.
    """

    __slots__ = ()

    default_media_type = "application/x-ndjson"

    def encode(self, item: Any) -> bytes:
        return to_json(item) + b"\n"


async def pump(
    source: AsyncIterator[Any],
    encode: Callable[[Any], bytes],
    receive: Receive,
    send: Send,
    keepalive: float | None = None,
    ping: bytes = b"",
) -> None:
    """Send ``encode(item)`` for each item of ``source`` as body chunks, then end the body.

    The iterator runs in its own task and hands items over a channel; a ticker
    task puts a keep-alive on the same channel when nothing was sent for
    ``keepalive`` seconds (the receive is never cancelled, so no item can be
    lost), and a watcher stops everything on ``http.disconnect``.
    """
    items_in, items_out = anyio.create_memory_object_stream[tuple[int, Any]](0)
    failure: BaseException | None = None
    last_sent = [anyio.current_time()]
    async with anyio.create_task_group() as tg:
        tg.start_soon(_watch_disconnect, receive, tg.cancel_scope)
        if keepalive is not None:
            tg.start_soon(_tick, items_in.clone(), keepalive, last_sent)
        tg.start_soon(_produce, source, items_in)
        async with items_out:
            while True:
                kind, item = await items_out.receive()
                if kind == _END:
                    break
                if kind == _ERROR:
                    failure = item
                    break
                try:
                    chunk = ping if kind == _PING else encode(item)
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except OSError:
                    # The server failed the send: the client is gone.
                    tg.cancel_scope.cancel()
                    break
                except Exception as exc:
                    failure = exc
                    break
                last_sent[0] = anyio.current_time()
        if failure is None and not tg.cancel_scope.cancel_called:
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b""})
        tg.cancel_scope.cancel()
    if failure is not None:
        # The response has started: let the server abort the connection (the
        # body is incomplete) and log the error.
        raise failure


async def _produce(
    source: AsyncIterator[Any], items: MemoryObjectSendStream[tuple[int, Any]]
) -> None:
    async with items:
        try:
            async for item in source:
                await items.send((_ITEM, item))
            await items.send((_END, None))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        except Exception as exc:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await items.send((_ERROR, exc))
        finally:
            # Also when cancelled while the generator waits at a ``yield``.
            with anyio.CancelScope(shield=True):
                await _aclose(source)


async def _tick(
    items: MemoryObjectSendStream[tuple[int, Any]], interval: float, last_sent: list[float]
) -> None:
    async with items:
        while True:
            idle = anyio.current_time() - last_sent[0]
            if idle >= interval:
                await items.send((_PING, None))
                last_sent[0] = anyio.current_time()
            else:
                await anyio.sleep(interval - idle)


async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


def _as_async_iterator(source: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(source, AsyncIterator):
        return source
    if isinstance(source, AsyncIterable):
        return aiter(source)
    if isinstance(source, list | tuple):
        return _from_sequence(source)
    return _from_sync_iterator(iter(source))


async def _from_sequence(items: list[Any] | tuple[Any, ...]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def _from_sync_iterator(iterator: Iterable[Any]) -> AsyncIterator[Any]:
    it = iter(iterator)
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, it, _DONE)
            if item is _DONE:
                return
            yield item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


async def _aclose(source: AsyncIterator[Any]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
