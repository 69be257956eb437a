"""Page numbers from requests, and the seed's pagination dictionary."""

from __future__ import annotations

import math
from typing import Any, Generic, TypedDict, TypeVar

from ferrule.core import HTTPException

__all__ = ("MAX_PAGE_NUMBER", "Page", "make_page", "page_number")

T = TypeVar("T")


class Page(TypedDict, Generic[T]):
    """One page of results (the keys of the seed's ``paginate``)."""

    items: list[T]
    total: int
    page: int
    pages: int
    per_page: int
    has_next: bool
    has_prev: bool


#: The largest page number or size accepted: far past any real table, and small
#: enough that ``(page - 1) * per_page`` fits the 64-bit OFFSET of SQLite and
#: PostgreSQL (past it the driver fails: a 500).
MAX_PAGE_NUMBER = 2**31 - 1


def page_number(value: Any, name: str, *, maximum: int | None = None) -> int:
    """Parse a page number or size from a request: a whole number >= 1.

    Raises:
        HTTPException: 400 naming the parameter, for ``0``, ``-1``, ``"abc"``,
            or a number above ``maximum`` (at most :data:`MAX_PAGE_NUMBER`).
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        digits = value.strip()
        # int() refuses thousands of digits (ValueError); so many are too big anyway.
        number = int(digits) if len(digits) <= 12 else MAX_PAGE_NUMBER + 1
    if number is None or number < 1:
        raise _bad(name, value, "a whole number >= 1")
    limit = MAX_PAGE_NUMBER if maximum is None else min(maximum, MAX_PAGE_NUMBER)
    if number > limit:
        raise _bad(name, value, f"at most {limit}")
    return number


def _bad(name: str, value: Any, expected: str) -> HTTPException:
    msg = f"Invalid {name} {value!r}: expected {expected}."
    return HTTPException(
        400, msg, errors=[{"loc": ["query", name], "msg": msg, "type": "value_error"}]
    )


def make_page(items: list[T], total: int, page: int, per_page: int) -> Page[T]:
    pages = math.ceil(total / per_page) if total else 0
    return Page(
        items=items,
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        has_next=page < pages,
        has_prev=page > 1,
    )
