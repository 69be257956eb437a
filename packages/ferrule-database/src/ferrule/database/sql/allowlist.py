"""Column names that a request may order or filter by.

A column name taken from a request (``?sort=-year``, ``?field=title``) must never
reach ``getattr(Model, name)`` unchecked: it could select a private column
(``password_hash``) or an attribute that is not a column at all. An
:class:`AllowList` maps the public names to column expressions and answers 400
for anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import InstrumentedAttribute

from ferrule.core import HTTPException

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

__all__ = ("AllowList",)


def _int_bounds(sql_type: Any) -> tuple[int, int]:
    """The values an integer column can hold (PostgreSQL's int2/int4/int8)."""
    if isinstance(sql_type, BigInteger):
        bits = 64
    elif isinstance(sql_type, SmallInteger):
        bits = 16
    elif isinstance(sql_type, Integer):
        bits = 32
    else:
        bits = 64
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


class AllowList:
    """The public names of ``model``'s columns that requests may use.

    Args:
        model: the mapped class.
        fields: column names of ``model``, or a mapping of public names to
            column expressions (``{"author": Author.name}``).

    Example:
        >>> sortable = AllowList(Book, ["title", "year"])
        >>> query = Book.query(session).order_by(*sortable.order_by("-year,title"))
    """

    def __init__(self, model: type[Any], fields: Iterable[str] | Mapping[str, Any]) -> None:
        self.model = model
        if isinstance(fields, Mapping):
            self.columns: dict[str, Any] = dict(fields)
        else:
            mapper = sa_inspect(model)
            self.columns = {}
            for name in fields:
                attr = mapper.all_orm_descriptors.get(name)
                if not isinstance(attr, InstrumentedAttribute) or name not in mapper.columns:
                    known = ", ".join(sorted(mapper.columns.keys()))
                    raise ValueError(
                        f"{name!r} is not a column of {model.__name__}; columns: {known}."
                    )
                self.columns[name] = attr
        if not self.columns:
            raise ValueError("An AllowList needs at least one field.")

    @property
    def names(self) -> list[str]:
        return sorted(self.columns)

    def column(self, name: str, *, loc: str = "field") -> Any:
        """The column for the public ``name``; 400 when it is not allowed."""
        try:
            return self.columns[name]
        except (KeyError, TypeError):
            msg = f"Unknown {loc} {name!r}; allowed: {', '.join(self.names)}."
            raise HTTPException(
                400, msg, errors=[{"loc": ["query", loc], "msg": msg, "type": "value_error"}]
            ) from None

    def order_by(self, spec: str | None, *, loc: str = "sort") -> list[Any]:
        """Order clauses for ``"title,-year"`` (``-`` = descending); [] for empty."""
        clauses: list[Any] = []
        for part in (spec or "").split(","):
            name = part.strip()
            if not name:
                continue
            descending = name.startswith("-")
            column = self.column(name.lstrip("+-"), loc=loc)
            clauses.append(column.desc() if descending else column.asc())
        return clauses

    def coerce(self, name: str, value: Any) -> Any:
        """Convert a query-string value to the column's Python type (400 if invalid)."""
        column = self.column(name)
        try:
            python_type = column.type.python_type
        except (AttributeError, NotImplementedError):
            return value
        try:
            coerced = TypeAdapter(python_type).validate_python(value)
        except ValidationError:
            pass
        else:
            if not isinstance(coerced, int):
                return coerced
            # Out of the column's range the driver refuses to bind it: a 500, not a 400.
            low, high = _int_bounds(column.type)
            if low <= coerced <= high:
                return coerced
        msg = f"Invalid value {value!r} for {name!r}: expected {python_type.__name__}."
        raise HTTPException(
            400, msg, errors=[{"loc": ["query", name], "msg": msg, "type": "value_error"}]
        )

    def filters(
        self, params: Mapping[str, Any], *, strict: bool = False
    ) -> list[ColumnElement[bool]]:
        """Equality conditions for the allowed keys of ``params``.

        Keys that are not allowed are ignored (query strings carry ``page`` and
        friends too), or answered 400 with ``strict=True``.
        """
        conditions: list[ColumnElement[bool]] = []
        for key, value in params.items():
            if key not in self.columns:
                if strict:
                    self.column(key)
                continue
            conditions.append(self.columns[key] == self.coerce(key, value))
        return conditions
