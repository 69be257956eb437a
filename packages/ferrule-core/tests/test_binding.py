"""Parameter binding: query, headers, cookies, bodies, validation errors, startup errors."""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from ferrule.core import (
    App,
    Body,
    Controller,
    Cookie,
    Header,
    ImproperlyConfiguredError,
    Query,
    Request,
    get,
    path,
    post,
)
from ferrule.core.testing import TestClient


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(ge=0)


class User(BaseModel):
    username: str


@path("/q")
class QueryApi(Controller):
    @get("/scalars")
    async def scalars(
        self,
        limit: int = 10,
        active: bool = False,
        term: str | None = None,
        name: Annotated[str, Query()] = "anon",
    ) -> dict[str, Any]:
        return {"limit": limit, "active": active, "term": term, "name": name}

    @get("/required")
    async def required(self, q: Annotated[str, Query()]) -> dict[str, str]:
        return {"q": q}

    @get("/lists")
    async def lists(
        self,
        tags: Annotated[list[str], Query()],
        ids: list[int] | None = None,
    ) -> dict[str, Any]:
        return {"tags": tags, "ids": ids}

    @get("/alias")
    async def alias(self, page_size: Annotated[int, Query(alias="page-size")] = 5) -> int:
        return page_size


@path("/h")
class HeaderApi(Controller):
    @get("/")
    async def headers(
        self,
        x_api_key: Annotated[str, Header()],
        user_agent: Annotated[str | None, Header()] = None,
        accept_language: Annotated[list[str] | None, Header()] = None,
        token: Annotated[str | None, Header(alias="X-Token_Raw")] = None,
    ) -> dict[str, Any]:
        return {
            "key": x_api_key,
            "agent": user_agent,
            "langs": accept_language,
            "token": token,
        }

    @get("/cookies")
    async def cookies(
        self,
        session_id: Annotated[str, Cookie()],
        theme: Annotated[str, Cookie()] = "light",
        visits: Annotated[int, Cookie()] = 0,
    ) -> dict[str, Any]:
        return {"session": session_id, "theme": theme, "visits": visits}


@path("/b")
class BodyApi(Controller):
    @post("/model")
    async def model(self, item: Item) -> dict[str, Any]:
        return {"name": item.name, "price": item.price, "type": type(item).__name__}

    @post("/optional")
    async def optional(self, item: Item | None = None) -> dict[str, Any]:
        return {"item": item.model_dump() if item else None}

    @post("/scalar")
    async def scalar(self, count: Annotated[int, Body()]) -> dict[str, int]:
        return {"count": count}

    @post("/many")
    async def many(
        self,
        item: Item,
        user: User,
        importance: Annotated[int, Body()] = 1,
    ) -> dict[str, Any]:
        return {"item": item.name, "user": user.username, "importance": importance}

    @post("/items")
    async def items(self, items: list[Item]) -> dict[str, int]:
        return {"count": len(items)}

    @post("/mixed/<int:item_id>")
    async def mixed(
        self,
        item_id: int,
        item: Item,
        dry_run: bool,
        x_trace: Annotated[int, Header()],
    ) -> dict[str, Any]:
        return {"id": item_id, "dry_run": dry_run, "trace": x_trace, "name": item.name}

    @post("/request")
    async def request(self, req: Request, request: Request) -> dict[str, Any]:
        return {"same": req is request, "method": req.method}


def make_app() -> App:
    return App(controllers=[QueryApi, HeaderApi, BodyApi])


def error_body(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"status": "error", "message": "Validation failed", "errors": list(errors)}


INT_MSG = "Input should be a valid integer, unable to parse string as an integer"


# -- query -------------------------------------------------------------------------------


async def test_scalar_query_parameters_with_defaults_and_conversion() -> None:
    async with TestClient(make_app()) as client:
        defaults = await client.get("/q/scalars")
        given = await client.get("/q/scalars?limit=3&active=true&term=x&name=bo")
    assert defaults.json() == {"limit": 10, "active": False, "term": None, "name": "anon"}
    assert given.json() == {"limit": 3, "active": True, "term": "x", "name": "bo"}


async def test_missing_required_query_parameter_is_422() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/q/required")
    assert res.status_code == 422
    assert res.json() == error_body(
        {"loc": ["query", "q"], "msg": "Field required", "type": "missing"}
    )


async def test_invalid_query_scalar_is_422_with_loc() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/q/scalars?limit=many")
    assert res.status_code == 422
    assert res.json() == error_body(
        {"loc": ["query", "limit"], "msg": INT_MSG, "type": "int_parsing"}
    )


async def test_query_lists_collect_repeated_keys() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/q/lists?tags=a&tags=b&ids=1&ids=2")
        no_ids = await client.get("/q/lists?tags=only")
        bad = await client.get("/q/lists?tags=a&ids=1&ids=x")
    assert res.json() == {"tags": ["a", "b"], "ids": [1, 2]}
    assert no_ids.json() == {"tags": ["only"], "ids": None}
    assert bad.status_code == 422
    assert bad.json() == error_body(
        {"loc": ["query", "ids", 1], "msg": INT_MSG, "type": "int_parsing"}
    )


async def test_query_alias() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/q/alias?page-size=25&page_size=1")
    assert res.json() == 25


# -- headers and cookies -------------------------------------------------------------


async def test_header_names_turn_underscores_into_dashes() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get(
            "/h",
            headers=[
                ("X-API-Key", "k1"),
                ("User-Agent", "tests/1"),
                ("Accept-Language", "en"),
                ("Accept-Language", "fr"),
                ("X-Token_Raw", "raw"),
            ],
        )
    assert res.status_code == 200
    assert res.json() == {"key": "k1", "agent": "tests/1", "langs": ["en", "fr"], "token": "raw"}


async def test_missing_header_is_422_with_the_wire_name() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/h", headers={"x_api_key": "underscored is not the same"})
    assert res.status_code == 422
    assert res.json() == error_body(
        {"loc": ["header", "x-api-key"], "msg": "Field required", "type": "missing"}
    )


async def test_cookies_are_injected_and_validated() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/h/cookies", headers={"Cookie": "session_id=s1; visits=3"})
        missing = await client.get("/h/cookies")
        bad = await client.get("/h/cookies", headers={"Cookie": "session_id=s; visits=lots"})
    assert res.json() == {"session": "s1", "theme": "light", "visits": 3}
    assert missing.json() == error_body(
        {"loc": ["cookie", "session_id"], "msg": "Field required", "type": "missing"}
    )
    assert bad.json() == error_body(
        {"loc": ["cookie", "visits"], "msg": INT_MSG, "type": "int_parsing"}
    )


# -- bodies ------------------------------------------------------------------------------


async def test_pydantic_model_parameter_is_the_json_body() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/b/model", json={"name": "pen", "price": 1.5})
    assert res.status_code == 200
    assert res.json() == {"name": "pen", "price": 1.5, "type": "Item"}


async def test_body_marker_takes_the_whole_body() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/b/scalar", json=5)
        bad = await client.post("/b/scalar", json="five")
    assert res.json() == {"count": 5}
    assert bad.status_code == 422
    assert bad.json() == error_body({"loc": ["body"], "msg": INT_MSG, "type": "int_parsing"})


async def test_list_of_models_body() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/b/items", json=[{"name": "a", "price": 1}, {"name": "b", "price": 2}]
        )
    assert res.json() == {"count": 2}


async def test_several_body_parameters_are_embedded_by_name() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/b/many",
            json={
                "item": {"name": "pen", "price": 2},
                "user": {"username": "ada"},
                "importance": 3,
            },
        )
        default = await client.post(
            "/b/many", json={"item": {"name": "pen", "price": 2}, "user": {"username": "ada"}}
        )
        missing = await client.post("/b/many", json={"item": {"name": "pen", "price": 2}})
        not_object = await client.post("/b/many", json=[1, 2])
    assert res.json() == {"item": "pen", "user": "ada", "importance": 3}
    assert default.json()["importance"] == 1
    assert missing.status_code == 422
    assert missing.json() == error_body(
        {"loc": ["body", "user"], "msg": "Field required", "type": "missing"}
    )
    assert not_object.status_code == 422
    assert not_object.json() == error_body(
        {"loc": ["body"], "msg": "Input should be a JSON object", "type": "dict_type"}
    )


async def test_optional_body_may_be_empty_but_a_required_one_may_not() -> None:
    async with TestClient(make_app()) as client:
        empty_optional = await client.post("/b/optional")
        empty_required = await client.post("/b/model")
    assert empty_optional.json() == {"item": None}
    assert empty_required.status_code == 422
    assert empty_required.json() == error_body(
        {"loc": ["body"], "msg": "Field required", "type": "missing"}
    )


async def test_validation_errors_are_collected_with_loc_msg_type() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/b/mixed/3?dry_run=perhaps",
            json={"name": "", "price": -1},
            headers={"X-Trace": "abc"},
        )
    assert res.status_code == 422
    assert res.json() == error_body(
        {
            "loc": ["query", "dry_run"],
            "msg": "Input should be a valid boolean, unable to interpret input",
            "type": "bool_parsing",
        },
        {"loc": ["header", "x-trace"], "msg": INT_MSG, "type": "int_parsing"},
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


async def test_path_query_header_and_body_together() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/b/mixed/3?dry_run=1", json={"name": "pen", "price": 1}, headers={"X-Trace": "9"}
        )
    assert res.json() == {"id": 3, "dry_run": True, "trace": 9, "name": "pen"}


@pytest.mark.parametrize("url", ["/b/model", "/b/many"])
async def test_malformed_json_is_400(url: str) -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            url, content=b'{"name": "pen", ', headers={"Content-Type": "application/json"}
        )
    assert res.status_code == 400
    body = res.json()
    assert body["status"] == "error"
    assert body["message"].startswith("Malformed JSON body")
    assert body["errors"] == []


async def test_body_with_a_non_json_content_type_is_415() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/b/model", content=b"name=pen&price=1", headers={"Content-Type": "text/plain"}
        )
    assert res.status_code == 415
    assert res.json() == {
        "status": "error",
        "message": "Unsupported media type 'text/plain': this endpoint accepts application/json.",
        "errors": [],
    }


@pytest.mark.parametrize(
    "ctype", ["application/json; charset=utf-8", "application/vnd.item+json", "APPLICATION/JSON"]
)
async def test_json_content_types_are_accepted(ctype: str) -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/b/model", content=b'{"name": "pen", "price": 1}', headers={"Content-Type": ctype}
        )
    assert res.status_code == 200
    assert res.json()["name"] == "pen"


async def test_request_is_injected_by_annotation_and_by_name() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/b/request")
    assert res.json() == {"same": True, "method": "POST"}


# -- compile-time errors --------------------------------------------------------------


class Unknown:
    """Not a model, not a scalar, not a service: its source cannot be determined."""


@path("/bad")
class UndeterminedApi(Controller):
    @get("/")
    async def handler(self, thing: Unknown) -> dict[str, str]:
        return {}


def test_parameter_whose_source_cannot_be_determined_is_a_startup_error() -> None:
    app = App(controllers=[UndeterminedApi])
    with pytest.raises(ImproperlyConfiguredError) as info:
        _ = app.routes
    message = str(info.value)
    assert "Cannot tell where parameter 'thing'" in message
    assert "UndeterminedApi.handler" in message
    assert "Depends(provider)" in message


async def test_undetermined_parameter_fails_the_test_client_startup() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="'thing'"):
        async with TestClient(App(controllers=[UndeterminedApi])):
            pass


def test_unresolvable_annotation_is_a_startup_error() -> None:
    class Local(BaseModel):
        x: int

    @path("/local")
    class LocalApi(Controller):
        @post("/")
        async def create(self, body: "Local") -> dict[str, int]:
            return {}

    with pytest.raises(ImproperlyConfiguredError, match="Cannot resolve the type annotations"):
        _ = App(controllers=[LocalApi]).routes
