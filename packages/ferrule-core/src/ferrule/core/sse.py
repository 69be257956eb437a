"""Server-Sent Events: ``return req.response.sse(events())``.

The iterator yields strings (sent as ``data``), ``ServerSentEvent`` objects, or
anything else, which is sent as JSON. While it is idle for ``SSE_KEEPALIVE``
seconds a ``: ping`` comment keeps proxies from closing the connection; when the
client disconnects the iterator is stopped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from .streaming import StreamingResponse

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable, Mapping

    from .request import Request

__all__ = ("EventSourceResponse", "ServerSentEvent")

# The only line terminators of the event-stream format (WHATWG HTML 9.2.5).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PING = b": ping\n\n"
_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
_DEFAULT: Any = object()


class ServerSentEvent:
    """One event of an event stream.

    Args:
        data: the payload; a ``str`` is sent as is (each line as a ``data:``
            line), anything else as JSON.
        event: the event type (``addEventListener(event, ...)`` in the browser).
        id: the event id (the browser resends the last one in ``Last-Event-ID``).
        retry: the reconnection delay the browser should use, in milliseconds.
        comment: a comment line (ignored by browsers).

    ``event`` and ``id`` cannot contain line breaks (that would let a value
    inject fields); ``id`` cannot contain NUL.
    """

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if event is not None and _LINE_BREAK.search(event):
            raise ValueError(f"SSE event type {event!r} cannot contain a line break.")
        if id is not None:
            id = str(id)
            if _LINE_BREAK.search(id) or "\0" in id:
                raise ValueError(f"SSE id {id!r} cannot contain a line break or NUL.")
        if retry is not None and (not isinstance(retry, int) or retry < 0):
            raise ValueError(f"SSE retry must be a non-negative int (ms), got {retry!r}.")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """The event in ``text/event-stream`` framing, ending with a blank line."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(": " + line for line in _LINE_BREAK.split(self.comment))
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            data = self.data if isinstance(self.data, str) else to_json(self.data).decode()
            lines.extend("data: " + line for line in _LINE_BREAK.split(data))
        if not lines:
            return b""
        return ("\n".join(lines) + "\n\n").encode()

    def __repr__(self) -> str:
        return f"ServerSentEvent(data={self.data!r}, event={self.event!r}, id={self.id!r})"


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response from an iterator of events.

    Usually built with ``req.response.sse(iterator)``. Sends
    ``Cache-Control: no-cache`` and ``X-Accel-Buffering: no`` (so nginx does
    not buffer the stream) unless the handler set them.

    Args:
        content: an async (or sync) iterator of ``str``, ``ServerSentEvent`` or
            JSON-serializable values.
        keepalive: seconds of silence before a ``: ping`` comment; defaults to
            ``SSE_KEEPALIVE``; ``None`` to never send one.
    """

    __slots__ = ("_keepalive",)

    default_media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        keepalive: float | None = _DEFAULT,
    ) -> None:
        super().__init__(content, status_code=status_code, headers=headers)
        self._keepalive = keepalive

    def encode(self, item: Any) -> bytes:
        if isinstance(item, ServerSentEvent):
            return item.encode()
        return ServerSentEvent(item).encode()

    def content_type(self) -> bytes:
        return b"text/event-stream"

    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return list(_HEADERS)

    def keepalive(self, req: Request) -> tuple[float | None, bytes]:
        interval = self._keepalive
        if interval is _DEFAULT:
            interval = req.app.config.SSE_KEEPALIVE
        return interval, _PING
