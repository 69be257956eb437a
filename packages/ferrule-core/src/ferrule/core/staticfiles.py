"""Static files: ``STATIC_DIR`` served at ``STATIC_URL`` as the route ``Static.get``.

Installed from ``App.__init__`` only when ``STATIC_DIR`` is set. Files are
looked up, stat'ed and read in worker threads; the resolved path must stay
inside the resolved root (no ``..``, absolute paths, NUL bytes, symlinks out of
the root, sibling directories sharing the root's prefix). Conditional requests
(``ETag``/``If-None-Match``, ``Last-Modified``/``If-Modified-Since``) answer 304;
``Range`` requests answer 206 (``multipart/byteranges`` for several ranges).
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio

from ._concurrency import run_sync
from .exceptions import ImproperlyConfiguredError
from .request import Request  # noqa: TC001  (the route's annotations are resolved at startup)
from .responses import Response, error_response
from .routing.router import NotFoundError

if TYPE_CHECKING:
    from .app import App
    from .types import Send

__all__ = ("MAX_RANGES", "FileResponse", "install_static_files", "resolve_static_dir")

#: More ranges than this in one request are ignored: the whole file is sent (200).
MAX_RANGES = 8
CHUNK_SIZE = 64 * 1024
_RANGE_NUMBER = re.compile(r"[0-9]{0,64}")

_CHARSET_TYPES = frozenset({"application/javascript", "text/javascript"})
# A compressed file is served as the archive it is, never with Content-Encoding
# (the browser would unpack a download the user asked for as-is).
_ENCODED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
}


def resolve_static_dir(app: App) -> Path:
    """The absolute, resolved ``STATIC_DIR`` (relative paths start at ``BASE_PATH``)."""
    cfg = app.config
    raw = str(cfg.get("STATIC_DIR"))
    path = Path(raw)
    if not path.is_absolute():
        base = cfg.BASE_PATH or os.getcwd()
        path = Path(base) / path
    try:
        root = path.resolve(strict=True)
    except (OSError, RuntimeError):
        root = None
    if root is None or not root.is_dir():
        raise ImproperlyConfiguredError(
            f"STATIC_DIR={raw!r} resolves to {str(path)!r}, which is not an existing "
            "directory. Create it, fix STATIC_DIR (absolute, or relative to BASE_PATH), "
            "or set STATIC_DIR = None to serve no static files."
        )
    return root


def _static_prefix(app: App) -> str:
    url = str(app.config.get("STATIC_URL") or "")
    prefix = url.rstrip("/")
    if not prefix.startswith("/") or "<" in prefix:
        raise ImproperlyConfiguredError(
            f"STATIC_URL={url!r} must be a path below the root such as '/static' "
            "(starting with '/', not '/' itself, without route converters)."
        )
    return prefix


def install_static_files(app: App) -> None:
    """Add the ``Static.get`` route serving ``STATIC_DIR`` (called by ``App``)."""
    root = resolve_static_dir(app)
    prefix = _static_prefix(app)
    cfg = app.config
    max_age = int(cfg.get("STATIC_MAX_AGE", 3600))
    cache_control = "no-cache" if cfg.DEBUG or max_age <= 0 else f"public, max-age={max_age}"

    async def get(req: Request, filename: str) -> Response[Any]:
        found = await run_sync(_lookup, root, filename)
        if found is None:
            raise NotFoundError(req.path)
        path, st, ctype = found
        return _file_response(req, path, st, ctype, cache_control)

    get.__qualname__ = "Static.get"
    app.add_route(
        prefix + "/<path:filename>", get, ("GET",), name="Static.get", open_api_spec=False
    )


def _lookup(root: Path, filename: str) -> tuple[Path, os.stat_result, str] | None:
    """The regular file ``filename`` names inside ``root``, its stat and content type,
    or None (runs in a thread: mimetypes reads the system tables on first use)."""
    if "\x00" in filename or filename.startswith("/"):
        return None
    parts = filename.split("/")
    # Empty, "." and ".." segments are refused before touching the disk; on
    # Windows backslashes and drive letters would also be separators.
    if any(p in ("", ".", "..") for p in parts):
        return None
    if os.sep != "/" and any(("\\" in p or ":" in p) for p in parts):
        return None
    try:
        # resolve() follows every symlink: the real path must still be in the root
        # (is_relative_to compares whole components, so /srv/static-secret is out).
        path = root.joinpath(*parts).resolve(strict=True)
        if not path.is_relative_to(root):
            return None
        st = path.stat()
    except (OSError, ValueError, RuntimeError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None  # directories are never listed
    return path, st, _content_type(path)


def _content_type(path: Path) -> str:
    ctype, encoding = mimetypes.guess_type(path.name)
    if encoding is not None:
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    if ctype is None:
        return "application/octet-stream"
    if ctype.startswith("text/") or ctype in _CHARSET_TYPES:
        return ctype + "; charset=utf-8"
    return ctype


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2) against an If-None-Match list."""
    if header.strip() == "*":
        return True
    tag = etag.removeprefix("W/")
    return any(c.strip().removeprefix("W/") == tag for c in header.split(","))


def _not_modified_since(header: str, mtime: int) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, OverflowError):
        # OverflowError: a date field too large for datetime ("... 99999999999 ...").
        return False
    if since.tzinfo is None:
        return False
    return mtime <= int(since.timestamp())


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """Satisfiable ``(start, end)`` byte ranges (inclusive), sorted and merged.

    Returns None when the header must be ignored (not ``bytes=``, malformed, or
    more than :data:`MAX_RANGES` ranges) and ``[]`` when nothing is satisfiable.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    items = spec.split(",")
    if len(items) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for item in items:
        first, dash, last = item.strip().partition("-")
        # ASCII digits only ("\xb2".isdigit() is True but int() refuses it), and few
        # enough of them for int() (over 4300 digits it raises): both were 500s.
        if not dash or not _RANGE_NUMBER.fullmatch(first) or not _RANGE_NUMBER.fullmatch(last):
            return None
        if first == "":
            if last == "":
                return None
            length = int(last)
            if length > 0 and size > 0:
                ranges.append((max(size - length, 0), size - 1))
            continue
        start = int(first)
        if last and int(last) < start:
            return None
        end = int(last) if last else size - 1
        if start < size:
            ranges.append((start, min(end, size - 1)))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _file_response(
    req: Request, path: Path, st: os.stat_result, ctype: str, cache_control: str
) -> Response[Any]:
    size, mtime = st.st_size, int(st.st_mtime)
    etag = f'"{size:x}-{st.st_mtime_ns:x}"'
    modified = format_datetime(datetime.fromtimestamp(mtime, UTC), usegmt=True)
    validators = {"ETag": etag, "Last-Modified": modified, "Cache-Control": cache_control}
    headers = req.headers
    inm = headers.get("if-none-match")
    ims = headers.get("if-modified-since")
    if (inm is not None and _etag_matches(inm, etag)) or (
        inm is None and ims is not None and _not_modified_since(ims, mtime)
    ):
        return Response(status_code=304, headers=validators)
    response = FileResponse(path, size, ctype, headers=validators)
    header = headers.get("range")
    if header is None or not _if_range_ok(headers.get("if-range"), etag, modified):
        return response
    ranges = parse_range(header, size)
    if ranges is None:
        return response
    if not ranges:
        return error_response(
            416,
            f"Range {header!r} not satisfiable for a file of {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )
    response.ranges = ranges
    response.status_code = 206
    return response


def _if_range_ok(if_range: str | None, etag: str, modified: str) -> bool:
    """Honour Range only if the client's copy is current (strong comparison)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag
    return value == modified


class FileResponse(Response[Any]):
    """Stream a file (or byte ranges of it) from a worker thread, 64 KiB at a time.

    Example:
        >>> return FileResponse(Path("report.pdf"), size, "application/pdf")
    """

    __slots__ = ("boundary", "ctype", "path", "ranges", "size")

    streaming: ClassVar[bool] = True

    def __init__(
        self,
        path: Path,
        size: int,
        content_type: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self.path = path
        self.size = size
        self.ctype = content_type
        self.ranges: list[tuple[int, int]] | None = None
        self.boundary = os.urandom(12).hex()

    def _parts(self) -> list[tuple[bytes, int, int]]:
        """``(part header, start, end)`` for each range of a multipart answer."""
        ct = self.ctype.encode("latin-1")
        assert self.ranges is not None
        return [
            (
                b"--%s\r\ncontent-type: %s\r\ncontent-range: bytes %d-%d/%d\r\n\r\n"
                % (self.boundary.encode(), ct, start, end, self.size),
                start,
                end,
            )
            for start, end in self.ranges
        ]

    async def stream(
        self, req: Request, send: Send, status: int, headers: list[tuple[bytes, bytes]]
    ) -> None:
        headers.append((b"accept-ranges", b"bytes"))
        ranges = self.ranges
        parts: list[tuple[bytes, int, int]] = []
        if ranges is None:
            length = self.size
            headers.append((b"content-type", self.ctype.encode("latin-1")))
        elif len(ranges) == 1:
            start, end = ranges[0]
            length = end - start + 1
            headers.append((b"content-type", self.ctype.encode("latin-1")))
            headers.append((b"content-range", b"bytes %d-%d/%d" % (start, end, self.size)))
        else:
            parts = self._parts()
            closing = b"--%s--\r\n" % self.boundary.encode()
            length = sum(len(h) + e - s + 1 + 2 for h, s, e in parts) + len(closing)
            ctype = b"multipart/byteranges; boundary=" + self.boundary.encode()
            headers.append((b"content-type", ctype))
        headers.append((b"content-length", b"%d" % length))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if req.method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        async with await anyio.open_file(self.path, "rb") as f:
            if ranges is None:
                await _send_span(f, send, 0, self.size - 1, more=False)
            elif len(ranges) == 1:
                await _send_span(f, send, ranges[0][0], ranges[0][1], more=False)
            else:
                for head, start, end in parts:
                    await send({"type": "http.response.body", "body": head, "more_body": True})
                    await _send_span(f, send, start, end, more=True)
                    await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
                await send({"type": "http.response.body", "body": closing})


async def _send_span(f: Any, send: Send, start: int, end: int, *, more: bool) -> None:
    """Send bytes ``start..end`` (inclusive) of ``f``; the last message ends the body
    unless ``more``."""
    await f.seek(start)
    remaining = end - start + 1
    while remaining > 0:
        chunk = await f.read(min(CHUNK_SIZE, remaining))
        if not chunk:
            break  # the file shrank since it was stat'ed: the client sees a short body
        remaining -= len(chunk)
        await send(
            {"type": "http.response.body", "body": chunk, "more_body": more or remaining > 0}
        )
    if remaining > 0 or (not more and end < start):
        await send({"type": "http.response.body", "body": b"", "more_body": more})
