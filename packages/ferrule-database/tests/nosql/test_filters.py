"""plain_filter: request data never smuggles query operators into a filter."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ferrule.core import HTTPException
from ferrule.database import plain_filter
from ferrule.database.nosql import plain_value


def test_plain_values_pass() -> None:
    data = {
        "email": "a@example.com",
        "age": 30,
        "score": 1.5,
        "active": True,
        "deleted_at": None,
        "born": datetime.date(2000, 1, 1),
        "profile.city": "Oslo",
    }
    assert plain_filter(data) == data
    assert plain_filter(data, allowed=set(data)) == data


@pytest.mark.parametrize(
    "data",
    [
        {"password": {"$ne": None}},
        {"password": {"$gt": ""}},
        {"email": {"$regex": ".*"}},
        {"$where": "this.password.length > 0"},
        {"$or": [{"a": 1}]},
        {"tags": ["a", "b"]},
        {"": "x"},
    ],
)
def test_operators_and_structures_are_400(data: dict[str, Any]) -> None:
    with pytest.raises(HTTPException) as info:
        plain_filter(data)
    assert info.value.status_code == 400
    assert info.value.error_items[0]["loc"][0] == "body"


def test_allowed_fields_and_shape() -> None:
    with pytest.raises(HTTPException, match="Unknown field 'role'"):
        plain_filter({"role": "admin"}, allowed={"email"})
    with pytest.raises(HTTPException, match="JSON object"):
        plain_filter(["email"])  # type: ignore[arg-type]
    assert plain_value("x") == "x"
    with pytest.raises(HTTPException, match="must be a plain value"):
        plain_value({"$ne": 1}, "id")
