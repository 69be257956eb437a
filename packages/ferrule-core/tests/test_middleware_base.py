"""MiddlewareBase: Request -> Response middleware, mixed with ASGI middleware."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    MiddlewareBase,
    Request,
    Response,
    StreamingResponse,
    get,
    path,
)
from ferrule.core.middleware.base import _ChainDispatch
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from ferrule.core.types import ASGIApp, Message, Receive, Scope, Send

ORDER: list[str] = []


class User(BaseModel):
    id: int
    name: str


class Boom(Exception):
    pass


@path("/mw")
class MwApi(Controller):
    @get("/plain")
    async def plain(self) -> dict[str, str]:
        return {"hello": "world"}

    @get("/text")
    async def text(self) -> str:
        return "hi"

    @get("/user")
    async def user(self) -> User:
        return {"id": 1, "name": "ann", "password": "secret"}  # type: ignore[return-value]

    @get("/stream")
    async def stream(self) -> StreamingResponse:
        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")

    @get("/fail")
    async def fail(self) -> dict[str, str]:
        raise Boom("handler")


class Timing(MiddlewareBase):
    async def middleware(self, req: Request) -> Response[Any]:
        ORDER.append("timing>")
        res = await self.next(req)
        ORDER.append("<timing")
        res.headers["x-time"] = "1"
        return res


class Tagger(MiddlewareBase):
    async def middleware(self, req: Request) -> Response[Any]:
        ORDER.append("tagger>")
        res = await self.next(req)
        ORDER.append("<tagger")
        res.headers["x-tag"] = self.options.get("tag", "none")
        return res


class ShortCircuit(MiddlewareBase):
    async def middleware(self, req: Request) -> Response[Any]:
        if req.headers.get("x-block") == "1":
            return Response({"blocked": True}, status_code=403)
        return await self.next(req)


class Raising(MiddlewareBase):
    async def middleware(self, req: Request) -> Response[Any]:
        if req.headers.get("x-raise") == "1":
            raise Boom("in middleware")
        return await self.next(req)


class SeeBody(MiddlewareBase):
    async def middleware(self, req: Request) -> Response[Any]:
        res = await self.next(req)
        res.headers["x-content"] = repr(res.content)
        return res


class Asgi:
    def __init__(self, app: ASGIApp, name: str = "asgi") -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ORDER.append(f"{self.name}>")

        async def tagging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-asgi", self.name.encode())]
            await send(message)

        await self.app(scope, receive, tagging_send)
        ORDER.append(f"<{self.name}")


def make(*middleware: Any, **config: Any) -> App:
    return App(config, controllers=[MwApi], middleware=middleware)


async def test_modifies_the_inner_response() -> None:
    async with TestClient(make(Timing)) as client:
        res = await client.get("/mw/plain")
    assert res.status_code == 200
    assert res.json() == {"hello": "world"}
    assert res.headers["x-time"] == "1"
    assert res.headers["x-request-id"]
    assert res.headers["x-content-type-options"] == "nosniff"


async def test_short_circuit_skips_handler_and_inner_middleware() -> None:
    ORDER.clear()
    async with TestClient(make(ShortCircuit, Timing)) as client:
        blocked = await client.get("/mw/plain", headers={"x-block": "1"})
        passed = await client.get("/mw/plain")
    assert blocked.status_code == 403
    assert blocked.json() == {"blocked": True}
    assert "x-time" not in blocked.headers
    assert passed.status_code == 200
    assert passed.headers["x-time"] == "1"
    assert ORDER == ["timing>", "<timing"]


async def test_first_listed_is_outermost_mixed_with_asgi() -> None:
    ORDER.clear()
    app = make(Timing, Asgi, Tagger)
    async with TestClient(app) as client:
        res = await client.get("/mw/plain")
    assert res.status_code == 200
    assert ORDER == ["timing>", "asgi>", "tagger>", "<tagger", "<asgi", "<timing"]
    # Timing sits outside the ASGI middleware: it sees that middleware's header.
    assert res.headers["x-asgi"] == "asgi"
    assert res.headers["x-time"] == "1"
    assert res.headers["x-tag"] == "none"
    assert res.json() == {"hello": "world"}


async def test_options_reach_the_constructor() -> None:
    app = App(controllers=[MwApi])
    app.add_middleware(Tagger, tag="blue")
    async with TestClient(app) as client:
        res = await client.get("/mw/plain")
    assert res.headers["x-tag"] == "blue"


async def test_exception_in_middleware_reaches_exception_handlers() -> None:
    app = make(Raising)

    async def handle(req: Request, exc: Boom) -> Response[Any]:
        return Response({"handled": str(exc)}, status_code=418)

    app.add_exception_handler(Boom, handle)
    async with TestClient(app) as client:
        res = await client.get("/mw/plain", headers={"x-raise": "1"})
        ok = await client.get("/mw/plain")
    assert res.status_code == 418
    assert res.json() == {"handled": "in middleware"}
    assert ok.status_code == 200


async def test_unhandled_exception_in_middleware_is_a_500_in_the_error_shape() -> None:
    async with TestClient(make(Raising)) as client:
        res = await client.get("/mw/plain", headers={"x-raise": "1"})
    assert res.status_code == 500
    body = res.json()
    assert body["status"] == "error"
    assert body["request_id"] == res.headers["x-request-id"]
    assert "in middleware" not in res.text  # no details outside DEBUG


async def test_exception_in_middleware_outside_asgi_reaches_handlers() -> None:
    app = make(Raising, Asgi)

    async def handle(req: Request, exc: Boom) -> Response[Any]:
        return Response({"handled": str(exc)}, status_code=418)

    app.add_exception_handler(Boom, handle)
    async with TestClient(app) as client:
        res = await client.get("/mw/plain", headers={"x-raise": "1"})
    assert res.status_code == 418


async def test_handler_errors_are_responses_the_middleware_sees() -> None:
    async with TestClient(make(Timing)) as client:
        failed = await client.get("/mw/fail")
        missing = await client.get("/mw/nope")
    assert failed.status_code == 500
    assert failed.headers["x-time"] == "1"
    assert missing.status_code == 404
    assert missing.json()["status"] == "error"
    assert missing.headers["x-time"] == "1"


async def test_unhandled_handler_error_propagates_to_the_test_client() -> None:
    async with TestClient(make(Timing), raise_server_exceptions=True) as client:
        with pytest.raises(Boom):
            await client.get("/mw/fail")


async def test_response_model_filters_before_middleware_sees_the_body() -> None:
    async with TestClient(make(SeeBody)) as client:
        res = await client.get("/mw/user")
    assert res.json() == {"id": 1, "name": "ann"}
    assert "secret" not in res.headers["x-content"]


async def test_streaming_and_text_responses_pass_through() -> None:
    async with TestClient(make(Timing)) as client:
        stream = await client.get("/mw/stream")
        text = await client.get("/mw/text")
        head = await client.head("/mw/plain")
    assert stream.text == "ab"
    assert stream.headers["x-time"] == "1"
    assert text.text == "hi"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert head.status_code == 200
    assert head.content == b""


async def test_returning_a_non_response_is_a_500() -> None:
    class Bad(MiddlewareBase):
        async def middleware(self, req: Request) -> Response[Any]:
            return {"not": "a response"}  # type: ignore[return-value]

    async with TestClient(make(Bad)) as client:
        res = await client.get("/mw/plain")
    assert res.status_code == 500
    assert res.json()["status"] == "error"


async def test_listed_in_config_as_import_strings() -> None:
    module = types.ModuleType("mw_strings_mod")
    module.Timing = Timing  # type: ignore[attr-defined]
    module.Asgi = Asgi  # type: ignore[attr-defined]
    sys.modules["mw_strings_mod"] = module
    try:
        app = make(MIDDLEWARE=["mw_strings_mod:Asgi", "mw_strings_mod:Timing"])
        async with TestClient(app) as client:
            res = await client.get("/mw/plain")
    finally:
        del sys.modules["mw_strings_mod"]
    assert res.headers["x-time"] == "1"
    assert res.headers["x-asgi"] == "asgi"


def test_apps_without_middleware_base_keep_the_kernel_dispatch() -> None:
    plain = make(Asgi)
    plain._freeze()
    assert "_dispatch" not in vars(plain)
    with_base = make(Timing)
    with_base._freeze()
    assert isinstance(vars(with_base)["_dispatch"], _ChainDispatch)
