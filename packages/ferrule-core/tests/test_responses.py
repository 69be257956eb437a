"""Responses: return values, the fluent builder, cookies, response models."""

import logging
from typing import Any

import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    MediaType,
    Request,
    Response,
    get,
    path,
    post,
    produces,
)
from ferrule.core.responses import error_response
from ferrule.core.testing import TestClient


class UserOut(BaseModel):
    id: int
    name: str


class UserWithSecret(UserOut):
    password: str


class Row:
    """An ORM-like object: response models read it through attributes."""

    def __init__(self) -> None:
        self.id = 9
        self.name = "orm"
        self.password = "hunter2"


SECRET = {"id": 1, "name": "ada", "password": "hunter2"}


@path("/filtered")
class FilteredApi(Controller):
    @get("/response-model")
    async def response_model(self) -> Response[UserOut]:
        return Response(dict(SECRET))

    @get("/model")
    async def model(self) -> UserOut:
        return dict(SECRET)  # type: ignore[return-value]

    @get("/builder")
    async def builder(self, req: Request) -> Response[UserOut]:
        return req.response.json(dict(SECRET)).status(201)

    @get("/list")
    async def many(self) -> Response[list[UserOut]]:
        return Response([dict(SECRET), {**SECRET, "id": 2}])

    @get("/plain-list")
    async def plain_list(self) -> list[UserOut]:
        return [dict(SECRET)]  # type: ignore[list-item]

    @get("/subclass")
    async def subclass(self) -> UserOut:
        return UserWithSecret(**SECRET)

    @get("/orm")
    async def orm(self) -> UserOut:
        return Row()  # type: ignore[return-value]

    @get("/invalid")
    async def invalid(self) -> UserOut:
        return {"id": "not a number", "name": "x"}  # type: ignore[return-value]

    @get("/unfiltered")
    async def unfiltered(self) -> dict[str, Any]:
        return {"kept": True}


@path("/fluent")
class FluentApi(Controller):
    @get("/json")
    async def json(self, req: Request) -> Response[Any]:
        return req.response.json({"ok": True}).status(202)

    @get("/text")
    async def text(self, req: Request) -> Response[Any]:
        return req.response.text("plain")

    @get("/html")
    async def html(self, req: Request) -> Response[Any]:
        return req.response.html("<h1>Hi</h1>")

    @get("/redirect")
    async def redirect(self, req: Request) -> Response[Any]:
        return req.response.redirect("/fluent/json")

    @get("/redirect-307")
    async def redirect_307(self, req: Request) -> Response[Any]:
        return req.response.redirect("/fluent/json", status=307)

    @get("/header")
    async def header(self, req: Request) -> Response[Any]:
        return req.response.json({}).set_header("X-One", "1").set_header("x-one", "2")

    @get("/cookie")
    async def cookie(self, req: Request) -> Response[Any]:
        return req.response.json({}).set_cookie("session", "abc")

    @get("/cookie-options")
    async def cookie_options(self, req: Request) -> Response[Any]:
        return (
            req.response.json({})
            .set_cookie("a", "1", max_age=60, path="/app", http_only=False, samesite="strict")
            .set_cookie("b", "2", samesite="none")
        )

    @get("/delete-cookie")
    async def delete_cookie(self, req: Request) -> Response[Any]:
        return req.response.delete_cookie("session")

    @get("/no-content")
    async def no_content(self, req: Request) -> Response[Any]:
        return req.response.json({"dropped": True}).no_content()

    @get("/mutate-only")
    async def mutate_only(self, req: Request) -> None:
        req.response.json({"from": "builder"}).status(203)

    @post("/created", status_code=201)
    async def created(self) -> dict[str, bool]:
        return {"created": True}

    @get("/constructed")
    async def constructed(self) -> Response[Any]:
        return Response({"c": 1}, status_code=201, headers={"X-Built": "yes"})

    @get("/bytes")
    async def raw_bytes(self) -> bytes:
        return b"\x00\x01"

    @get("/model")
    async def model(self) -> UserOut:
        return UserOut(id=3, name="m")

    @get("/string")
    async def string(self) -> str:
        return "just text"


@path("/produces")
class ProducesApi(Controller):
    @get("/xml")
    @produces(MediaType.APPLICATION_XML)
    async def xml(self) -> str:
        return "<a/>"

    @get("/csv")
    @produces(MediaType.TEXT_CSV)
    async def csv(self) -> str:
        return "a,b\n1,2\n"

    @get("/problem")
    @produces(MediaType.APPLICATION_PROBLEM_JSON)
    async def problem(self) -> dict[str, str]:
        return {"title": "teapot"}


def make_app(**config: Any) -> App:
    return App(config=config or None, controllers=[FilteredApi, FluentApi, ProducesApi])


# -- response models --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/filtered/response-model", 200),
        ("/filtered/model", 200),
        ("/filtered/builder", 201),
        ("/filtered/subclass", 200),
    ],
)
async def test_response_model_strips_undeclared_fields(url: str, status: int) -> None:
    async with TestClient(make_app()) as client:
        res = await client.get(url)
    assert res.status_code == status
    assert res.json() == {"id": 1, "name": "ada"}
    assert "password" not in res.text
    assert "hunter2" not in res.text


@pytest.mark.parametrize("url", ["/filtered/list", "/filtered/plain-list"])
async def test_list_response_models_strip_each_item(url: str) -> None:
    async with TestClient(make_app()) as client:
        res = await client.get(url)
    assert "hunter2" not in res.text
    assert all(set(item) == {"id", "name"} for item in res.json())


async def test_response_model_reads_attributes() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/filtered/orm")
    assert res.json() == {"id": 9, "name": "orm"}


async def test_body_failing_its_response_model_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    async with TestClient(make_app()) as client:
        res = await client.get("/filtered/invalid")
    assert res.status_code == 500
    assert res.json() == {
        "status": "error",
        "message": "Internal server error",
        "errors": [],
        "request_id": res.headers["x-request-id"],
    }
    assert "ValidationError" in caplog.text


async def test_dict_annotation_does_not_filter() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/filtered/unfiltered")
    assert res.json() == {"kept": True}


# -- fluent builder ---------------------------------------------------------------------


async def test_builder_json_and_status() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/json")
    assert res.status_code == 202
    assert res.json() == {"ok": True}
    assert res.headers["content-type"] == "application/json"
    assert res.headers["content-length"] == str(len(res.content))


async def test_builder_text_and_html() -> None:
    async with TestClient(make_app()) as client:
        text = await client.get("/fluent/text")
        html = await client.get("/fluent/html")
    assert text.text == "plain"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert html.text == "<h1>Hi</h1>"
    assert html.headers["content-type"] == "text/html; charset=utf-8"


async def test_builder_redirect_defaults_to_303() -> None:
    async with TestClient(make_app()) as client:
        see_other = await client.get("/fluent/redirect")
        temporary = await client.get("/fluent/redirect-307")
    assert see_other.status_code == 303
    assert see_other.headers["location"] == "/fluent/json"
    assert see_other.content == b""
    assert temporary.status_code == 307
    assert temporary.headers["location"] == "/fluent/json"


def test_redirect_and_headers_refuse_line_breaks() -> None:
    with pytest.raises(ValueError, match="Invalid redirect location"):
        Response().redirect("/ok\r\nSet-Cookie: evil=1")
    with pytest.raises(ValueError, match="Invalid character in header"):
        Response().set_header("X-Evil", "a\r\nSet-Cookie: evil=1")


async def test_set_header_replaces_case_insensitively() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/header")
    assert res.headers.get_list("x-one") == ["2"]


async def test_cookies_are_httponly_and_samesite_lax_by_default() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/cookie")
    cookie = res.headers["set-cookie"]
    parts = [p.strip() for p in cookie.split(";")]
    assert parts[0] == "session=abc"
    assert "HttpOnly" in parts
    assert "SameSite=Lax" in parts
    assert "Path=/" in parts
    assert "Secure" not in parts


async def test_cookies_are_secure_under_https() -> None:
    async with TestClient(make_app(), base_url="https://localhost") as client:
        res = await client.get("/fluent/cookie")
    parts = [p.strip() for p in res.headers["set-cookie"].split(";")]
    assert "Secure" in parts
    assert "HttpOnly" in parts
    assert "SameSite=Lax" in parts


async def test_cookie_options_and_samesite_none_forces_secure() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/cookie-options")
    first, second = ([p.strip() for p in c.split(";")] for c in res.headers.get_list("set-cookie"))
    assert first[0] == "a=1"
    assert "Max-Age=60" in first
    assert "Path=/app" in first
    assert "SameSite=Strict" in first
    assert "HttpOnly" not in first
    assert second[0] == "b=2"
    assert "SameSite=None" in second
    assert "Secure" in second


async def test_delete_cookie_expires_it() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/delete-cookie")
    parts = [p.strip() for p in res.headers["set-cookie"].split(";")]
    assert parts[0] in ("session=", 'session=""')
    assert "Max-Age=0" in parts
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in parts


async def test_no_content_is_204_with_no_body() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/no-content")
    assert res.status_code == 204
    assert res.content == b""
    assert "content-type" not in res.headers
    assert "content-length" not in res.headers


async def test_handler_returning_none_sends_the_builder() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/fluent/mutate-only")
    assert res.status_code == 203
    assert res.json() == {"from": "builder"}


async def test_plain_values_and_constructed_responses() -> None:
    async with TestClient(make_app()) as client:
        created = await client.post("/fluent/created")
        constructed = await client.get("/fluent/constructed")
        raw = await client.get("/fluent/bytes")
        model = await client.get("/fluent/model")
        string = await client.get("/fluent/string")
    assert created.status_code == 201
    assert created.json() == {"created": True}
    assert constructed.status_code == 201
    assert constructed.headers["x-built"] == "yes"
    assert constructed.json() == {"c": 1}
    assert raw.content == b"\x00\x01"
    assert raw.headers["content-type"] == "application/octet-stream"
    assert model.json() == {"id": 3, "name": "m"}
    assert model.headers["content-type"] == "application/json"
    assert string.text == "just text"
    assert string.headers["content-type"] == "text/plain; charset=utf-8"


# -- @produces ------------------------------------------------------------------------


async def test_produces_sets_the_content_type() -> None:
    async with TestClient(make_app()) as client:
        xml = await client.get("/produces/xml")
        csv = await client.get("/produces/csv")
    assert xml.text == "<a/>"
    assert xml.headers["content-type"] == "application/xml"
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"


async def test_produces_sets_the_content_type_of_json_bodies() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/produces/problem")
    assert res.headers["content-type"] == "application/problem+json"
    assert res.json() == {"title": "teapot"}


# -- error_response -----------------------------------------------------------------


def test_error_response_builds_the_single_error_shape() -> None:
    res = error_response(409, "Conflict", [{"loc": ["x"]}], data={"id": 1}, request_id="r1")
    assert res.status_code == 409
    assert res.content == {
        "status": "error",
        "message": "Conflict",
        "errors": [{"loc": ["x"]}],
        "data": {"id": 1},
        "request_id": "r1",
    }
    assert error_response(400, "Bad").content == {
        "status": "error",
        "message": "Bad",
        "errors": [],
    }


@path("/mix")
class MixApi(Controller):
    @get("/")
    async def mixed(self, req: Request) -> dict[str, str]:
        req.response.set_cookie("seen", "1").set_header("X-Extra", "yes").status(202)
        return {"body": "from the return value"}


async def test_builder_headers_and_cookies_survive_a_plain_return_value() -> None:
    async with TestClient(App(controllers=[MixApi])) as client:
        res = await client.get("/mix")
    assert res.status_code == 202
    assert res.json() == {"body": "from the return value"}
    assert res.headers["x-extra"] == "yes"
    assert res.headers["set-cookie"].startswith("seen=1;")
