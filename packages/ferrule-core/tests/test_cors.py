"""CORS: global policy, per-route overrides, preflight, and secure defaults."""

from __future__ import annotations

from typing import Any

import pytest

from ferrule.core import App, Controller, ImproperlyConfiguredError, cors, get, no_cors, path, post
from ferrule.core.testing import TestClient

GOOD = "https://good.example"
EVIL = "https://evil.example"


@path("/api")
class CorsApi(Controller):
    @get("/items")
    async def list_items(self) -> dict[str, int]:
        return {"n": 1}

    @post("/items")
    async def create_item(self) -> dict[str, int]:
        return {"n": 2}

    @get("/public")
    @cors(allow_origins=["*"])
    async def public(self) -> str:
        return "public"

    @get("/private")
    @no_cors
    async def private(self) -> str:
        return "private"

    @get("/boom")
    async def boom(self) -> None:
        raise RuntimeError("boom")


def make_app(**config: Any) -> App:
    base: dict[str, Any] = {
        "CORS_ENABLED": True,
        "CORS_ALLOW_ORIGINS": [GOOD],
        "CORS_EXPOSE_HEADERS": ["X-Total"],
    }
    base.update(config)
    return App(base, controllers=[CorsApi])


def cors_headers(res: Any) -> dict[str, str]:
    return {k: v for k, v in res.headers.items() if k.startswith("access-control") or k == "vary"}


async def test_allowed_origin_gets_headers_and_vary() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/api/items", headers={"Origin": GOOD})
    assert res.status_code == 200
    assert res.headers["access-control-allow-origin"] == GOOD
    assert res.headers["access-control-expose-headers"] == "X-Total"
    assert res.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in res.headers


async def test_disallowed_origin_gets_no_cors_headers() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/api/items", headers={"Origin": EVIL})
    assert res.status_code == 200
    assert cors_headers(res) == {}


async def test_no_origin_header_no_cors_headers() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/api/items")
    assert cors_headers(res) == {}


async def test_preflight_allowed() -> None:
    async with TestClient(make_app(CORS_MAX_AGE=120)) as client:
        res = await client.options(
            "/api/items",
            headers={
                "Origin": GOOD,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Content-Type",
            },
        )
    assert res.status_code == 204
    assert res.content == b""
    assert res.headers["access-control-allow-origin"] == GOOD
    assert "POST" in res.headers["access-control-allow-methods"].split(", ")
    assert res.headers["access-control-allow-headers"] == "Authorization, Content-Type"
    assert res.headers["access-control-max-age"] == "120"
    assert res.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    ("origin", "method", "req_headers"),
    [
        (EVIL, "POST", ""),  # origin not allowed
        (GOOD, "DELETE", ""),  # method not routed for the path
        (GOOD, "POST", "X-Secret"),  # header not allowed
    ],
)
async def test_preflight_refused_is_403_without_allow_origin(
    origin: str, method: str, req_headers: str
) -> None:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if req_headers:
        headers["Access-Control-Request-Headers"] = req_headers
    async with TestClient(make_app()) as client:
        res = await client.options("/api/items", headers=headers)
    assert res.status_code == 403
    assert res.json()["status"] == "error"
    assert "access-control-allow-origin" not in res.headers
    assert res.headers["vary"] == "Origin"


async def test_plain_options_without_preflight_headers_is_allow_listing() -> None:
    async with TestClient(make_app()) as client:
        res = await client.options("/api/items", headers={"Origin": GOOD})
    assert res.status_code == 204
    assert set(res.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


async def test_route_override_and_no_cors() -> None:
    async with TestClient(make_app()) as client:
        public = await client.get("/api/public", headers={"Origin": EVIL})
        private = await client.get("/api/private", headers={"Origin": GOOD})
    assert public.headers["access-control-allow-origin"] == "*"
    assert "vary" not in public.headers
    assert cors_headers(private) == {}


async def test_errors_carry_cors_headers() -> None:
    async with TestClient(make_app()) as client:
        missing = await client.get("/api/nope", headers={"Origin": GOOD})
        boom = await client.get("/api/boom", headers={"Origin": GOOD})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == GOOD
    assert boom.status_code == 500
    assert boom.headers["access-control-allow-origin"] == GOOD


async def test_cors_off_by_default() -> None:
    app = App(controllers=[CorsApi])
    async with TestClient(app) as client:
        res = await client.get("/api/items", headers={"Origin": GOOD})
        pre = await client.options(
            "/api/items", headers={"Origin": GOOD, "Access-Control-Request-Method": "POST"}
        )
    assert cors_headers(res) == {}
    # Without a policy a preflight is an ordinary OPTIONS: no CORS grant.
    assert "access-control-allow-origin" not in pre.headers


@path("/cred")
class CredApi(Controller):
    @get("/")
    async def me(self) -> dict[str, str]:
        return {"me": "x"}


async def test_credentials_echo_origin() -> None:
    app = App(
        {"CORS_ENABLED": True, "CORS_ALLOW_ORIGINS": [GOOD], "CORS_ALLOW_CREDENTIALS": True},
        controllers=[CredApi],
    )
    async with TestClient(app) as client:
        res = await client.get("/cred", headers={"Origin": GOOD})
    assert res.headers["access-control-allow-origin"] == GOOD
    assert res.headers["access-control-allow-credentials"] == "true"


def test_wildcard_with_credentials_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="CORS_ALLOW_CREDENTIALS"):
        make_app(CORS_ALLOW_ORIGINS=["*"], CORS_ALLOW_CREDENTIALS=True)


def test_route_wildcard_with_global_credentials_is_a_startup_error() -> None:
    @path("/x")
    class Bad(Controller):
        @get("/")
        @cors(allow_origins=["*"])
        async def x(self) -> str:
            return "x"

    app = App(
        {"CORS_ENABLED": True, "CORS_ALLOW_ORIGINS": [GOOD], "CORS_ALLOW_CREDENTIALS": True},
        controllers=[Bad],
    )
    with pytest.raises(ImproperlyConfiguredError, match="@cors"):
        _ = app.routes
