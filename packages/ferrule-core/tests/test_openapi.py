"""OpenAPI 3.1 generation from compiled routes, and the docs UIs served offline."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any
from uuid import UUID  # noqa: TC003 - handler annotations are read at runtime

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from ferrule.core import (
    App,
    Body,
    Controller,
    Cookie,
    Depends,
    Descriptor,
    Form,
    Header,
    HttpStatus,
    ImproperlyConfiguredError,
    Query,
    Response,
    UploadFile,
    delete,
    get,
    open_api_docs,
    path,
    post,
    put,
)
from ferrule.core.controller import ControllerMeta, set_meta
from ferrule.core.openapi import generate_openapi, openapi_path
from ferrule.core.testing import TestClient

# -- a rich application -----------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str


class UserIn(BaseModel):
    name: str = Field(min_length=1)
    email: str
    address: Address
    tags: list[str] = []


class UserOut(BaseModel):
    id: int
    name: str
    address: Address


class NotFoundBody(BaseModel):
    detail: str


class Note(BaseModel):
    text: str


def bearer(fn: Any) -> Any:
    """What an auth extension's decorator does to document its requirement."""
    set_meta(fn, "openapi_security", [{"bearerAuth": []}])
    return fn


async def current_tenant(
    tenant: Annotated[str, Header(alias="X-Tenant", description="Tenant id")],
) -> str:
    return tenant


@path("/api/users", tags=["Users"])
class UsersApi(Controller):
    @get("/")
    async def list_users(
        self,
        limit: Annotated[int, Query(description="Page size")] = 10,
        tag: list[str] | None = None,
        color: Color | None = None,
    ) -> list[UserOut]:
        """List users.

        Paged, newest first.
        """
        return []

    @get("/<int:user_id>", tags=["Admin"])
    @bearer
    @open_api_docs(
        Descriptor(status=HttpStatus.NOT_FOUND, description="User not found", body=NotFoundBody),
        Descriptor(status=409),
    )
    async def get_user(
        self,
        user_id: int,
        session: Annotated[str | None, Cookie()] = None,
        tenant: str = Depends(current_tenant),
    ) -> Response[UserOut]:
        """Fetch one user."""
        return Response({"id": user_id, "name": tenant, "address": {"street": "s", "city": "c"}})

    @post("/", status_code=201)
    async def create_user(self, user: UserIn) -> UserOut:
        """Create a user."""
        return UserOut(id=1, name=user.name, address=user.address)

    @put("/<uuid:key>/notes")
    async def add_note(
        self, key: UUID, note: Annotated[Note, Body()], pinned: Annotated[bool, Body()] = False
    ) -> dict[str, Any]:
        return {"key": str(key), "note": note.text, "pinned": pinned}

    @delete("/<int:user_id>", status_code=204)
    async def delete_user(self, user_id: int) -> None:
        return None

    @get("/hidden", open_api_spec=False)
    async def hidden(self) -> dict[str, str]:
        return {"hidden": "yes"}

    @get("/about", summary="About the users API")
    async def about(self) -> str:
        """Not this line."""
        return "users"


@path("/internal", open_api_spec=False)
class InternalApi(Controller):
    @get("/")
    async def stats(self) -> dict[str, int]:
        return {"n": 1}


async def ping() -> dict[str, str]:
    return {"ping": "pong"}


CONFIG = {
    "APP_NAME": "Users service",
    "VERSION": "2.1.0",
    "OPEN_API": True,
    "OPEN_API_DESCRIPTION": "Manage users.",
    "LOGGING_CONFIGURE": False,
    "ACCESS_LOG": False,
}


def make_app(**overrides: Any) -> App:
    app = App({**CONFIG, **overrides}, controllers=[UsersApi, InternalApi])
    app.add_route("/ping", ping, tags=["Ops"])
    app.openapi_security_schemes["bearerAuth"] = {"type": "http", "scheme": "bearer"}
    return app


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return generate_openapi(make_app())


ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


# -- the document -----------------------------------------------------------------


def test_document_validates_against_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {
        "title": "Users service",
        "version": "2.1.0",
        "description": "Manage users.",
    }
    assert spec["tags"] == [{"name": "Users"}, {"name": "Admin"}, {"name": "Ops"}]


def test_hidden_routes_controllers_and_framework_routes_are_left_out(spec: dict[str, Any]) -> None:
    assert set(spec["paths"]) == {
        "/api/users",
        "/api/users/{user_id}",
        "/api/users/{key}/notes",
        "/api/users/about",
        "/ping",
    }
    assert set(spec["paths"]["/api/users/{user_id}"]) == {"get", "delete"}


def test_query_parameters_docstring_and_list_response(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/users"]["get"]
    assert op["summary"] == "List users."
    assert op["description"] == "Paged, newest first."
    assert op["tags"] == ["Users"]
    assert op["operationId"] == "UsersApi.list_users"
    assert op["parameters"] == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Page size",
            "schema": {"type": "integer", "default": 10},
        },
        {
            "name": "tag",
            "in": "query",
            "required": False,
            "schema": {"type": "array", "items": {"type": "string"}},
        },
        {
            "name": "color",
            "in": "query",
            "required": False,
            "schema": {"$ref": "#/components/schemas/Color"},
        },
    ]
    assert op["responses"] == {
        "200": {
            "description": "OK",
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/UserOut"}}
                }
            },
        },
        "422": error_response("Validation error"),
    }
    assert spec["components"]["schemas"]["Color"] == {
        "enum": ["red", "blue"],
        "title": "Color",
        "type": "string",
    }


def test_path_cookie_and_dependency_header_descriptors_and_security(
    spec: dict[str, Any],
) -> None:
    op = spec["paths"]["/api/users/{user_id}"]["get"]
    assert op["tags"] == ["Users", "Admin"]
    assert op["summary"] == "Fetch one user."
    assert "description" not in op
    assert op["parameters"] == [
        {
            "name": "user_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        },
        {"name": "session", "in": "cookie", "required": False, "schema": {"type": "string"}},
        {
            "name": "X-Tenant",
            "in": "header",
            "required": True,
            "description": "Tenant id",
            "schema": {"type": "string"},
        },
    ]
    assert op["security"] == [{"bearerAuth": []}]
    assert "requestBody" not in op
    assert op["responses"] == {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserOut"}}},
        },
        "404": {
            "description": "User not found",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/NotFoundBody"}}
            },
        },
        "409": error_response("Conflict"),
        "422": error_response("Validation error"),
    }
    assert spec["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }


def test_body_model_with_nested_model_and_body_errors(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/users"]["post"]
    assert op["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserIn"}}},
    }
    assert "parameters" not in op
    assert "security" not in op
    assert set(op["responses"]) == {"201", "400", "413", "415", "422"}
    assert op["responses"]["201"]["description"] == "Created"
    assert op["responses"]["413"] == error_response("Request body too large")
    assert op["responses"]["415"] == error_response("Unsupported media type")
    assert op["responses"]["400"] == error_response("Malformed request body")
    schemas = spec["components"]["schemas"]
    assert schemas["UserIn"]["properties"]["address"] == {"$ref": "#/components/schemas/Address"}
    assert schemas["UserIn"]["properties"]["name"] == {
        "minLength": 1,
        "title": "Name",
        "type": "string",
    }
    assert schemas["UserIn"]["required"] == ["name", "email", "address"]
    assert schemas["Address"]["required"] == ["street", "city"]


def test_embedded_body_parameters_and_uuid_path(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/users/{key}/notes"]["put"]
    assert op["parameters"] == [
        {
            "name": "key",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
    ]
    assert op["requestBody"] == {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "note": {"$ref": "#/components/schemas/Note"},
                        "pinned": {"type": "boolean"},
                    },
                    "required": ["note"],
                }
            }
        },
    }
    assert "summary" not in op
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "additionalProperties": True,
    }


def test_no_content_text_and_function_routes(spec: dict[str, Any]) -> None:
    delete_op = spec["paths"]["/api/users/{user_id}"]["delete"]
    assert delete_op["responses"]["204"] == {"description": "No Content"}
    assert delete_op["operationId"] == "UsersApi.delete_user"
    about = spec["paths"]["/api/users/about"]["get"]
    assert about["summary"] == "About the users API"
    assert about["description"] == "Not this line."  # the docstring, as summary is given
    assert about["responses"] == {
        "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
    assert "422" not in about["responses"]
    ping_op = spec["paths"]["/ping"]["get"]
    assert ping_op["tags"] == ["Ops"]
    assert ping_op["operationId"] == "ping"


def test_error_shape_component_matches_the_kernel_errors(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["ErrorResponse"]
    assert error["required"] == ["status", "message", "errors"]
    assert error["properties"]["status"] == {"const": "error", "title": "Status", "type": "string"}
    assert error["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert spec["components"]["schemas"]["ErrorDetail"]["required"] == ["loc", "msg", "type"]


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_openapi_path_converts_werkzeug_rules() -> None:
    assert (
        openapi_path("/a/<int:id>/b/<name>/<path(minlength=2):rest>") == "/a/{id}/b/{name}/{rest}"
    )


async def test_served_document_is_the_generated_one_and_is_generated_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ferrule.core.openapi import ui

    calls: list[App] = []
    real = ui.generate_openapi

    def counting(app: App) -> dict[str, Any]:
        calls.append(app)
        return real(app)

    monkeypatch.setattr(ui, "generate_openapi", counting)
    app = make_app()
    async with TestClient(app) as client:
        assert len(calls) == 1  # generated at startup
        first = await client.get("/openapi/specs.json")
        second = await client.get("/openapi/specs.json")
    assert len(calls) == 1
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == second.json() == generate_openapi(make_app())


async def test_unknown_security_scheme_is_a_startup_error() -> None:
    app = make_app()
    app.openapi_security_schemes.clear()
    with pytest.raises(ImproperlyConfiguredError, match=r"'bearerAuth'.*openapi_security_schemes"):
        async with TestClient(app):
            pass


# -- the UIs --------------------------------------------------------------------------

_REFS = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/openapi/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"}),
        ("/openapi/redoc", {"redoc.standalone.js"}),
    ],
)
async def test_ui_pages_load_only_packaged_assets(page: str, assets: set[str]) -> None:
    async with TestClient(make_app()) as client:
        res = await client.get(page)
        assert res.status_code == 200
        assert res.headers["content-type"] == "text/html; charset=utf-8"
        html = res.text
        assert "http://" not in html
        assert "https://" not in html
        assert "cdn" not in html.lower()
        assert "specs.json" in html
        assert "<script>" not in html  # no inline script: works under a strict CSP
        refs = _REFS.findall(html)
        assert {ref.split("?")[0].removeprefix("static/") for ref in refs} == assets
        for ref in refs:
            assert ref.startswith("static/")  # relative: works under a mount prefix
            asset = await client.get("/openapi/" + ref)
            assert asset.status_code == 200, ref
            expected = "text/css" if ref.split("?")[0].endswith(".css") else "text/javascript"
            assert asset.headers["content-type"] == f"{expected}; charset=utf-8"
            assert asset.headers["cache-control"] == "public, max-age=86400"
            assert asset.headers["x-content-type-options"] == "nosniff"
            assert len(asset.content) > 100
            etag = asset.headers["etag"]
            cached = await client.get("/openapi/" + ref, headers={"If-None-Match": etag})
            assert cached.status_code == 304
            assert cached.content == b""
            assert cached.headers["etag"] == etag


async def test_asset_route_serves_only_its_fixed_files() -> None:
    async with TestClient(make_app()) as client:
        license_res = await client.get("/openapi/static/redoc.LICENSE")
        unknown = await client.get("/openapi/static/app.py")
        dotdot = await client.get("/openapi/static/..%2f__init__.py")
        init = await client.get("/openapi/static/__init__.py")
    assert license_res.status_code == 200
    assert "MIT" in license_res.text
    assert unknown.status_code == 404
    assert unknown.json()["status"] == "error"
    assert dotdot.status_code == 404
    assert init.status_code == 404


@pytest.mark.parametrize(
    ("settings", "served"),
    [
        ({}, False),
        ({"DEBUG": True}, True),
        ({"DEBUG": True, "OPEN_API": False}, False),
        ({"OPEN_API": True}, True),
    ],
)
async def test_open_api_follows_debug_unless_set(settings: dict[str, Any], served: bool) -> None:
    config = {"LOGGING_CONFIGURE": False, "ACCESS_LOG": False, **settings}
    app = App(config, controllers=[InternalApi])
    async with TestClient(app) as client:
        for url in ("/openapi/specs.json", "/openapi/docs", "/openapi/redoc"):
            res = await client.get(url)
            assert res.status_code == (200 if served else 404), url


async def test_open_api_url_moves_everything() -> None:
    async with TestClient(make_app(OPEN_API_URL="/api-docs")) as client:
        assert (await client.get("/api-docs/specs.json")).status_code == 200
        assert (await client.get("/api-docs/docs")).status_code == 200
        assert (await client.get("/api-docs/static/swagger-init.js")).status_code == 200
        assert (await client.get("/openapi/specs.json")).status_code == 404


@pytest.mark.parametrize("url", ["openapi", "/openapi/", "/open api", "/<x>"])
def test_bad_open_api_url_is_a_startup_error(url: str) -> None:
    with pytest.raises(ImproperlyConfiguredError, match="OPEN_API_URL"):
        make_app(OPEN_API_URL=url)


def test_descriptor_and_decorator_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="HTTP status"):
        Descriptor(status=42)
    with pytest.raises(TypeError, match="Descriptor"):
        open_api_docs(404)  # type: ignore[arg-type]


# -- forms, controller-level security ------------------------------------------------


class Profile(BaseModel):
    nickname: str
    age: int


@path("/forms", tags=["Forms"])
class FormsApi(Controller):
    # What an auth extension's class decorator sets for every route of a controller.
    __ferrule_controller__ = ControllerMeta(extra={"openapi_security": [{"apiKey": []}]})

    @post("/upload")
    async def upload(
        self, title: Annotated[str, Form()], count: Annotated[int, Form()], file: UploadFile
    ) -> dict[str, str]:
        return {"title": title}

    @post("/login")
    async def login(
        self, user: Annotated[str, Form()], remember: Annotated[bool, Form()] = False
    ) -> dict[str, str]:
        return {"user": user}

    @post("/profile")
    async def profile(self, data: Annotated[Profile, Form()]) -> dict[str, str]:
        return {"nickname": data.nickname}


def test_form_bodies_and_controller_security() -> None:
    app = App({**CONFIG}, controllers=[FormsApi])
    app.openapi_security_schemes["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-Key"}
    spec = generate_openapi(app)
    validate(spec)
    upload = spec["paths"]["/forms/upload"]["post"]
    assert upload["security"] == [{"apiKey": []}]
    assert upload["requestBody"] == {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "count": {"type": "integer"},
                        "file": {"type": "string", "format": "binary"},
                    },
                    "required": ["title", "count", "file"],
                }
            }
        },
    }
    assert set(upload["responses"]) == {"200", "400", "413", "415", "422"}
    login = spec["paths"]["/forms/login"]["post"]["requestBody"]
    schema = login["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["required"] == ["user"]
    assert schema["properties"]["remember"] == {"type": "boolean"}
    profile = spec["paths"]["/forms/profile"]["post"]["requestBody"]
    assert profile == {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/Profile"}
            }
        },
    }
