"""Streaming parsers behind ``forms.py``: python-multipart push parsers fed from
``Request.stream()``, with every form limit checked as the bytes arrive."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, QuerystringParser, parse_options_header

from .datastructures import Headers
from .exceptions import HTTPException
from .uploads import secure_filename

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .app import App
    from .request import Request

__all__ = ("FilePart", "FormLimits", "iter_multipart", "iter_urlencoded")

_MAX_HEADER_COUNT = 32


class FormLimits:
    """The form limits of an app, read once from its config."""

    __slots__ = ("max_field", "max_file", "max_header", "max_parts", "spool_max")

    def __init__(self, app: App) -> None:
        cfg = app.config
        self.max_parts: int = cfg.FORM_MAX_PARTS
        self.max_field: int = cfg.FORM_MAX_FIELD_SIZE
        max_file = cfg.FORM_MAX_FILE_SIZE
        self.max_file: int = cfg.MAX_BODY_SIZE if max_file is None else max_file
        self.max_header: int = cfg.FORM_MAX_PART_HEADER_SIZE
        self.spool_max: int = cfg.FORM_SPOOL_MAX_SIZE

    @classmethod
    def of(cls, app: App) -> FormLimits:
        limits: FormLimits | None = app.__dict__.get("_form_limits")
        if limits is None:
            limits = cls(app)
            app.__dict__["_form_limits"] = limits
        return limits


def _too_large(what: str, limit: int, key: str) -> HTTPException:
    return HTTPException(413, f"{what} exceeds the limit of {limit} (config {key}).")


# -- multipart streaming ------------------------------------------------------------


class _MultipartReader:
    """Feeds body chunks to the push parser and hands out its events one by one."""

    __slots__ = (
        "_chunks",
        "_done",
        "_ended",
        "_events",
        "_field",
        "_header_bytes",
        "_headers",
        "_limits",
        "_parser",
        "_parts",
        "_value",
    )

    def __init__(self, req: Request, boundary: bytes, limits: FormLimits) -> None:
        self._chunks = req.stream().__aiter__()
        self._events: deque[tuple[str, Any]] = deque()
        self._limits = limits
        self._done = self._ended = False
        self._parts = self._header_bytes = 0
        self._field = bytearray()
        self._value = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []
        try:
            self._parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
                max_header_count=_MAX_HEADER_COUNT,
                max_header_size=limits.max_header,
            )
        except FormParserError as exc:
            raise HTTPException(400, f"Malformed multipart body: {exc}") from None

    # Parser callbacks (synchronous, called from parser.write()).
    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > self._limits.max_parts:
            raise _too_large("Number of form parts", self._limits.max_parts, "FORM_MAX_PARTS")
        self._headers = []
        self._header_bytes = 0

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._limits.max_header:
            raise _too_large("Part headers", self._limits.max_header, "FORM_MAX_PART_HEADER_SIZE")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append((bytes(self._field).lower(), bytes(self._value)))
        self._field.clear()
        self._value.clear()

    def _on_headers_finished(self) -> None:
        self._events.append(("headers", self._headers))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(("end", None))

    def _on_end(self) -> None:
        self._ended = True

    async def next_event(self) -> tuple[str, Any] | None:
        """The next parser event, reading more of the body as needed; None at the end."""
        events = self._events
        while not events:
            if self._done:
                return None
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                if not self._ended:
                    raise HTTPException(
                        400, "Malformed multipart body: the closing boundary is missing"
                    ) from None
                continue
            if self._ended:
                continue  # epilogue after the closing boundary: ignored
            try:
                self._parser.write(chunk)
            except FormParserError as exc:
                if "header" in str(exc).lower():
                    raise _too_large(
                        "Part headers", self._limits.max_header, "FORM_MAX_PART_HEADER_SIZE"
                    ) from None
                raise HTTPException(400, f"Malformed multipart body: {exc}") from None
        return events.popleft()


class FilePart:
    """A file part streamed by ``req.form_iter()``: iterate it for its chunks.

    Nothing is spooled: each chunk is what arrived from the network (bounded by
    the server's receive size), and unread data is skipped when the iteration
    moves on to the next part. ``FORM_MAX_FILE_SIZE`` still applies (413).

    Attributes:
        name: the form field name.
        filename: the client's file name through ``secure_filename`` (display only).
        raw_filename: the name exactly as sent (untrusted).
        content_type: the part's ``Content-Type``.
        headers: the part's headers.
        size: bytes read so far.
    """

    __slots__ = (
        "_finished",
        "_limit",
        "_reader",
        "content_type",
        "filename",
        "headers",
        "name",
        "raw_filename",
        "size",
    )

    def __init__(
        self,
        reader: _MultipartReader,
        name: str,
        filename: str,
        content_type: str,
        headers: Headers,
        limit: int,
    ) -> None:
        self._reader = reader
        self._finished = False
        self._limit = limit
        self.name = name
        self.raw_filename = filename
        self.filename = secure_filename(filename)
        self.content_type = content_type
        self.headers = headers
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._finished:
            event = await self._reader.next_event()
            if event is None or event[0] != "data":
                self._finished = True
                return
            chunk: bytes = event[1]
            self.size += len(chunk)
            if self.size > self._limit:
                raise _too_large("Uploaded file", self._limit, "FORM_MAX_FILE_SIZE")
            yield chunk

    async def read(self) -> bytes:
        """The rest of the part (at most ``FORM_MAX_FILE_SIZE`` bytes)."""
        return b"".join([chunk async for chunk in self])

    async def _skip(self) -> None:
        async for _ in self:
            pass

    def __repr__(self) -> str:
        return f"<FilePart name={self.name!r} filename={self.filename!r}>"


def _decode(data: bytes | bytearray, what: str) -> str:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, f"Form {what} is not valid UTF-8") from None


def _part_info(raw: list[tuple[bytes, bytes]]) -> tuple[str, str | None, str, Headers]:
    headers = Headers(raw)
    disposition, options = parse_options_header(headers.get("content-disposition"))
    if disposition != b"form-data" or b"name" not in options:
        raise HTTPException(
            400, "Malformed multipart body: a part lacks 'Content-Disposition: form-data; name='"
        )
    name = _decode(options[b"name"], "part name")
    raw_filename = options.get(b"filename")
    filename = None if raw_filename is None else _decode(raw_filename, "file name")
    ctype = headers.get("content-type") or "application/octet-stream"
    return name, filename, ctype, headers


async def iter_multipart(
    req: Request, limits: FormLimits
) -> AsyncIterator[tuple[str, str | FilePart]]:
    _, options = parse_options_header(req._ctype)
    boundary = options.get(b"boundary")
    if not boundary:
        raise HTTPException(400, "Malformed multipart body: the boundary parameter is missing")
    reader = _MultipartReader(req, boundary, limits)
    while (event := await reader.next_event()) is not None:
        if event[0] != "headers":
            continue
        name, filename, ctype, headers = _part_info(event[1])
        if filename is None:
            buf = bytearray()
            while (event := await reader.next_event()) is not None and event[0] == "data":
                buf += event[1]
                if len(buf) > limits.max_field:
                    raise _too_large("Form field", limits.max_field, "FORM_MAX_FIELD_SIZE")
            yield name, _decode(buf, "field")
        else:
            part = FilePart(reader, name, filename, ctype, headers, limits.max_file)
            yield name, part
            await part._skip()


# -- urlencoded ---------------------------------------------------------------------


def _unquote(raw: bytearray) -> str:
    return unquote_to_bytes(bytes(raw).replace(b"+", b" ")).decode("utf-8", "replace")


async def iter_urlencoded(req: Request, limits: FormLimits) -> AsyncIterator[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    name = bytearray()
    value = bytearray()
    count = 0

    def on_field_start() -> None:
        nonlocal count
        count += 1
        if count > limits.max_parts:
            raise _too_large("Number of form fields", limits.max_parts, "FORM_MAX_PARTS")
        name.clear()
        value.clear()

    def check() -> None:
        if len(name) + len(value) > limits.max_field:
            raise _too_large("Form field", limits.max_field, "FORM_MAX_FIELD_SIZE")

    def on_field_name(data: bytes, start: int, end: int) -> None:
        name.extend(data[start:end])
        check()

    def on_field_data(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])
        check()

    def on_field_end() -> None:
        if name:
            fields.append((_unquote(name), _unquote(value)))

    parser = QuerystringParser(
        {
            "on_field_start": on_field_start,
            "on_field_name": on_field_name,
            "on_field_data": on_field_data,
            "on_field_end": on_field_end,
        }
    )
    async for chunk in req.stream():
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise HTTPException(400, f"Malformed form body: {exc}") from None
        for item in fields:
            yield item
        fields.clear()
    parser.finalize()
    for item in fields:
        yield item
