"""Health endpoints: /livez always answers, /readyz runs the readiness checks."""

from __future__ import annotations

import anyio
import pytest

from ferrule.core import App, ImproperlyConfiguredError
from ferrule.core.testing import TestClient


async def test_livez_and_readyz_without_checks() -> None:
    async with TestClient(App()) as client:
        live = await client.get("/livez")
        ready = await client.get("/readyz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "checks": {}})


async def test_readyz_reports_each_check_and_503_when_one_fails() -> None:
    app = App({"READINESS_TIMEOUT": 0.2})

    async def database() -> None:
        raise ConnectionError("refused")

    async def cache() -> bool:
        return True

    async def queue() -> bool:
        return False

    async def hung() -> None:
        await anyio.sleep(30)

    for name, fn in [("database", database), ("cache", cache), ("queue", queue), ("hung", hung)]:
        app.add_readiness_check(name, fn)
    async with TestClient(app) as client:
        res = await client.get("/readyz")
    assert res.status_code == 503
    assert res.headers["retry-after"] == "5"
    assert res.json() == {
        "status": "unavailable",
        "checks": {
            "database": "error: ConnectionError",
            "cache": "ok",
            "queue": "not ready",
            "hung": "timeout after 0.2s",
        },
    }


async def test_health_endpoints_can_be_disabled_or_moved() -> None:
    off = App({"HEALTH_ENDPOINTS": False})
    moved = App({"LIVEZ_URL": "/_live", "READYZ_URL": "/_ready"})
    async with TestClient(off) as client:
        assert (await client.get("/livez")).status_code == 404
    async with TestClient(moved) as client:
        assert (await client.get("/_live")).status_code == 200
        assert (await client.get("/_ready")).status_code == 200


def test_duplicate_check_name_is_an_error() -> None:
    app = App()

    async def check() -> None:
        return None

    app.add_readiness_check("db", check)
    with pytest.raises(ImproperlyConfiguredError, match="'db'"):
        app.add_readiness_check("db", check)
