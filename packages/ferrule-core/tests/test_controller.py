"""Controllers: prefixes, hooks, @consumes, @development, sync handlers."""

import threading
from typing import Any

import pytest

from ferrule.core import (
    App,
    Controller,
    HttpStatus,
    MediaType,
    Request,
    Response,
    after_request,
    before_request,
    consumes,
    delete,
    development,
    get,
    patch,
    path,
    post,
    put,
    route,
)
from ferrule.core.testing import TestClient

THREADS: dict[str, int] = {}


@path("/api/v1/users/", tags=["Users"])
class VerbsApi(Controller):
    @get("/")
    async def list_users(self) -> list[str]:
        return ["GET"]

    @post("/")
    async def create(self) -> list[str]:
        return ["POST"]

    @put("/<int:user_id>")
    async def replace(self, user_id: int) -> list[Any]:
        return ["PUT", user_id]

    @patch("/<int:user_id>")
    async def update(self, user_id: int) -> list[Any]:
        return ["PATCH", user_id]

    @delete("/<int:user_id>", status_code=HttpStatus.NO_CONTENT)
    async def remove(self, user_id: int) -> None:
        return None

    @route("/search", methods=["get", "post"])
    async def search(self, req: Request) -> list[str]:
        return [req.method]


@path("/hooks")
class HooksApi(Controller):
    # Definition order: zz, aa, mm. Alphabetical would be aa, mm, zz.
    @before_request
    async def zz_first(self, req: Request) -> None:
        req.state.trail = ["zz_first"]

    @before_request
    def aa_second(self, req: Request) -> None:
        req.state.trail.append("aa_second")

    @before_request
    async def mm_gate(self, req: Request) -> Response[Any] | None:
        req.state.trail.append("mm_gate")
        if req.headers.get("x-block"):
            return req.response.json({"blocked": req.state.trail}).status(403)
        return None

    @after_request
    async def zz_after(self, res: Response[Any]) -> None:
        res.set_header("X-After", "zz_after")

    @after_request
    def aa_after(self, req: Request, res: Response[Any]) -> None:
        res.headers.add("X-After", f"aa_after:{req.method}")

    @get("/")
    async def index(self, req: Request) -> dict[str, Any]:
        req.state.trail.append("handler")
        return {"trail": req.state.trail}


@path("/replace")
class ReplacingApi(Controller):
    @after_request
    async def wrap(self, res: Response[Any]) -> Response[Any]:
        return Response({"wrapped": res.content}, status_code=299)

    @get("/")
    async def index(self) -> dict[str, int]:
        return {"n": 1}


@path("/dev")
class DevApi(Controller):
    @get("/public")
    async def public(self) -> dict[str, str]:
        return {"public": "yes"}

    @development
    @get("/debug-only")
    async def debug_only(self) -> dict[str, str]:
        return {"debug": "yes"}


@development
@path("/tools")
class DevToolsApi(Controller):
    @get("/")
    async def index(self) -> dict[str, str]:
        return {"tools": "yes"}


@path("/consume")
class ConsumesApi(Controller):
    @post("/json")
    @consumes(MediaType.APPLICATION_JSON)
    async def json_only(self, req: Request) -> dict[str, Any]:
        return {"got": await req.json()}

    @post("/text")
    @consumes(MediaType.TEXT_PLAIN)
    async def text_only(self, req: Request) -> dict[str, str]:
        return {"got": (await req.body()).decode()}


@path("/sync")
class SyncApi(Controller):
    @get("/")
    def sync_handler(self, n: int = 1) -> dict[str, int]:
        THREADS["sync_handler"] = threading.get_ident()
        return {"n": n}

    @get("/async")
    async def async_handler(self) -> dict[str, bool]:
        THREADS["async_handler"] = threading.get_ident()
        return {"ok": True}

    @before_request
    def sync_hook(self, req: Request) -> None:
        THREADS["sync_hook"] = threading.get_ident()


class BaseCrud(Controller):
    @get("/")
    async def list_all(self) -> dict[str, str]:
        return {"from": f"{type(self).__name__}.list_all"}

    @get("/<int:pk>")
    async def one(self, pk: int) -> dict[str, Any]:
        return {"pk": pk}


@path("/books")
class BooksApi(BaseCrud):
    @get("/<int:pk>")
    async def one(self, pk: int) -> dict[str, Any]:
        return {"book": pk}


@path("/counter")
class CounterApi(Controller):
    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.count = 0

    @post("/")
    async def bump(self) -> dict[str, int]:
        self.count += 1
        return {"count": self.count}


ALL = [VerbsApi, HooksApi, ReplacingApi, DevApi, DevToolsApi, ConsumesApi, SyncApi, BooksApi]


def make_app(**config: Any) -> App:
    return App(config=config or None, controllers=[*ALL, CounterApi])


async def test_verbs_and_prefix() -> None:
    async with TestClient(make_app()) as client:
        assert (await client.get("/api/v1/users")).json() == ["GET"]
        assert (await client.post("/api/v1/users")).json() == ["POST"]
        assert (await client.put("/api/v1/users/3")).json() == ["PUT", 3]
        assert (await client.patch("/api/v1/users/3")).json() == ["PATCH", 3]
        assert (await client.get("/api/v1/users/search")).json() == ["GET"]
        assert (await client.post("/api/v1/users/search")).json() == ["POST"]


async def test_decorator_status_code_applies_when_the_handler_returns_none() -> None:
    async with TestClient(make_app()) as client:
        removed = await client.delete("/api/v1/users/3")
    assert removed.status_code == 204
    assert removed.content == b""


def test_tags_are_merged_on_routes() -> None:
    app = App(controllers=[VerbsApi])
    mine = [r for r in app.routes if isinstance(r.controller, VerbsApi)]
    assert len(mine) == 6
    assert {r.tags for r in mine} == {("Users",)}


async def test_before_and_after_hooks_run_in_definition_order() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/hooks")
    assert res.status_code == 200
    assert res.json() == {"trail": ["zz_first", "aa_second", "mm_gate", "handler"]}
    assert res.headers.get_list("x-after") == ["zz_after", "aa_after:GET"]


async def test_before_hook_returning_a_response_short_circuits() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/hooks", headers={"X-Block": "1"})
    assert res.status_code == 403
    # The handler did not run; hooks after the gate did not run either.
    assert res.json() == {"blocked": ["zz_first", "aa_second", "mm_gate"]}


async def test_after_hook_can_replace_the_response() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/replace")
    assert res.status_code == 299
    assert res.json() == {"wrapped": {"n": 1}}


async def test_development_routes_exist_only_with_debug() -> None:
    async with TestClient(make_app()) as client:
        public = await client.get("/dev/public")
        hidden = await client.get("/dev/debug-only")
        tools = await client.get("/tools")
    assert public.status_code == 200
    assert hidden.status_code == 404
    assert tools.status_code == 404
    async with TestClient(make_app(DEBUG=True)) as client:
        shown = await client.get("/dev/debug-only")
        tools = await client.get("/tools")
    assert shown.json() == {"debug": "yes"}
    assert tools.json() == {"tools": "yes"}


async def test_consumes_mismatch_is_415() -> None:
    async with TestClient(make_app()) as client:
        wrong = await client.post(
            "/consume/json", content=b"hi", headers={"Content-Type": "text/plain"}
        )
        missing = await client.post("/consume/json", content=b"{}")
        text_wrong = await client.post("/consume/text", json={"a": 1})
    assert wrong.status_code == 415
    assert wrong.json() == {
        "status": "error",
        "message": (
            "Unsupported media type 'text/plain': this endpoint consumes 'application/json'."
        ),
        "errors": [],
    }
    assert missing.status_code == 415
    assert missing.json()["message"].startswith("Unsupported media type '(none)'")
    assert text_wrong.status_code == 415


async def test_consumes_match_ignores_parameters() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/consume/json",
            content=b'{"a": 1}',
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        text = await client.post(
            "/consume/text", content=b"hello", headers={"Content-Type": "text/plain; charset=utf-8"}
        )
    assert res.json() == {"got": {"a": 1}}
    assert text.json() == {"got": "hello"}


async def test_sync_handlers_and_hooks_run_in_a_worker_thread() -> None:
    THREADS.clear()
    loop_thread = threading.get_ident()
    async with TestClient(make_app()) as client:
        res = await client.get("/sync?n=4")
        await client.get("/sync/async")
    assert res.json() == {"n": 4}
    assert THREADS["sync_handler"] != loop_thread
    assert THREADS["sync_hook"] != loop_thread
    assert THREADS["async_handler"] == loop_thread


async def test_inherited_routes_and_overrides() -> None:
    async with TestClient(make_app()) as client:
        listed = await client.get("/books")
        one = await client.get("/books/2")
    assert listed.json() == {"from": "BooksApi.list_all"}
    assert one.json() == {"book": 2}


async def test_one_controller_instance_per_app() -> None:
    one, two = make_app(), make_app()
    async with TestClient(one) as c1, TestClient(two) as c2:
        assert (await c1.post("/counter")).json() == {"count": 1}
        assert (await c1.post("/counter")).json() == {"count": 2}
        assert (await c2.post("/counter")).json() == {"count": 1}


def test_decorator_argument_errors() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        path("api")
    with pytest.raises(ValueError, match="must start with '/'"):
        get("users")
    with pytest.raises(TypeError, match="decorates Controller subclasses"):
        path("/x")(dict)


def test_media_type_and_status_enums() -> None:
    assert MediaType.APPLICATION_JSON == "application/json"
    assert str(MediaType.TEXT_HTML) == "text/html"
    assert HttpStatus.NOT_FOUND == 404
    assert HttpStatus(422) == HttpStatus.UNPROCESSABLE_ENTITY == 422
