"""HTTPS_REDIRECT and the trusted-proxy helper it shares with rate limiting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ferrule.core import App, Controller, ImproperlyConfiguredError, Request, get, path
from ferrule.core.proxies import TrustedProxies
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from ferrule.core.types import Message


@path("")
class SchemeApi(Controller):
    @get("/where")
    async def where(self, req: Request) -> dict[str, str]:
        return {"scheme": req.url_scheme}

    @get("/livez-ish")
    async def probe(self) -> dict[str, bool]:
        return {"ok": True}


def make(**config: Any) -> App:
    settings: dict[str, Any] = {"ALLOWED_HOSTS": ["example.com"], "HTTPS_REDIRECT": True}
    settings.update(config)
    return App(settings, controllers=[SchemeApi])


async def test_http_is_redirected_with_308_keeping_path_and_query() -> None:
    async with TestClient(make()) as client:
        res = await client.get("/where?x=1&y=%20")
        post = await client.post("/where")
    assert res.status_code == 308
    assert res.headers["location"] == "https://example.com/where?x=1&y=%20"
    assert res.content == b""
    assert res.headers["x-request-id"]
    assert post.status_code == 308  # 308 keeps the method and body


async def test_port_is_dropped_from_the_location() -> None:
    async with TestClient(make(), base_url="http://example.com:8080") as client:
        res = await client.get("/where")
    assert res.headers["location"] == "https://example.com/where"


async def test_https_is_served_with_hsts() -> None:
    async with TestClient(make(), base_url="https://example.com") as client:
        res = await client.get("/where")
    assert res.status_code == 200
    assert res.json() == {"scheme": "https"}
    assert res.headers["strict-transport-security"] == "max-age=31536000"


async def test_forged_forwarded_proto_from_an_untrusted_peer_is_ignored() -> None:
    app = make(TRUSTED_PROXIES=["10.0.0.1"])
    async with TestClient(app, client=("203.0.113.9", 4000)) as client:
        res = await client.get("/where", headers={"x-forwarded-proto": "https"})
    assert res.status_code == 308


async def test_forwarded_proto_from_a_trusted_proxy_is_believed() -> None:
    app = make(TRUSTED_PROXIES=["10.0.0.0/8"])
    async with TestClient(app, client=("10.1.2.3", 4000)) as client:
        https = await client.get("/where", headers={"x-forwarded-proto": "https"})
        http = await client.get("/where", headers={"x-forwarded-proto": "http"})
        chained = await client.get("/where", headers={"x-forwarded-proto": "https, http"})
    assert https.status_code == 200
    assert https.json() == {"scheme": "https"}  # the app sees the real scheme
    assert https.headers["strict-transport-security"] == "max-age=31536000"
    assert http.status_code == 308
    assert chained.status_code == 308  # the nearest proxy's value counts


async def test_host_header_is_validated_before_it_goes_into_location() -> None:
    async with TestClient(make()) as client:
        res = await client.get("/where", headers={"host": "evil.example"})
    assert res.status_code == 400
    assert res.json()["status"] == "error"
    assert "location" not in res.headers


async def test_exempt_paths_are_served_over_http() -> None:
    async with TestClient(make(HTTPS_REDIRECT_EXEMPT=["/livez"])) as client:
        res = await client.get("/livez-ish")
        other = await client.get("/where")
    assert res.status_code == 200
    assert other.status_code == 308


async def test_off_by_default() -> None:
    app = App({"ALLOWED_HOSTS": ["example.com"]}, controllers=[SchemeApi])
    async with TestClient(app) as client:
        res = await client.get("/where")
    assert res.status_code == 200
    assert res.json() == {"scheme": "http"}


async def test_plain_websocket_handshake_is_refused() -> None:
    app = make()
    app._freeze()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "headers": [(b"host", b"example.com")],
        "client": ("1.2.3.4", 1),
    }
    await app(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "https required"}]


async def test_path_with_double_slash_stays_on_our_host() -> None:
    app = make()
    app._freeze()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "//evil.example/x",
        "raw_path": b"//evil.example/x",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": ("1.2.3.4", 1),
    }
    await app(scope, receive, send)
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 308
    assert headers[b"location"] == b"https://example.com//evil.example/x"


def test_trusted_proxies_helper() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "::1"])
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "client": ("10.0.0.5", 1),
        "headers": [(b"x-forwarded-for", b"198.51.100.7, 10.0.0.9")],
    }
    assert proxies.is_trusted("10.2.3.4")
    assert proxies.is_trusted("::1")
    assert not proxies.is_trusted("11.0.0.1")
    assert not proxies.is_trusted("not-an-ip")
    assert not proxies.is_trusted(None)
    # Right to left, skipping trusted hops: a client-supplied left part is ignored.
    assert proxies.client_host(scope) == "198.51.100.7"
    spoofed = {**scope, "headers": [(b"x-forwarded-for", b"1.1.1.1, 198.51.100.7")]}
    assert proxies.client_host(spoofed) == "198.51.100.7"
    untrusted = {**scope, "client": ("203.0.113.1", 1)}
    assert proxies.client_host(untrusted) == "203.0.113.1"
    assert not TrustedProxies([])
    assert TrustedProxies([]).client_host(scope) == "10.0.0.5"


def test_bad_trusted_proxy_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"TRUSTED_PROXIES entry 'ten\.0\.0\.1'"):
        make(TRUSTED_PROXIES=["ten.0.0.1"])._freeze()
