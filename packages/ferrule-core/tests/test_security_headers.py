"""Security headers: on by default, configurable, never overriding the handler's."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from ferrule.core import (
    App,
    Controller,
    ImproperlyConfiguredError,
    Request,
    Response,
    StreamingResponse,
    get,
    path,
)
from ferrule.core.testing import TestClient


class Item(BaseModel):
    id: int


@path("/s")
class SecApi(Controller):
    @get("/json")
    async def json(self) -> dict[str, int]:
        return {"a": 1}

    @get("/text")
    async def text(self) -> str:
        return "t"

    @get("/model")
    async def model(self) -> Item:
        return Item(id=1)

    @get("/own")
    async def own(self, req: Request) -> Response[Any]:
        return (
            req.response.json({"a": 1})
            .set_header("X-Frame-Options", "SAMEORIGIN")
            .set_header("Content-Security-Policy", "default-src 'none'")
        )

    @get("/stream")
    async def stream(self) -> StreamingResponse:
        async def body() -> Any:
            yield b"x"

        return StreamingResponse(body(), media_type="text/plain")


DEFAULTS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("url", ["/s/json", "/s/text", "/s/model", "/s/stream", "/s/missing"])
async def test_default_headers_on_every_kind_of_response(url: str) -> None:
    async with TestClient(App(controllers=[SecApi])) as client:
        res = await client.get(url)
    for name, value in DEFAULTS.items():
        assert res.headers[name] == value, (url, name)
    assert "strict-transport-security" not in res.headers  # plain http
    assert "content-security-policy" not in res.headers


async def test_hsts_only_under_https() -> None:
    app = App({"ALLOWED_HOSTS": ["example.com"]}, controllers=[SecApi])
    async with TestClient(app, base_url="https://example.com") as client:
        fast = await client.get("/s/json")
        slow = await client.get("/s/own")
        missing = await client.get("/s/missing")
    for res in (fast, slow, missing):
        assert res.headers["strict-transport-security"] == "max-age=31536000"


async def test_hsts_options_and_csp() -> None:
    app = App(
        {
            "ALLOWED_HOSTS": ["example.com"],
            "HSTS_SECONDS": 600,
            "HSTS_INCLUDE_SUBDOMAINS": True,
            "HSTS_PRELOAD": True,
            "CONTENT_SECURITY_POLICY": "default-src 'self'",
            "X_FRAME_OPTIONS": "SAMEORIGIN",
            "REFERRER_POLICY": "no-referrer",
        },
        controllers=[SecApi],
    )
    async with TestClient(app, base_url="https://example.com") as client:
        res = await client.get("/s/json")
    assert res.headers["strict-transport-security"] == "max-age=600; includeSubDomains; preload"
    assert res.headers["content-security-policy"] == "default-src 'self'"
    assert res.headers["x-frame-options"] == "SAMEORIGIN"
    assert res.headers["referrer-policy"] == "no-referrer"


async def test_handler_headers_are_never_overridden() -> None:
    app = App({"CONTENT_SECURITY_POLICY": "default-src 'self'"}, controllers=[SecApi])
    async with TestClient(app) as client:
        res = await client.get("/s/own")
    assert res.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert res.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert res.headers["x-content-type-options"] == "nosniff"


async def test_disabled_and_individually_off() -> None:
    off = App({"SECURITY_HEADERS_ENABLED": False}, controllers=[SecApi])
    partial = App({"X_FRAME_OPTIONS": None, "REFERRER_POLICY": None}, controllers=[SecApi])
    async with TestClient(off) as client:
        res = await client.get("/s/json")
    for name in (*DEFAULTS, "strict-transport-security"):
        assert name not in res.headers
    async with TestClient(partial) as client:
        res = await client.get("/s/json")
    assert res.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in res.headers
    assert "referrer-policy" not in res.headers


async def test_hsts_zero_disables_it() -> None:
    app = App({"ALLOWED_HOSTS": ["example.com"], "HSTS_SECONDS": 0}, controllers=[SecApi])
    async with TestClient(app, base_url="https://example.com") as client:
        res = await client.get("/s/json")
    assert "strict-transport-security" not in res.headers
    assert res.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"CONTENT_SECURITY_POLICY": "default-src 'self'\r\nSet-Cookie: a=b"}, "line breaks"),
        ({"X_FRAME_OPTIONS": "DENY\n"}, "X_FRAME_OPTIONS"),
        ({"REFERRER_POLICY": "naïve"}, "REFERRER_POLICY"),
        ({"HSTS_SECONDS": 0, "HSTS_PRELOAD": True}, "HSTS_SECONDS"),
    ],
)
def test_bad_values_are_startup_errors(config: dict[str, Any], needle: str) -> None:
    app = App(config, controllers=[SecApi])
    with pytest.raises(ImproperlyConfiguredError, match=needle):
        app._freeze()


async def test_error_responses_from_the_host_check_carry_them() -> None:
    async with TestClient(App(controllers=[SecApi])) as client:
        res = await client.get("/s/json", headers={"host": "evil.example"})
    assert res.status_code == 400
    assert res.headers["x-content-type-options"] == "nosniff"
