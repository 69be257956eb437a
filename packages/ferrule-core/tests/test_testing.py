"""The TestClient: lifespan, host, and raising server exceptions on request."""

from __future__ import annotations

import pytest

from ferrule.core import App, Controller, get, path
from ferrule.core.testing import TestClient


@path("/t")
class BoomApi(Controller):
    @get("/boom")
    async def boom(self) -> None:
        raise ValueError("kaboom")

    @get("/missing")
    async def missing(self) -> None:
        from ferrule.core import abort

        abort("nope", status_code=404)


async def test_server_exceptions_are_answered_500_by_default() -> None:
    async with TestClient(App(controllers=[BoomApi])) as client:
        res = await client.get("/t/boom")
    assert res.status_code == 500
    assert res.json()["message"] == "Internal server error"


async def test_raise_server_exceptions_reraises_unhandled_only() -> None:
    app = App(controllers=[BoomApi])
    async with TestClient(app, raise_server_exceptions=True) as client:
        with pytest.raises(ValueError, match="kaboom"):
            await client.get("/t/boom")
        # HTTP errors are answers, not server exceptions.
        assert (await client.get("/t/missing")).status_code == 404
    assert app.propagate_exceptions is False  # restored on exit


async def test_base_url_uses_first_allowed_host() -> None:
    app = App({"ALLOWED_HOSTS": ["api.example.com", "*"]})
    async with TestClient(app) as client:
        res = await client.get("/livez")
    assert client.base_url == "http://api.example.com"
    assert res.status_code == 200
