"""HTML forms: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Parsing streams the body from ``Request.stream()`` through python-multipart's
push parsers; the whole body is never held in memory. Every limit is a 413 in
the single error shape:

- ``MAX_BODY_SIZE``: the whole body (enforced by ``Request.stream()``);
- ``FORM_MAX_PARTS``: number of multipart parts / urlencoded fields;
- ``FORM_MAX_FIELD_SIZE``: one text field (name and value);
- ``FORM_MAX_FILE_SIZE``: one uploaded file (``None``: ``MAX_BODY_SIZE``);
- ``FORM_MAX_PART_HEADER_SIZE``: the headers of one multipart part.

``req.form()`` spools files into :class:`~ferrule.core.uploads.UploadFile`
objects (in memory up to ``FORM_SPOOL_MAX_SIZE``, then on disk, written from a
worker thread) and the kernel closes them after the response. ``req.form_iter()``
yields fields and :class:`FilePart` streams without spooling anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ._formparser import FilePart, FormLimits, iter_multipart, iter_urlencoded
from .binding import (
    ParamError,
    ParamInfo,
    _error_items,
    _is_sequence,
    _missing,
    _strip_optional,
    _validator,
)
from .exceptions import HTTPException, ImproperlyConfiguredError
from .uploads import UploadFile

if TYPE_CHECKING:
    from .binding import Dependant
    from .request import Request

__all__ = ("FilePart", "FormData", "FormLimits", "iter_form", "parse_form", "read_form_params")

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FORM_SOURCES = frozenset({"form", "form-model", "file"})

FormValue = str | UploadFile


class FormData(Mapping[str, FormValue]):
    """Form fields and files, multi-valued: ``form["a"]`` is the first value."""

    __slots__ = ("_dict", "_items")

    def __init__(self, items: list[tuple[str, FormValue]] | None = None) -> None:
        self._items = items or []
        self._dict: dict[str, FormValue] = {}
        for key, value in self._items:
            self._dict.setdefault(key, value)

    def __getitem__(self, key: str) -> FormValue:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[FormValue]:
        """Every value sent for ``key``, in order."""
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, FormValue]]:
        """All ``(name, value)`` pairs, repeated names included."""
        return list(self._items)

    async def close(self) -> None:
        """Close every uploaded file (deleting spooled temporary files)."""
        for _, value in self._items:
            if isinstance(value, UploadFile):
                await value.close()

    def __repr__(self) -> str:
        return f"FormData({self._items!r})"


# -- entry points -------------------------------------------------------------------


def _form_kind(req: Request) -> str:
    ctype = req.content_type
    if ctype in (MULTIPART, URLENCODED):
        return ctype
    if not ctype and req._clen in (None, b"0"):
        return ""  # no body at all: an empty form
    raise HTTPException(
        415,
        f"Unsupported media type {ctype or '(none)'!r}: this endpoint accepts "
        f"{URLENCODED} or {MULTIPART}.",
    )


async def iter_form(req: Request) -> AsyncIterator[tuple[str, str | FilePart]]:
    """Stream the form: ``(name, str)`` for fields, ``(name, FilePart)`` for files."""
    if req._form is not None:
        raise RuntimeError("req.form() already consumed the body; use its result instead.")
    kind = _form_kind(req)
    limits = FormLimits.of(req.app)
    if kind == MULTIPART:
        async for item in iter_multipart(req, limits):
            yield item
    elif kind == URLENCODED:
        async for field in iter_urlencoded(req, limits):
            yield field


async def parse_form(req: Request) -> FormData:
    """Parse the whole form, spooling files into ``UploadFile`` objects."""
    kind = _form_kind(req)
    limits = FormLimits.of(req.app)
    items: list[tuple[str, FormValue]] = []
    if kind == URLENCODED:
        items.extend([item async for item in iter_urlencoded(req, limits)])
    elif kind == MULTIPART:
        try:
            async for name, value in iter_multipart(req, limits):
                if isinstance(value, str):
                    items.append((name, value))
                    continue
                upload = UploadFile(
                    filename=value.raw_filename,
                    content_type=value.content_type,
                    headers=value.headers,
                    max_memory=limits.spool_max,
                )
                items.append((name, upload))
                async for chunk in value:
                    await upload.write(chunk)
                await upload.seek(0)
        except BaseException:
            await FormData(items).close()
            raise
    return FormData(items)


# -- parameter binding --------------------------------------------------------------


def _is_upload(annotation: Any) -> bool:
    ann = _strip_optional(annotation)
    if ann is UploadFile:
        return True
    return get_origin(ann) is list and get_args(ann) == (UploadFile,)


def bind_form_param(dep: Dependant, info: ParamInfo) -> None:
    """Compile a ``Form()`` / ``UploadFile`` parameter (read with the form body)."""
    base = info.annotation
    target = _strip_optional(base)
    if _is_upload(base):
        info.source = "file"
        info.is_list = get_origin(target) is list
    elif isinstance(target, type) and issubclass(target, BaseModel):
        info.source = "form-model"
        info.adapter = _validator(base)
    elif _has_upload(base):
        raise ImproperlyConfiguredError(
            f"Parameter {info.name!r} of {dep.name}: use UploadFile, UploadFile | None or "
            f"list[UploadFile] for uploaded files (got {base!r})."
        )
    else:
        info.source = "form"
        info.is_list = _is_sequence(base)
        info.adapter = _validator(base)
    dep.body_params.append(info)


def _has_upload(annotation: Any) -> bool:
    return annotation is UploadFile or any(_has_upload(a) for a in get_args(annotation))


def check_body_sources(dep: Dependant, name: str) -> None:
    """Form and JSON body parameters cannot share one request (startup error)."""
    form: list[str] = []
    json: list[str] = []

    def walk(d: Dependant) -> None:
        for info in d.body_params:
            (form if info.source in FORM_SOURCES else json).append(f"{d.name}({info.name})")
        for _, sub, _ in d.dependencies:
            walk(sub)

    walk(dep)
    if form and json:
        raise ImproperlyConfiguredError(
            f"{name} mixes form parameters ({', '.join(form)}) with JSON body parameters "
            f"({', '.join(json)}): a request has one body. Use Form() for all of them, "
            "or send JSON only."
        )


def _model_data(model: type[BaseModel], form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for fname, field in model.model_fields.items():
        key = field.alias or fname
        values = form.getlist(key)
        if values:
            ann = field.annotation
            many = _is_sequence(ann) or (
                _is_upload(ann) and get_origin(_strip_optional(ann)) is list
            )
            data[key] = values if many else values[0]
    return data


async def read_form_params(dep: Dependant, req: Request, kwargs: dict[str, Any]) -> None:
    """Fill the dependant's form and file parameters from ``await req.form()``."""
    form = await req.form()
    items: list[dict[str, Any]] = []
    for info in dep.body_params:
        loc = ["form", info.alias]
        if info.source == "form-model":
            model = _strip_optional(info.annotation)
            data = _model_data(model, form)
            if not data and not info.required:
                kwargs[info.name] = info.default
                continue
            assert info.adapter is not None
            try:
                kwargs[info.name] = info.adapter.validate_python(data)
            except ValidationError as exc:
                items.extend(_error_items(exc, ("form",)))
            continue
        values = form.getlist(info.alias)
        if not values:
            if info.required:
                items.extend(_missing("form", info.alias).items)
            else:
                kwargs[info.name] = info.default
            continue
        if info.source == "file":
            if not all(isinstance(v, UploadFile) for v in values):
                items.append({"loc": loc, "msg": "Expected a file upload", "type": "file_type"})
            else:
                kwargs[info.name] = values if info.is_list else values[0]
            continue
        if not all(isinstance(v, str) for v in values):
            items.append({"loc": loc, "msg": "Expected a text field", "type": "string_type"})
            continue
        raw: Any = values if info.is_list else values[0]
        if info.adapter is None:
            kwargs[info.name] = raw
            continue
        try:
            kwargs[info.name] = info.adapter.validate_python(raw)
        except ValidationError as exc:
            items.extend(_error_items(exc, tuple(loc)))
    if items:
        raise ParamError(items)
