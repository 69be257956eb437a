"""The application: the ASGI entry point, errors, request ids, isolation, seed style."""

import logging
from typing import Any

import httpx
import pytest

import ferrule.core
from ferrule.core import (
    App,
    BaseConfig,
    Controller,
    Extension,
    FerruleError,
    Request,
    Response,
    get,
    path,
    post,
)
from ferrule.core.testing import TestClient


@path("/things")
class ThingsApi(Controller):
    @get("/")
    async def list_things(self) -> list[int]:
        return [1, 2, 3]

    @post("/")
    async def create_thing(self) -> dict[str, bool]:
        return {"created": True}

    @get("/<int:thing_id>")
    async def get_thing(self, thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    @get("/text")
    async def text(self, req: Request) -> Response[Any]:
        return req.response.text("hello").set_header("X-Extra", "yes")

    @get("/boom")
    async def boom(self) -> dict[str, str]:
        raise RuntimeError("secret database password in message")


@path("/other")
class OtherApi(Controller):
    @get("/")
    async def index(self) -> dict[str, str]:
        return {"app": self.app.config.APP_NAME}


def make_app(**config: Any) -> App:
    return App(config=config or None, controllers=[ThingsApi])


ERROR_KEYS = {"status", "message", "errors"}


async def test_unknown_path_is_404_in_the_error_shape() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/nowhere")
    assert res.status_code == 404
    assert res.headers["content-type"] == "application/json"
    assert res.json() == {"status": "error", "message": "Not found: /nowhere", "errors": []}


async def test_wrong_method_is_405_with_allow_header() -> None:
    async with TestClient(make_app()) as client:
        res = await client.delete("/things")
        dynamic = await client.put("/things/7")
    assert res.status_code == 405
    assert res.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert res.json() == {
        "status": "error",
        "message": "Method DELETE not allowed; allowed: GET, HEAD, OPTIONS, POST",
        "errors": [],
    }
    assert dynamic.status_code == 405
    assert dynamic.headers["allow"] == "GET, HEAD, OPTIONS"
    assert set(dynamic.json()) == ERROR_KEYS


@pytest.mark.parametrize("url", ["/things", "/things/7", "/things/text"])
async def test_head_answers_with_get_headers_and_empty_body(url: str) -> None:
    async with TestClient(make_app()) as client:
        got = await client.get(url)
        head = await client.head(url)
    assert got.status_code == head.status_code == 200
    assert got.content != b""
    assert head.content == b""
    without_rid = {k: v for k, v in got.headers.items() if k != "x-request-id"}
    assert {k: v for k, v in head.headers.items() if k != "x-request-id"} == without_rid
    assert head.headers["content-length"] == str(len(got.content))


@pytest.mark.parametrize(
    ("url", "allow"),
    [("/things", "GET, HEAD, OPTIONS, POST"), ("/things/7", "GET, HEAD, OPTIONS")],
)
async def test_options_is_answered_with_204_and_allow(url: str, allow: str) -> None:
    async with TestClient(make_app()) as client:
        res = await client.options(url)
    assert res.status_code == 204
    assert res.headers["allow"] == allow
    assert res.content == b""


async def test_options_on_unknown_path_is_404() -> None:
    async with TestClient(make_app()) as client:
        res = await client.options("/nowhere")
    assert res.status_code == 404
    assert res.json()["message"] == "Not found: /nowhere"


async def test_plain_return_values_are_rendered() -> None:
    async with TestClient(make_app()) as client:
        listed = await client.get("/things")
        created = await client.post("/things")
        text = await client.get("/things/text")
    assert listed.json() == [1, 2, 3]
    assert listed.headers["content-type"] == "application/json"
    assert created.json() == {"created": True}
    assert text.text == "hello"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["x-extra"] == "yes"


# -- unhandled exceptions ----------------------------------------------------------


async def test_unhandled_exception_is_500_generic_with_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    async with TestClient(make_app()) as client:
        res = await client.get("/things/boom")
    assert res.status_code == 500
    rid = res.headers["x-request-id"]
    assert rid
    assert res.json() == {
        "status": "error",
        "message": "Internal server error",
        "errors": [],
        "request_id": rid,
    }
    assert "secret database password" not in res.text
    assert "Traceback" not in res.text
    # Logged once, with the traceback and the same request id.
    records = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert len(records) == 1
    assert rid in records[0].getMessage()
    assert "GET /things/boom" in records[0].getMessage()
    assert "Traceback (most recent call last)" in caplog.text
    assert "RuntimeError: secret database password in message" in caplog.text


async def test_traceback_is_in_the_500_body_only_with_debug() -> None:
    async with TestClient(make_app(DEBUG=True)) as client:
        res = await client.get("/things/boom")
    assert res.status_code == 500
    body = res.json()
    assert body["message"] == "Internal server error"
    assert body["request_id"] == res.headers["x-request-id"]
    assert body["data"]["exception"] == "RuntimeError: secret database password in message"
    trace = "".join(body["data"]["traceback"])
    assert "Traceback (most recent call last)" in trace
    assert "in boom" in trace


async def test_incoming_request_id_is_reused_when_well_formed() -> None:
    async with TestClient(make_app()) as client:
        good = await client.get("/things/boom", headers={"X-Request-ID": "abc-123"})
        bad = await client.get("/things/boom", headers={"X-Request-ID": "bad id\twith space"})
        first = await client.get("/things")
        second = await client.get("/things")
    assert good.headers["x-request-id"] == "abc-123"
    assert good.json()["request_id"] == "abc-123"
    assert bad.headers["x-request-id"] != "bad id\twith space"
    assert bad.json()["request_id"] == bad.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


# -- two apps in one process ---------------------------------------------------------


class Tally(Extension):
    def init_app(self, app: App) -> None:
        super().init_app(app)
        self.state(app).data["hits"] = 0


@path("/tally")
class TallyApi(Controller):
    @get("/")
    async def hit(self, ext: Tally) -> dict[str, Any]:
        data = ext.state(self.app).data
        data["hits"] += 1
        return {"hits": data["hits"], "app": self.app.config.APP_NAME}


async def test_two_apps_have_separate_routes_config_and_extension_state() -> None:
    tally = Tally()
    one = App(config={"APP_NAME": "one"}, controllers=[ThingsApi, TallyApi], extensions=[tally])
    two = App(config={"APP_NAME": "two"}, controllers=[OtherApi, TallyApi], extensions=[tally])
    async with TestClient(one) as c1, TestClient(two) as c2:
        assert (await c1.get("/things")).status_code == 200
        assert (await c2.get("/things")).status_code == 404
        assert (await c1.get("/other")).status_code == 404
        assert (await c2.get("/other")).json() == {"app": "two"}
        assert (await c1.get("/tally")).json() == {"hits": 1, "app": "one"}
        assert (await c1.get("/tally")).json() == {"hits": 2, "app": "one"}
        assert (await c2.get("/tally")).json() == {"hits": 1, "app": "two"}
    assert one.config is not two.config
    assert one.extensions["tally"] is not two.extensions["tally"]
    assert {r.endpoint for r in one.routes} != {r.endpoint for r in two.routes}


# -- seed style --------------------------------------------------------------------


async def test_seed_style_application_honours_config_import_strings(sample_path: str) -> None:
    from ferrule_core_sample.app import Application

    app = Application()
    async with TestClient(app) as client:
        user = await client.get("/api/v1/users/5")
        count = await client.get("/api/v1/users/count")
        teapot = await client.get("/api/v1/users/teapot")
        missing = await client.get("/nope")
        assert app.events == ["startup"]
    assert app.events == ["startup", "shutdown"]
    assert user.status_code == 200
    assert user.json() == {"id": 5, "app": "Sample"}
    assert user.headers["x-stamp"] == "sample"  # MIDDLEWARE
    assert count.json() == {"same_instance": True, "calls": 1}  # EXTENSIONS
    assert teapot.status_code == 418  # EXCEPTION_HANDLERS
    assert teapot.json() == {"teapot": "short and stout"}
    assert missing.status_code == 404
    assert missing.headers["x-stamp"] == "sample"
    assert app.url_for("UsersApi.get_user", user_id=5) == "/api/v1/users/5"


async def test_two_seed_style_apps_share_no_extension_state(sample_path: str) -> None:
    from ferrule_core_sample.app import Application

    one, two = Application(), Application()
    async with TestClient(one) as c1, TestClient(two) as c2:
        assert (await c1.get("/api/v1/users/count")).json()["calls"] == 1
        assert (await c1.get("/api/v1/users/count")).json()["calls"] == 2
        assert (await c2.get("/api/v1/users/count")).json()["calls"] == 1


# -- middleware ------------------------------------------------------------------------


def tagging(tag: str) -> Any:
    def factory(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            async def tagged(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-order", tag.encode())]
                await send(message)

            await app(scope, receive, tagged)

        return middleware

    return factory


class FailingMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise ValueError("middleware broke")
        await self.app(scope, receive, send)


async def test_first_middleware_listed_is_outermost() -> None:
    app = App(controllers=[ThingsApi], middleware=[tagging("outer"), tagging("inner")])
    async with TestClient(app) as client:
        res = await client.get("/things")
    # The inner middleware sees the start message first, so its header comes first.
    assert res.headers.get_list("x-order") == ["inner", "outer"]


async def test_exception_in_middleware_becomes_a_generic_500() -> None:
    app = App(controllers=[ThingsApi], middleware=[FailingMiddleware])
    async with TestClient(app) as client:
        res = await client.get("/things")
    assert res.status_code == 500
    assert res.json() == {
        "status": "error",
        "message": "Internal server error",
        "errors": [],
        "request_id": res.headers["x-request-id"],
    }


async def test_registration_after_serving_is_refused() -> None:
    app = make_app()
    async with TestClient(app) as client:
        assert (await client.get("/things")).status_code == 200
        with pytest.raises(FerruleError, match="after the application started serving"):
            app.register_controller(OtherApi)


def test_non_controller_is_refused() -> None:
    with pytest.raises(FerruleError, match="is not a Controller subclass"):
        App(controllers=[object])  # type: ignore[list-item]


async def test_add_route_serves_a_plain_function() -> None:
    async def ping(name: str = "world") -> dict[str, str]:
        return {"pong": name}

    app = App()
    app.add_route("/ping", ping, name="ping")
    async with TestClient(app) as client:
        res = await client.get("/ping?name=ferrule")
    assert res.json() == {"pong": "ferrule"}
    assert app.url_for("ping") == "/ping"


async def test_app_is_an_asgi_callable_with_lifespan_protocol() -> None:
    events: list[str] = []
    app = make_app()
    app.on_startup(lambda: events.append("up"))
    app.on_shutdown(lambda: events.append("down"))
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert events == ["up", "down"]


# -- public API and test client ------------------------------------------------------------

PUBLIC_API = {
    "App",
    "BaseConfig",
    "Body",
    "Controller",
    "Cookie",
    "Depends",
    "ExceptionHandler",
    "Extension",
    "HTTPException",
    "Header",
    "HttpStatus",
    "ImproperlyConfiguredError",
    "MediaType",
    "Query",
    "Request",
    "Response",
    "abort",
    "after_request",
    "before_request",
    "consumes",
    "delete",
    "development",
    "get",
    "handles",
    "on_shutdown",
    "on_startup",
    "patch",
    "path",
    "post",
    "produces",
    "put",
}


def test_public_api_is_importable_from_ferrule_core() -> None:
    exported = set(ferrule.core.__all__)
    assert exported >= PUBLIC_API
    assert all(hasattr(ferrule.core, name) for name in exported)
    assert list(ferrule.core.__all__) == sorted(ferrule.core.__all__)


async def test_test_client_methods_return_httpx_responses() -> None:
    async with TestClient(make_app()) as client:
        res = await client.request("GET", "/things")
        created = await client.request("POST", "/things")
    assert isinstance(res, httpx.Response)
    assert res.json() == [1, 2, 3]
    assert created.json() == {"created": True}


async def test_test_client_can_skip_the_lifespan() -> None:
    events: list[str] = []
    app = make_app()
    app.on_startup(lambda: events.append("up"))
    async with TestClient(app, run_lifespan=False) as client:
        assert (await client.get("/things")).status_code == 200
    assert events == []


# -- the pytest11 fixture ----------------------------------------------------------


@pytest.fixture
def app() -> App:
    return App(config=BaseConfig(APP_NAME="fixture"), controllers=[OtherApi])


async def test_ferrule_client_fixture_serves_the_app_fixture(ferrule_client: Any) -> None:
    assert isinstance(ferrule_client, TestClient)
    res = await ferrule_client.get("/other")
    assert res.status_code == 200
    assert res.json() == {"app": "fixture"}
