"""Uploaded files: ``UploadFile`` and ``secure_filename``.

An ``UploadFile`` holds the part's bytes in a ``tempfile.SpooledTemporaryFile``:
in memory up to ``FORM_SPOOL_MAX_SIZE``, then in an anonymous temporary file.
Writes that touch the disk (the rollover and every write after it), reads,
seeks and ``save()`` run in a worker thread, never on the event loop. The
client's file name is only ever *data*: it is never used to build a path.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from .datastructures import Headers

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ("UploadFile", "secure_filename")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNSAFE = re.compile(r"[<>:\"|?*]")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
_MAX_NAME = 255
_COPY_CHUNK = 64 * 1024


def secure_filename(filename: str | None, *, default: str = "") -> str:
    """A display/storage-safe version of a client-supplied file name.

    Keeps only the last path component (``/`` and ``\\`` both separate), drops
    NUL and control characters, characters Windows forbids, leading dots (so no
    ``..`` and no hidden files), Windows reserved device names and surrounding
    whitespace, and caps the length at 255 characters. Returns ``default`` when
    nothing is left. The result is still *untrusted text*: store files under a
    name you generate, and keep this one as metadata.
    """
    if not filename:
        return default
    name = unicodedata.normalize("NFC", filename)
    name = _CONTROL.sub("", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    name = name.strip().lstrip(".").strip()
    if not name or name.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        return default
    if len(name) > _MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) < 16:
            name = stem[: _MAX_NAME - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_NAME]
    return name


class UploadFile:
    """A file received in a ``multipart/form-data`` request.

    Attributes:
        filename: the client's file name passed through :func:`secure_filename`
            (for display; never use it as a path).
        raw_filename: the name exactly as the client sent it (untrusted).
        content_type: the part's ``Content-Type`` (``application/octet-stream``
            when absent).
        size: the number of bytes received.
        headers: the part's headers.
        file: the underlying ``SpooledTemporaryFile`` (blocking API: use the
            async methods of this class from async code).
    """

    __slots__ = (
        "_max_memory",
        "content_type",
        "file",
        "filename",
        "headers",
        "raw_filename",
        "size",
    )

    def __init__(
        self,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        headers: Headers | None = None,
        max_memory: int = 1024 * 1024,
    ) -> None:
        self.raw_filename = filename or ""
        self.filename = secure_filename(filename)
        self.content_type = content_type or "application/octet-stream"
        self.headers = headers if headers is not None else Headers()
        self.size = 0
        self._max_memory = max_memory
        # Resolved at call time so that the spool class can be observed in tests.
        self.file: Any = tempfile.SpooledTemporaryFile(max_size=max_memory)  # noqa: SIM115

    @property
    def in_memory(self) -> bool:
        """True while the content is still held in memory (not rolled over)."""
        return not bool(getattr(self.file, "_rolled", False))

    @property
    def closed(self) -> bool:
        return bool(self.file.closed)

    async def write(self, data: bytes) -> None:
        """Append ``data`` (used by the form parser).

        In-memory writes below the spool threshold are plain memory copies and run
        inline; the rollover to disk and every later write run in a worker thread.
        """
        if self.in_memory and self.size + len(data) <= self._max_memory:
            self.file.write(data)
        else:
            await to_thread.run_sync(self._write_to_disk, data)
        self.size += len(data)

    def _write_to_disk(self, data: bytes) -> None:
        if self.in_memory:
            # Explicit, so that a threshold of 0 means "always on disk" (for
            # SpooledTemporaryFile itself, max_size=0 means "never roll over").
            self.file.rollover()
        self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative) from the current position."""
        if self.in_memory:
            data: bytes = self.file.read(size)
            return data
        result: bytes = await to_thread.run_sync(self.file.read, size)
        return result

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the read position; returns the new position."""
        if self.in_memory:
            pos: int = self.file.seek(offset, whence)
            return pos
        moved: int = await to_thread.run_sync(self.file.seek, offset, whence)
        return moved

    async def close(self) -> None:
        """Close the file; a rolled-over temporary file is deleted."""
        if self.file.closed:
            return
        if self.in_memory:
            self.file.close()
        else:
            await to_thread.run_sync(self.file.close)

    async def save(self, destination: str | os.PathLike[str]) -> int:
        """Copy the whole content to ``destination`` (an explicit path you choose).

        The client's file name is never used: build ``destination`` yourself (for
        example from a generated id, or :func:`secure_filename` inside a directory
        you control). Returns the number of bytes written.
        """
        if not isinstance(destination, str | os.PathLike):
            raise TypeError("UploadFile.save() needs an explicit destination path")
        return await to_thread.run_sync(self._save_sync, os.fspath(destination))

    def _save_sync(self, destination: str) -> int:
        self.file.seek(0)
        with open(destination, "wb") as out:
            shutil.copyfileobj(self.file, out, _COPY_CHUNK)
            written = out.tell()
        self.file.seek(0)
        return written

    async def chunks(self, size: int = _COPY_CHUNK) -> AsyncIterator[bytes]:
        """Yield the content from the start in chunks of at most ``size`` bytes."""
        await self.seek(0)
        while chunk := await self.read(size):
            yield chunk

    def __repr__(self) -> str:
        return (
            f"<UploadFile filename={self.filename!r} content_type={self.content_type!r} "
            f"size={self.size}>"
        )
