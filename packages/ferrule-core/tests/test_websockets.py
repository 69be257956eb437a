"""WebSockets: @socket routing, DI, guards, Origin and Host checks, backpressure, errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator  # noqa: TC003 - handler annotations are resolved
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    Cookie,
    Depends,
    Header,
    HTTPException,
    ImproperlyConfiguredError,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    get,
    guard,
    path,
    socket,
)
from ferrule.core.testing import TestClient

events: list[Any] = []


class Greeting(BaseModel):
    text: str


class Clock:
    """An app service injected by type."""

    def now(self) -> int:
        return 42


async def session_user(
    req: Request, session: Annotated[str | None, Cookie()] = None
) -> AsyncIterator[str]:
    events.append(("provider-start", type(req).__name__))
    yield session or "anonymous"
    events.append("provider-teardown")


async def require_token(req: Request) -> None:
    if req.headers.get("x-token") != "secret":
        raise HTTPException(401, "Token required")


def refuse_with_response(req: Request) -> Response[Any] | None:
    if req.query_params.get("deny"):
        return Response({"no": True}, status_code=403)
    return None


@path("/ws")
class EchoApi(Controller):
    @socket("/echo")
    async def echo(self, ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(f"echo: {text}")

    @socket("/json")
    async def json(self, ws: WebSocket) -> None:
        await ws.accept()
        async for data in ws.iter_json():
            await ws.send_json({"got": data, "model": Greeting(text="hi")})

    @socket("/bytes")
    async def raw(self, ws: WebSocket) -> None:
        await ws.accept()
        data = await ws.receive_bytes()
        await ws.send_bytes(data[::-1])
        await ws.close(4000, "done")

    @socket("/rooms/<int:room>")
    async def room(
        self,
        ws: WebSocket,
        room: int,
        clock: Clock,
        name: Annotated[str, Query()] = "guest",
        agent: Annotated[str | None, Header(alias="x-agent")] = None,
        user: str = Depends(session_user),
    ) -> None:
        await ws.accept()
        await ws.send_json(
            {"room": room, "name": name, "agent": agent, "user": user, "now": clock.now()}
        )
        await ws.receive_text()

    @socket("/proto")
    async def proto(self, ws: WebSocket) -> None:
        await ws.accept(subprotocol="chat.v2", headers={"X-Extra": "1"})
        await ws.send_text(",".join(ws.subprotocols))

    @socket("/no-accept")
    async def no_accept(self, ws: WebSocket) -> None:
        events.append("no-accept ran")

    @socket("/returns")
    async def returns(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")

    @socket("/boom")
    async def boom(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise RuntimeError("handler exploded")

    @socket("/boom-early")
    async def boom_early(self, ws: WebSocket) -> None:
        raise RuntimeError("exploded before accept")

    @socket("/needs-query")
    async def needs_query(self, ws: WebSocket, limit: Annotated[int, Query()]) -> None:
        await ws.accept()

    @socket("/disconnect")
    async def disconnect(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        except WebSocketDisconnect as exc:
            events.append(("disconnect", exc.code))
            raise

    @socket("/sender")
    async def sender(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            for i in range(10_000):
                await ws.send_text(str(i))
                await anyio.lowlevel.checkpoint()
        except WebSocketDisconnect as exc:
            events.append(("sender stopped", exc.code))
            raise

    @socket("/strict")
    async def strict(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_json()
        except WebSocketDisconnect as exc:
            events.append(("strict", exc.code))

    @socket("/text-only")
    async def text_only(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()

    @get("/http")
    async def http(self) -> dict[str, str]:
        return {"kind": "http"}


@path("/guarded")
@guard(require_token)
class GuardedApi(Controller):
    @socket("/ws")
    @guard(refuse_with_response)
    async def chat(self, ws: WebSocket) -> None:
        events.append("guarded handler ran")
        await ws.accept()
        await ws.send_text("welcome")


def make_app(**config: Any) -> App:
    app = App(config, controllers=[EchoApi, GuardedApi])
    app.services.register(Clock())
    return app


@pytest.fixture(autouse=True)
def _reset_events() -> None:
    events.clear()


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async with TestClient(make_app()) as c:
        yield c


# -- messages ------------------------------------------------------------------------


async def test_echo_text(client: TestClient) -> None:
    async with client.websocket_connect("/ws/echo") as ws:
        await ws.send_text("hello")
        assert await ws.receive_text() == "echo: hello"
        await ws.send_text("again")
        assert await ws.receive_text() == "echo: again"


async def test_json_messages_and_models(client: TestClient) -> None:
    async with client.websocket_connect("/ws/json") as ws:
        await ws.send_json({"a": [1, 2]})
        assert await ws.receive_json() == {"got": {"a": [1, 2]}, "model": {"text": "hi"}}


async def test_bytes_and_close_code(client: TestClient) -> None:
    async with client.websocket_connect("/ws/bytes") as ws:
        await ws.send_bytes(b"abc")
        assert await ws.receive_bytes() == b"cba"
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "done")


async def test_injection_path_query_header_cookie_depends_service(client: TestClient) -> None:
    client.cookies.set("session", "ada")
    async with client.websocket_connect(
        "/ws/rooms/7?name=Ada", headers={"X-Agent": "pytest"}
    ) as ws:
        assert await ws.receive_json() == {
            "room": 7,
            "name": "Ada",
            "agent": "pytest",
            "user": "ada",
            "now": 42,
        }
        await ws.send_text("done")
    # The provider received the WebSocket as its Request; teardown ran after the handler.
    assert events == [("provider-start", "WebSocket"), "provider-teardown"]


async def test_invalid_path_param_is_not_found(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/ws/rooms/seven"):
            pass
    assert info.value.code == 4404


async def test_missing_query_param_refuses_handshake(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/ws/needs-query"):
            pass
    assert info.value.code == 1008
    assert info.value.reason == "Validation failed"


async def test_subprotocol_and_accept_headers(client: TestClient) -> None:
    async with client.websocket_connect("/ws/proto", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.headers["x-extra"] == "1"
        assert ws.headers["x-request-id"]
        assert await ws.receive_text() == "chat.v1,chat.v2"


async def test_handler_returning_closes_normally(client: TestClient) -> None:
    async with client.websocket_connect("/ws/returns") as ws:
        assert await ws.receive_text() == "bye"
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive_text()
    assert info.value.code == 1000


async def test_handler_that_never_accepts_refuses(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/ws/no-accept"):
            pass
    assert info.value.code == 1000
    assert events == ["no-accept ran"]


async def test_client_disconnect_reaches_handler(client: TestClient) -> None:
    async with client.websocket_connect("/ws/disconnect") as ws:
        await ws.close(1001)
    assert events == [("disconnect", 1001)]


async def test_sending_to_a_gone_client_stops_the_handler(client: TestClient) -> None:
    async with client.websocket_connect("/ws/sender") as ws:
        assert await ws.receive_text() == "0"
        await ws.close()
    assert events == [("sender stopped", 1006)]


async def test_malformed_json_closes_1007(client: TestClient) -> None:
    async with client.websocket_connect("/ws/strict") as ws:
        await ws.send_text("{not json")
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive_text()
    assert info.value.code == 1007
    assert events == [("strict", 1007)]


async def test_binary_frame_to_receive_text_closes_1003(client: TestClient) -> None:
    async with client.websocket_connect("/ws/text-only") as ws:
        await ws.send_bytes(b"\x00")
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive_text()
    assert info.value.code == 1003


# -- errors ----------------------------------------------------------------------------


async def test_handler_exception_closes_1011_and_logs_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ferrule.core.websockets")
    async with client.websocket_connect("/ws/boom", headers={"X-Request-ID": "ws-rid-1"}) as ws:
        await ws.send_text("go")
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive_text()
    assert info.value.code == 1011
    assert info.value.reason == "Internal server error"  # no exception text leaks
    [record] = [r for r in caplog.records if r.name == "ferrule.core.websockets"]
    assert "EchoApi.boom" in record.getMessage()
    assert "ws-rid-1" in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "handler exploded"


async def test_exception_before_accept_closes_1011(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/ws/boom-early"):
            pass
    assert info.value.code == 1011


async def test_unknown_path_closes_4404(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/nowhere"):
            pass
    assert info.value.code == 4404


async def test_http_routing_is_unchanged(client: TestClient) -> None:
    assert (await client.get("/ws/http")).json() == {"kind": "http"}
    # A socket rule is not an HTTP route.
    assert (await client.get("/ws/echo")).status_code == 404


# -- guards ------------------------------------------------------------------------------


async def test_guard_rejects_before_accept(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/guarded/ws"):
            pass
    assert info.value.code == 1008
    assert info.value.reason == "Token required"
    assert events == []  # the handler never ran


async def test_guard_returning_response_rejects(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/guarded/ws?deny=1", headers={"X-Token": "secret"}):
            pass
    assert info.value.code == 1008
    assert events == []


async def test_guards_pass(client: TestClient) -> None:
    async with client.websocket_connect("/guarded/ws", headers={"X-Token": "secret"}) as ws:
        assert await ws.receive_text() == "welcome"
    assert events == ["guarded handler ran"]


# -- Origin and Host (cross-site WebSocket hijacking) -----------------------------------


async def test_cross_site_origin_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect(
            "/guarded/ws", headers={"Origin": "https://evil.example", "X-Token": "secret"}
        ):
            pass
    assert info.value.code == 1008
    assert events == []  # refused before guards and handler


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://localhost.evil.example",
        "http://localhost:8080",  # another port is another origin
        "https://evil.example/http://localhost",
        "file://localhost",
    ],
)
async def test_other_origins_are_refused(client: TestClient, origin: str) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/ws/echo", headers={"Origin": origin}):
            pass
    assert info.value.code == 1008


async def test_same_origin_and_no_origin_are_allowed(client: TestClient) -> None:
    for headers in ({"Origin": "http://localhost"}, {"Origin": "HTTPS://LOCALHOST"}, {}):
        async with client.websocket_connect("/ws/echo", headers=headers) as ws:
            await ws.send_text("x")
            assert await ws.receive_text() == "echo: x"


async def _https_origin_only(client: TestClient, headers: dict[str, str]) -> None:
    """The https page of the host may open the socket, its plain-http page may not."""
    async with client.websocket_connect(
        "/ws/echo", headers={**headers, "Origin": "https://localhost"}
    ) as ws:
        await ws.send_text("x")
        assert await ws.receive_text() == "echo: x"
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect(
            "/ws/echo", headers={**headers, "Origin": "http://localhost"}
        ):
            pass
    assert info.value.code == 1008


async def test_secure_socket_refuses_its_own_host_over_plain_http() -> None:
    # A wss endpoint must not trust a page of the same host served over http: anyone
    # on the network path can inject such a page and open the socket with the
    # user's cookies. An https page of the same host is same-origin.
    async with TestClient(make_app(), base_url="https://localhost") as client:
        await _https_origin_only(client, {})


async def test_behind_a_trusted_tls_proxy_a_plain_http_origin_is_refused() -> None:
    # The realistic deployment: TLS ends at a proxy that says so in X-Forwarded-Proto.
    app = make_app(TRUSTED_PROXIES=["127.0.0.1"])  # the test client connects from 127.0.0.1
    async with TestClient(app) as client:
        await _https_origin_only(client, {"X-Forwarded-Proto": "https"})


async def test_listed_origins_are_allowed() -> None:
    app = make_app(WEBSOCKET_ALLOWED_ORIGINS=["https://app.example.com"])
    async with TestClient(app) as client:
        async with client.websocket_connect(
            "/ws/echo", headers={"Origin": "https://app.example.com"}
        ) as ws:
            await ws.send_text("x")
            assert await ws.receive_text() == "echo: x"
        with pytest.raises(WebSocketDisconnect) as info:
            async with client.websocket_connect(
                "/ws/echo", headers={"Origin": "http://app.example.com"}
            ):
                pass
        assert info.value.code == 1008


async def test_wildcard_origin_allows_any_site() -> None:
    app = make_app(WEBSOCKET_ALLOWED_ORIGINS=["*"])
    async with (
        TestClient(app) as client,
        client.websocket_connect("/ws/echo", headers={"Origin": "https://elsewhere.example"}) as ws,
    ):
        await ws.send_text("x")
        assert await ws.receive_text() == "echo: x"


def test_invalid_allowed_origin_is_a_startup_error() -> None:
    app = make_app(WEBSOCKET_ALLOWED_ORIGINS=["app.example.com"])
    with pytest.raises(ImproperlyConfiguredError, match="WEBSOCKET_ALLOWED_ORIGINS"):
        _ = app.routes


async def test_disallowed_host_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/ws/echo", headers={"Host": "evil.example"}):
            pass
    assert info.value.code == 1008


async def test_refusal_uses_http_response_extension_when_configured() -> None:
    app = make_app(WEBSOCKET_DENIAL_RESPONSE=True)
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws/echo",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"origin", b"https://evil.example")],
        "extensions": {"websocket.http.response": {}},
    }
    await app(scope, receive, send)
    start, body = sent
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 403
    assert (b"content-type", b"application/json") in start["headers"]
    assert body["type"] == "websocket.http.response.body"
    assert b"'https://evil.example' is not allowed" in body["body"]


async def test_denial_response_is_off_by_default() -> None:
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/nowhere",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "extensions": {"websocket.http.response": {}},
    }
    await make_app()(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 4404, "reason": "Not found: /nowhere"}]


# -- backpressure --------------------------------------------------------------------


async def test_slow_client_is_disconnected_with_bounded_memory() -> None:
    """A client that never reads: sends block, the queue stays bounded, then 1008."""
    seen: dict[str, Any] = {"queued": [], "sent": 0}

    @path("/flood")
    class FloodApi(Controller):
        @socket("/")
        async def flood(self, ws: WebSocket) -> None:
            await ws.accept()
            try:
                while True:
                    await ws.send_text("x" * 1000)
                    seen["sent"] += 1
                    seen["queued"].append(ws.queued)
            except WebSocketDisconnect as exc:
                seen["code"] = exc.code

    app = App({"WEBSOCKET_SEND_QUEUE": 8, "WEBSOCKET_SEND_TIMEOUT": 0.05}, controllers=[FloodApi])
    never = anyio.Event()
    closes: list[int] = []
    delivered = 0
    inbox = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        await never.wait()
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        nonlocal delivered
        if message["type"] == "websocket.send":
            delivered += 1
            if delivered > 1:
                await never.wait()  # the transport is full: the client does not read
        elif message["type"] == "websocket.close":
            closes.append(message["code"])

    scope = {
        "type": "websocket",
        "path": "/flood/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    with anyio.fail_after(5):
        await app(scope, receive, send)
    # One message written, one stuck in the transport, 8 queued: then the send timed out.
    assert seen["sent"] == 1 + 1 + 8
    assert max(seen["queued"]) == 8
    assert seen["code"] == 1008
    assert closes == [1008]


# -- startup errors --------------------------------------------------------------------


def test_sync_socket_handler_is_a_startup_error() -> None:
    class SyncApi(Controller):
        @socket("/ws")
        def chat(self, ws: WebSocket) -> None: ...

    with pytest.raises(ImproperlyConfiguredError, match="must be 'async def'"):
        _ = App(controllers=[SyncApi]).routes


def test_body_parameter_on_socket_is_a_startup_error() -> None:
    class BodyApi(Controller):
        @socket("/ws")
        async def chat(self, ws: WebSocket, payload: Greeting) -> None: ...

    with pytest.raises(ImproperlyConfiguredError, match="body parameter"):
        _ = App(controllers=[BodyApi]).routes


def test_websocket_parameter_on_http_route_is_a_startup_error() -> None:
    class WrongApi(Controller):
        @get("/ws")
        async def chat(self, ws: WebSocket) -> None: ...

    with pytest.raises(ImproperlyConfiguredError, match="@socket"):
        _ = App(controllers=[WrongApi]).routes


def test_socket_rule_must_start_with_slash() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        socket("ws")
