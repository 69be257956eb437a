"""TRUSTED_PROXIES alone (no HTTPS_REDIRECT): scheme and client from a trusted proxy."""

from __future__ import annotations

from typing import Any

from ferrule.core import App, Controller, Request, get, path
from ferrule.core.testing import TestClient


@path("/p")
class WhoApi(Controller):
    @get("/who")
    async def who(self, req: Request) -> dict[str, Any]:
        req.response.set_cookie("pref", "1")
        return {"scheme": req.url_scheme, "client": req.client[0] if req.client else None}


def app_with(**config: Any) -> App:
    return App({"SECRET_KEY": "s" * 40, **config}, controllers=[WhoApi])


async def test_trusted_proxy_sets_scheme_client_hsts_and_secure_cookies() -> None:
    app = app_with(TRUSTED_PROXIES=["127.0.0.1"])
    async with TestClient(app) as client:
        res = await client.get(
            "/p/who", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        )
    assert res.json() == {"scheme": "https", "client": "203.0.113.9"}
    assert res.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in res.headers["set-cookie"]


async def test_untrusted_peer_cannot_claim_https_or_another_ip() -> None:
    app = app_with(TRUSTED_PROXIES=["10.0.0.1"])  # the test client is 127.0.0.1
    async with TestClient(app) as client:
        res = await client.get(
            "/p/who", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        )
    assert res.json() == {"scheme": "http", "client": "127.0.0.1"}
    assert "strict-transport-security" not in res.headers
    assert "Secure" not in res.headers["set-cookie"]


async def test_no_trusted_proxies_means_headers_are_ignored() -> None:
    async with TestClient(app_with()) as client:
        res = await client.get("/p/who", headers={"X-Forwarded-Proto": "https"})
    assert res.json()["scheme"] == "http"
