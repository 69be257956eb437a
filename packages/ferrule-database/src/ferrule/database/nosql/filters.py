"""Filters built from request data: plain values only, never query operators.

A login handler doing ``find_one("users", {"email": body["email"], "password":
body["password"]})`` with the body ``{"email": "a@b.c", "password": {"$ne": null}}``
matches any user: the request smuggled an operator where a value was expected.
``plain_filter`` refuses such input with a 400.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from ferrule.core import HTTPException

__all__ = ("plain_filter", "plain_value")

_PLAIN = (
    str,
    int,
    float,
    bool,
    type(None),
    datetime.datetime,
    datetime.date,
    decimal.Decimal,
    uuid.UUID,
    bytes,
)


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    # bson.ObjectId and similar scalar ids, without importing bson here.
    return type(value).__name__ in ("ObjectId", "Decimal128", "Int64")


def plain_value(value: Any, name: str = "value") -> Any:
    """Return ``value`` if it is a scalar; 400 for objects, arrays and the like."""
    if not _is_plain(value):
        kind = "an object" if isinstance(value, Mapping) else type(value).__name__
        msg = f"Field {name!r} must be a plain value, not {kind}."
        raise HTTPException(
            400, msg, errors=[{"loc": ["body", name], "msg": msg, "type": "value_error"}]
        )
    return value


def plain_filter(
    data: Mapping[str, Any], *, allowed: Collection[str] | None = None
) -> dict[str, Any]:
    """An equality filter from request data: keys are field names, values scalars.

    Raises:
        HTTPException: 400 for a key starting with ``$`` (an operator), a key not
            in ``allowed`` (when given), or a value that is not a scalar
            (``{"$ne": None}``, ``{"$gt": ""}``, a list...).

    Example:
        >>> user = await nosqldb.find_one(app, "users", plain_filter(body, allowed={"email"}))
    """
    if not isinstance(data, Mapping):
        raise HTTPException(400, "The filter must be a JSON object of field names and values.")
    result: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key or key.startswith("$") or "\x00" in key:
            msg = f"Invalid field name {key!r}: operators are not accepted here."
            raise HTTPException(
                400, msg, errors=[{"loc": ["body", str(key)], "msg": msg, "type": "value_error"}]
            )
        if allowed is not None and key not in allowed:
            msg = f"Unknown field {key!r}; allowed: {', '.join(sorted(allowed))}."
            raise HTTPException(
                400, msg, errors=[{"loc": ["body", key], "msg": msg, "type": "value_error"}]
            )
        result[key] = plain_value(value, key)
    return result
