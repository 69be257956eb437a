"""JSON schemas of pydantic types, collected first and generated together.

Every type a document needs is registered with :meth:`SchemaRegistry.add`,
which returns an empty dict placed in the document at once; :meth:`finish`
generates all schemas in one pass (so models shared by several operations
become one entry under ``components/schemas``, and name clashes between
modules or between input and output shapes are resolved by pydantic) and
fills the placeholders in place.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from ..exceptions import ImproperlyConfiguredError

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaMode

__all__ = ("ErrorDetail", "ErrorResponse", "SchemaRegistry")

REF_TEMPLATE = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    """One problem with the request (a 422 lists one per invalid value)."""

    loc: list[str | int] = Field(description="Where: the source (path, query, body...) then keys.")
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """The body of every error the framework answers."""

    status: Literal["error"]
    message: str
    errors: list[ErrorDetail]
    request_id: str | None = None


class SchemaRegistry:
    """Collects ``(type, mode)`` pairs and turns them into JSON schemas at once."""

    def __init__(self) -> None:
        self._inputs: list[tuple[int, JsonSchemaMode, TypeAdapter[Any]]] = []
        self._keys: dict[tuple[Any, str], int] = {}
        self._pending: list[tuple[int, JsonSchemaMode, dict[str, Any], str]] = []

    def add(self, annotation: Any, mode: JsonSchemaMode, *, where: str) -> dict[str, Any]:
        """Return a placeholder that :meth:`finish` fills with the type's schema."""
        slot = self.try_add(annotation, mode, where=where, lenient=False)
        assert slot is not None  # lenient=False raises instead
        return slot

    def try_add(
        self, annotation: Any, mode: JsonSchemaMode, *, where: str, lenient: bool = True
    ) -> dict[str, Any] | None:
        """Like :meth:`add`; with ``lenient``, None for a type without a JSON schema.

        Return annotations that are not models (``AsyncIterator[str]`` of a
        streaming handler...) are documented when pydantic can describe them and
        left without a schema otherwise, instead of failing the document.
        """
        try:
            key = self._keys.get((annotation, mode))
        except TypeError:  # an unhashable annotation (Annotated with a list...)
            key = None
        if key is None:
            try:
                adapter: TypeAdapter[Any] = TypeAdapter(annotation)
                if lenient:
                    adapter.json_schema(mode=mode, ref_template=REF_TEMPLATE)
            except Exception as exc:
                if lenient:
                    return None
                raise ImproperlyConfiguredError(
                    f"Cannot describe {annotation!r} ({where}) in the OpenAPI document: {exc}. "
                    "Use a type pydantic can validate, or hide the route with "
                    "open_api_spec=False."
                ) from exc
            key = len(self._inputs)
            self._inputs.append((key, mode, adapter))
            with contextlib.suppress(TypeError):  # unhashable: not cached
                self._keys[(annotation, mode)] = key
        slot: dict[str, Any] = {}
        self._pending.append((key, mode, slot, where))
        return slot

    def finish(self) -> dict[str, Any]:
        """Fill every placeholder; return the shared definitions (components/schemas)."""
        if not self._inputs:
            return {}
        try:
            schemas, definitions = TypeAdapter.json_schemas(self._inputs, ref_template=REF_TEMPLATE)
        except Exception as exc:
            wheres = ", ".join(sorted({w for *_, w in self._pending}))
            raise ImproperlyConfiguredError(
                f"Cannot generate the OpenAPI schemas of {wheres}: {exc}. Use types pydantic "
                "can describe as JSON schema, or hide the route with open_api_spec=False."
            ) from exc
        for key, mode, slot, _ in self._pending:
            slot.update(schemas[(key, mode)])
        return dict(definitions.get("$defs", definitions))
