"""Routing: converters, strict slashes, the static and dynamic fast paths, url_for."""

from typing import Any
from uuid import UUID

import pytest

from ferrule.core import App, Controller, FerruleError, Request, UrlBuildError, get, path, post
from ferrule.core.routing.compiler import rule_arguments
from ferrule.core.testing import TestClient


@path("/users", tags=["Users"])
class UsersApi(Controller):
    @get("/")
    async def list_users(self) -> list[str]:
        return ["ada"]

    @get("/me")
    async def me(self) -> dict[str, str]:
        return {"who": "me"}

    @get("/<int:user_id>")
    async def get_user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "type": type(user_id).__name__}

    @get("/<name>")
    async def by_name(self, name: str) -> dict[str, str]:
        return {"name": name}

    @post("/<int:user_id>/avatar")
    async def set_avatar(self, user_id: int) -> dict[str, int]:
        return {"avatar_for": user_id}


@path("/files")
class FilesApi(Controller):
    @get("/<path:rest>")
    async def read(self, rest: str) -> dict[str, str]:
        return {"rest": rest}


@path("/typed")
class TypedApi(Controller):
    @get("/<uuid:key>")
    async def by_uuid(self, key: UUID) -> dict[str, str]:
        return {"key": str(key), "type": type(key).__name__}

    @get("/count/<count>")
    async def count(self, count: int) -> dict[str, int]:
        # No converter in the rule: the annotation validates the segment.
        return {"count": count}

    @get("/float/<float:ratio>")
    async def ratio(self, ratio: float) -> dict[str, float]:
        return {"ratio": ratio}


@path("/slashed")
class SlashedApi(Controller):
    @get("/dir/")
    async def directory(self) -> dict[str, str]:
        return {"dir": "listing"}

    @get("/<int:item_id>/")
    async def item(self, item_id: int) -> dict[str, int]:
        return {"item": item_id}


@path("/links")
class LinksApi(Controller):
    @get("/")
    async def links(self, req: Request) -> dict[str, str]:
        return {"user": req.url_for("UsersApi.get_user", user_id=3)}

    @get("/named", name="custom-endpoint")
    async def named(self) -> dict[str, str]:
        return {"named": "yes"}


CONTROLLERS = [UsersApi, FilesApi, TypedApi, SlashedApi, LinksApi]


def make_app(**config: Any) -> App:
    return App(config=config or None, controllers=CONTROLLERS)


async def test_int_converter_gives_an_int() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/users/42")
    assert res.status_code == 200
    assert res.json() == {"id": 42, "type": "int"}


async def test_static_rule_wins_over_a_dynamic_one() -> None:
    async with TestClient(make_app()) as client:
        me = await client.get("/users/me")
        other = await client.get("/users/grace")
    assert me.json() == {"who": "me"}
    assert other.json() == {"name": "grace"}


async def test_int_converter_rejects_non_digits_by_falling_to_the_next_rule() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/users/abc/avatar")
    assert res.status_code == 404
    assert res.json() == {
        "status": "error",
        "message": "Not found: /users/abc/avatar",
        "errors": [],
    }


async def test_dynamic_rule_with_method_not_allowed_is_405() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/users/5/avatar")
    assert res.status_code == 405
    assert res.headers["allow"] == "OPTIONS, POST"


async def test_path_converter_captures_slashes() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/files/docs/2024/report.txt")
    assert res.json() == {"rest": "docs/2024/report.txt"}


async def test_uuid_and_float_converters() -> None:
    key = "12345678-1234-5678-1234-567812345678"
    async with TestClient(make_app()) as client:
        res = await client.get(f"/typed/{key}")
        ratio = await client.get("/typed/float/0.5")
        bad = await client.get("/typed/not-a-uuid")
    assert res.json() == {"key": key, "type": "UUID"}
    assert ratio.json() == {"ratio": 0.5}
    assert bad.status_code == 404


async def test_path_segment_without_converter_is_validated_by_the_annotation() -> None:
    async with TestClient(make_app()) as client:
        ok = await client.get("/typed/count/7")
        bad = await client.get("/typed/count/seven")
    assert ok.json() == {"count": 7}
    assert bad.status_code == 422
    assert bad.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": [
            {
                "loc": ["path", "count"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ],
    }


# -- strict slashes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "location"),
    [("/slashed/dir", "/slashed/dir/"), ("/slashed/9", "/slashed/9/")],
)
async def test_missing_trailing_slash_redirects_with_a_relative_location(
    url: str, location: str
) -> None:
    async with TestClient(make_app()) as client:
        res = await client.get(url)
    assert res.status_code == 308
    assert res.headers["location"] == location
    assert res.json()["status"] == "error"


async def test_strict_slash_redirect_keeps_the_query_string() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/slashed/dir?page=2&sort=name")
    assert res.status_code == 308
    assert res.headers["location"] == "/slashed/dir/?page=2&sort=name"


async def test_redirect_target_serves_the_route() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/slashed/dir/")
        item = await client.get("/slashed/9/")
    assert res.json() == {"dir": "listing"}
    assert item.json() == {"item": 9}


async def test_extra_trailing_slash_is_404_under_strict_slashes() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/users/me/")
    assert res.status_code == 404


async def test_without_strict_slashes_the_slashless_url_matches_directly() -> None:
    async with TestClient(make_app(STRICT_SLASHES=False)) as client:
        res = await client.get("/slashed/dir")
    assert res.status_code == 200
    assert res.json() == {"dir": "listing"}


async def test_controller_index_route_is_the_prefix_itself() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/users")
    assert res.json() == ["ada"]


# -- url_for --------------------------------------------------------------------------


def test_url_for_builds_with_values() -> None:
    app = make_app()
    assert app.url_for("UsersApi.get_user", user_id=1) == "/users/1"
    assert app.url_for("FilesApi.read", rest="a/b.txt") == "/files/a/b.txt"
    assert app.url_for("custom-endpoint") == "/links/named"


def test_url_for_puts_unknown_values_in_the_query_string() -> None:
    app = make_app()
    assert app.url_for("UsersApi.get_user", user_id=1, tab="posts") == "/users/1?tab=posts"


async def test_request_url_for_uses_the_app_router() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/links")
    assert res.json() == {"user": "/users/3"}


def test_url_for_unknown_endpoint_suggests_the_closest_name() -> None:
    app = make_app()
    with pytest.raises(UrlBuildError) as info:
        app.url_for("UsersApi.get_usr", user_id=1)
    message = str(info.value)
    assert "'UsersApi.get_usr'" in message
    assert "Did you mean 'UsersApi.get_user'?" in message
    assert isinstance(info.value, LookupError)


def test_url_for_with_missing_values_names_the_endpoint_and_rule() -> None:
    app = make_app()
    with pytest.raises(UrlBuildError, match=r"'UsersApi\.get_user' \(/users/<int:user_id>\)"):
        app.url_for("UsersApi.get_user")


# -- compilation ---------------------------------------------------------------------


@path("/dupe")
class DupeOne(Controller):
    @get("/a", name="same")
    async def one(self) -> dict[str, int]:
        return {"n": 1}

    @get("/b", name="same")
    async def two(self) -> dict[str, int]:
        return {"n": 2}


def test_two_handlers_with_one_endpoint_name_are_a_startup_error() -> None:
    app = App(controllers=[DupeOne])
    with pytest.raises(FerruleError, match="share the endpoint name 'same'"):
        _ = app.routes


def test_routes_list_endpoints_rules_and_methods() -> None:
    app = App(controllers=[UsersApi])
    table = {(r.endpoint, r.rule, r.methods) for r in app.routes}
    assert ("UsersApi.get_user", "/users/<int:user_id>", ("GET",)) in table
    assert ("UsersApi.set_avatar", "/users/<int:user_id>/avatar", ("POST",)) in table
    assert ("UsersApi.list_users", "/users", ("GET",)) in table


def test_rule_arguments_reads_converters() -> None:
    assert rule_arguments("/a/<int:id>/<name>/<path:rest>") == {
        "id": "int",
        "name": "default",
        "rest": "path",
    }
    assert rule_arguments("/s/<string(length=2):code>") == {"code": "string"}


@path("/conv")
class ConvertersApi(Controller):
    @get("/plain/<int:n>")
    async def plain(self, n: int) -> dict[str, int]:
        return {"n": n}

    @get("/bounded/<int(min=1, max=99):n>")
    async def bounded(self, n: int) -> dict[str, int]:
        return {"n": n}

    @get("/fixed/<int(fixed_digits=4):year>")
    async def fixed(self, year: int) -> dict[str, int]:
        return {"year": year}

    @get("/signed/<int(signed=True):n>")
    async def signed(self, n: int) -> dict[str, int]:
        return {"n": n}

    @get("/name/<name>/<int:n>")
    async def named(self, name: str, n: int) -> dict[str, Any]:
        return {"name": name, "n": n}

    @get("/short/<string(maxlength=3):code>")
    async def short(self, code: str) -> dict[str, str]:
        return {"code": code}


@pytest.mark.parametrize(
    "target",
    [
        "/conv/plain/7",
        "/conv/plain/007",
        "/conv/plain/" + "9" * 5000,  # beyond int()'s digit limit: no match
        "/conv/plain/\u0664\u0662",  # Arabic-Indic digits: \d matches, int() converts
        "/conv/plain/-1",
        "/conv/bounded/0",
        "/conv/bounded/5",
        "/conv/bounded/100",
        "/conv/fixed/2024",
        "/conv/fixed/24",
        "/conv/signed/-12",
        "/conv/name/ada/3",
        "/conv/name/ada%20l/3",
        "/conv/short/abc",
        "/conv/short/abcd",
    ],
)
def test_dynamic_fast_path_agrees_with_werkzeug(target: str) -> None:
    """Whatever the fast path answers, Werkzeug's matcher answers the same."""
    from ferrule.core.routing.router import NotFoundError

    app = App(controllers=[ConvertersApi])
    router = app.router
    try:
        expected: Any = router.adapter.match(target, "GET", return_rule=True)
    except Exception as exc:  # NotFound and friends
        expected = type(exc).__name__
    fast = router._match_dynamic(target, "GET")
    if fast is not None:
        route, args = fast
        assert not isinstance(expected, str), f"fast path matched, Werkzeug said {expected}"
        rule, wargs = expected
        assert route is rule.ferrule_route
        assert args == wargs
        assert [type(v) for v in args.values()] == [type(v) for v in wargs.values()]
    try:
        route, args = router.match(target, "GET")
    except NotFoundError:
        assert expected == "NotFound"
    else:
        assert not isinstance(expected, str)
        assert (route, args) == (expected[0].ferrule_route, dict(expected[1]))
