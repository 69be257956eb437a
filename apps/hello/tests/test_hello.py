"""The hello reference app, through the client and the pytest11 fixture."""

from typing import Any

import pytest
from hello import Application
from hello import app as module_app

from ferrule.core import App
from ferrule.core.testing import TestClient


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> App:
    for key in ("DEBUG", "ALLOWED_HOSTS", "MAX_BODY_SIZE", "APP_NAME"):
        monkeypatch.delenv(key, raising=False)
    return Application()


def validation_error(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"status": "error", "message": "Validation failed", "errors": list(errors)}


def test_module_exposes_a_ready_app() -> None:
    assert isinstance(module_app, Application)
    assert module_app.config.APP_NAME == "Hello"
    assert module_app.config.DEBUG is False


async def test_index(ferrule_client: TestClient) -> None:
    res = await ferrule_client.get("/")
    assert res.status_code == 200
    assert res.json() == {"message": "Hello from Ferrule"}


async def test_greet_with_path_and_query_parameters(ferrule_client: TestClient) -> None:
    once = await ferrule_client.get("/hello/Ada")
    twice = await ferrule_client.get("/hello/Ada?times=2")
    assert once.json() == {"message": "Hello, Ada!", "shout": False}
    assert twice.json() == {"message": "Hello, Ada! Hello, Ada!", "shout": False}


async def test_greet_rejects_times_out_of_range(ferrule_client: TestClient) -> None:
    res = await ferrule_client.get("/hello/Ada?times=11")
    assert res.status_code == 400
    assert res.json() == {
        "status": "error",
        "message": "times must be between 1 and 10",
        "errors": [],
    }


async def test_greet_rejects_a_non_integer_times(ferrule_client: TestClient) -> None:
    res = await ferrule_client.get("/hello/Ada?times=lots")
    assert res.status_code == 422
    assert res.json() == validation_error(
        {
            "loc": ["query", "times"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    )


async def test_create_fetch_and_list_items(ferrule_client: TestClient) -> None:
    created = await ferrule_client.post(
        "/items", json={"name": "pen", "price": 1.5, "secret": "dropped"}
    )
    assert created.status_code == 201
    assert created.json() == {"id": 1, "name": "pen", "price": 1.5, "tags": []}
    await ferrule_client.post("/items", json={"name": "ink", "price": 3, "tags": ["blue"]})

    fetched = await ferrule_client.get("/items/2")
    assert fetched.json() == {"id": 2, "name": "ink", "price": 3.0, "tags": ["blue"]}

    listed = await ferrule_client.get("/items")
    assert [item["id"] for item in listed.json()] == [1, 2]
    page = await ferrule_client.get("/items?limit=1&offset=1")
    assert page.json() == [{"id": 2, "name": "ink", "price": 3.0, "tags": ["blue"]}]


async def test_unknown_item_is_404(ferrule_client: TestClient) -> None:
    res = await ferrule_client.get("/items/99")
    assert res.status_code == 404
    assert res.json() == {"status": "error", "message": "Item 99 not found", "errors": []}


async def test_invalid_item_is_422_with_each_error(ferrule_client: TestClient) -> None:
    res = await ferrule_client.post("/items", json={"name": "", "price": -1})
    assert res.status_code == 422
    assert res.json() == validation_error(
        {
            "loc": ["body", "name"],
            "msg": "String should have at least 1 character",
            "type": "string_too_short",
        },
        {
            "loc": ["body", "price"],
            "msg": "Input should be greater than or equal to 0",
            "type": "greater_than_equal",
        },
    )


async def test_items_are_per_app_instance() -> None:
    one, two = Application(), Application()
    async with TestClient(one) as c1, TestClient(two) as c2:
        await c1.post("/items", json={"name": "pen", "price": 1})
        assert len((await c1.get("/items")).json()) == 1
        assert (await c2.get("/items")).json() == []


async def test_wrong_method_and_unknown_path(ferrule_client: TestClient) -> None:
    wrong = await ferrule_client.delete("/items")
    missing = await ferrule_client.get("/nope")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert missing.status_code == 404
    assert missing.json() == {"status": "error", "message": "Not found: /nope", "errors": []}
