"""Guards, mounted ASGI apps and root_path handling."""

from __future__ import annotations

from typing import Any

import pytest

from ferrule.core import (
    App,
    Controller,
    ImproperlyConfiguredError,
    Request,
    Response,
    abort,
    get,
    guard,
    path,
)
from ferrule.core.testing import TestClient

CALLS: list[str] = []


async def api_key(req: Request) -> None:
    CALLS.append("api_key")
    if req.headers.get("x-api-key") != "k":
        abort("Invalid API key", status_code=401)


def not_banned(req: Request) -> Response[Any] | None:  # sync guards run in a thread
    CALLS.append("not_banned")
    if req.query_params.get("user") == "mallory":
        return Response({"status": "error", "message": "banned", "errors": []}, status_code=403)
    return None


@path("/g")
@guard(api_key)
class GuardedApi(Controller):
    @get("/open")
    async def open_route(self) -> dict[str, bool]:
        return {"ok": True}

    @get("/strict")
    @guard(not_banned)
    async def strict(self) -> dict[str, bool]:
        CALLS.append("handler")
        return {"ok": True}


async def test_class_and_method_guards_in_order() -> None:
    CALLS.clear()
    app = App(controllers=[GuardedApi])
    async with TestClient(app) as client:
        missing = await client.get("/g/open")
        ok = await client.get("/g/strict", headers={"x-api-key": "k"})
        banned = await client.get("/g/strict?user=mallory", headers={"x-api-key": "k"})
    assert missing.status_code == 401
    assert missing.json()["message"] == "Invalid API key"
    assert ok.json() == {"ok": True}
    assert banned.status_code == 403
    assert CALLS == ["api_key", "api_key", "not_banned", "handler", "api_key", "not_banned"]


async def test_guard_on_a_function_route() -> None:
    app = App()

    @guard(api_key)
    async def ping() -> str:
        return "pong"

    app.add_route("/ping", ping)
    async with TestClient(app) as client:
        assert (await client.get("/ping")).status_code == 401
        assert (await client.get("/ping", headers={"x-api-key": "k"})).text == "pong"


async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@path("/")
class InnerApi(Controller):
    @get("/hello/<name>")
    async def hello(self, req: Request, name: str) -> dict[str, str]:
        return {"name": name, "url": req.url_for("InnerApi.hello", name="x")}


async def test_mount_asgi_app_and_a_ferrule_app() -> None:
    inner = App(controllers=[InnerApi])
    app = App()
    app.mount("/raw", raw_asgi)
    app.mount("/inner", inner)
    async with TestClient(app) as client:
        raw = await client.get("/raw/a/b")
        raw_root = await client.get("/raw")
        nested = await client.get("/inner/hello/ada")
        outside = await client.get("/rawx")
    assert raw.text == "/raw|/raw/a/b"
    assert raw_root.text == "/raw|/raw"
    assert nested.status_code == 200
    assert nested.json()["name"] == "ada"
    assert outside.status_code == 404


async def test_root_path_is_stripped_for_routing() -> None:
    app = App(controllers=[InnerApi])
    async with TestClient(app) as client:
        # What uvicorn --root-path /api passes: an absolute path and the root.
        res = await client.get("/hello/bo")
    assert res.status_code == 200
    app2 = App(controllers=[InnerApi])
    app2._freeze()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/hello/cy",
        "root_path": "/api",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    await app2(scope, receive, send)
    assert sent[0]["status"] == 200


@pytest.mark.parametrize("prefix", ["legacy", "/legacy/", ""])
def test_bad_mount_prefix(prefix: str) -> None:
    with pytest.raises(ImproperlyConfiguredError, match="Mount prefix"):
        App().mount(prefix, raw_asgi)
