"""Rate limiting: windows, headers, keys, per-route limits and trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest

from ferrule.core import (
    App,
    Controller,
    ImproperlyConfiguredError,
    MemoryStore,
    RateLimit,
    Request,
    get,
    guard,
    path,
    rate_limit,
)
from ferrule.core.ratelimit import parse_rate
from ferrule.core.testing import TestClient


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_040.0  # 20 s into a minute window

    def __call__(self) -> float:
        return self.now


CLOCK = Clock()


@pytest.fixture(autouse=True)
def _reset_clock() -> None:
    CLOCK.now = 1_000_040.0


async def set_user(req: Request) -> None:
    user = req.headers.get("x-user")
    if user:
        req.state.user = user


@path("")
class LimitedApi(Controller):
    @get("/open")
    async def open(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/login")
    @rate_limit("2/minute", clock=CLOCK)
    async def login(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/stacked")
    @rate_limit("3/second", clock=CLOCK)
    @rate_limit("5/minute", clock=CLOCK)
    async def stacked(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/me")
    @guard(set_user)
    @rate_limit("1/minute", key="user", clock=CLOCK)
    async def me(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/api")
    @rate_limit("1/minute", key="header:X-API-Key", clock=CLOCK)
    async def api(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/custom")
    @rate_limit("1/minute", key=lambda req: req.query_params.get("tenant"), clock=CLOCK)
    async def custom(self) -> dict[str, str]:
        return {"status": "ok"}


def make_app(*, middleware: list[Any] | None = None, **config: Any) -> App:
    return App(config, controllers=[LimitedApi], middleware=middleware or [])


def test_parse_rate() -> None:
    assert (parse_rate("100/minute").limit, parse_rate("100/minute").period) == (100, 60)
    assert parse_rate("5/second").period == 1
    assert parse_rate("10 per hour").period == 3600
    assert parse_rate("1/day").period == 86400
    assert parse_rate("7/10seconds").period == 10
    assert parse_rate("3/Minutes").period == 60
    for bad in ("100", "0/minute", "x/minute", "5/fortnight", ""):
        with pytest.raises(ImproperlyConfiguredError, match="Invalid rate limit"):
            parse_rate(bad)


def test_bad_key_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="Invalid rate limit key"):
        rate_limit("1/minute", key="cookie")


async def test_bad_rate_in_middleware_fails_at_startup() -> None:
    app = App({})
    app.add_middleware(RateLimit, limit="lots")
    with pytest.raises(ImproperlyConfiguredError, match="Invalid rate limit"):
        await app.startup()


async def test_per_route_counts_headers_and_429() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/login")
        assert res.status_code == 200
        assert res.headers["x-ratelimit-limit"] == "2"
        assert res.headers["x-ratelimit-remaining"] == "1"
        assert res.headers["x-ratelimit-reset"] == "40"
        res = await client.get("/login")
        assert (res.status_code, res.headers["x-ratelimit-remaining"]) == (200, "0")
        res = await client.get("/login")
        assert res.status_code == 429
        assert res.headers["retry-after"] == "40"
        assert res.headers["x-ratelimit-remaining"] == "0"
        body = res.json()
        assert body["status"] == "error"
        assert body["message"].startswith("Rate limit exceeded: 2 requests per 60 seconds")
        # Other routes are not limited and carry no headers.
        res = await client.get("/open")
        assert res.status_code == 200
        assert "x-ratelimit-limit" not in res.headers


async def test_window_resets_with_the_clock() -> None:
    async with TestClient(make_app()) as client:
        for _ in range(2):
            await client.get("/login")
        assert (await client.get("/login")).status_code == 429
        CLOCK.now += 39
        res = await client.get("/login")
        assert (res.status_code, res.headers["retry-after"]) == (429, "1")
        CLOCK.now += 1  # the next minute window
        res = await client.get("/login")
        assert res.status_code == 200
        assert res.headers["x-ratelimit-remaining"] == "1"
        assert res.headers["x-ratelimit-reset"] == "60"


async def test_stacked_limits_report_the_tightest() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/stacked")
        assert res.headers["x-ratelimit-limit"] == "3"
        assert res.headers["x-ratelimit-remaining"] == "2"
        for _ in range(2):
            assert (await client.get("/stacked")).status_code == 200
        assert (await client.get("/stacked")).status_code == 429  # 3/second
        CLOCK.now += 1  # the refused request did not reach the minute counter
        res = await client.get("/stacked")
        assert (res.headers["x-ratelimit-limit"], res.headers["x-ratelimit-remaining"]) == (
            "5",
            "1",
        )
        res = await client.get("/stacked")
        assert (res.headers["x-ratelimit-limit"], res.headers["x-ratelimit-remaining"]) == (
            "5",
            "0",
        )
        res = await client.get("/stacked")  # 2 this second, 6 this minute
        assert (res.status_code, res.headers["x-ratelimit-limit"]) == (429, "5")


async def test_keys_per_client_ip() -> None:
    app = make_app()
    async with TestClient(app, client=("10.1.1.1", 1)) as one:
        await one.get("/login")
        await one.get("/login")
        assert (await one.get("/login")).status_code == 429
    async with TestClient(app, client=("10.2.2.2", 1)) as two:
        assert (await two.get("/login")).status_code == 200


async def test_key_user() -> None:
    async with TestClient(make_app()) as client:
        assert (await client.get("/me", headers={"x-user": "ada"})).status_code == 200
        assert (await client.get("/me", headers={"x-user": "ada"})).status_code == 429
        assert (await client.get("/me", headers={"x-user": "bob"})).status_code == 200
        # Anonymous requests fall back to the client IP.
        assert (await client.get("/me")).status_code == 200
        assert (await client.get("/me")).status_code == 429


async def test_key_header_and_key_is_hashed_in_the_store() -> None:
    app = make_app()
    store = MemoryStore()
    app.stores.register("rate_limit", store)
    async with TestClient(app) as client:
        assert (await client.get("/api", headers={"x-api-key": "s3cret"})).status_code == 200
        assert (await client.get("/api", headers={"x-api-key": "s3cret"})).status_code == 429
        assert (await client.get("/api", headers={"x-api-key": "other"})).status_code == 200
    assert not any("s3cret" in key for key in store._data)


async def test_key_callable_none_is_not_limited() -> None:
    async with TestClient(make_app()) as client:
        assert (await client.get("/custom?tenant=a")).status_code == 200
        assert (await client.get("/custom?tenant=a")).status_code == 429
        assert (await client.get("/custom?tenant=b")).status_code == 200
        for _ in range(3):
            res = await client.get("/custom")
            assert res.status_code == 200
            assert "x-ratelimit-limit" not in res.headers


async def test_global_middleware_limits_every_route() -> None:
    app = make_app()
    app.add_middleware(RateLimit, limit="3/minute", clock=CLOCK)
    async with TestClient(app) as client:
        res = await client.get("/open")
        assert res.headers["x-ratelimit-limit"] == "3"
        assert res.headers["x-ratelimit-remaining"] == "2"
        assert res.headers["x-ratelimit-reset"] == "40"
        await client.get("/open")
        res = await client.get("/nowhere")  # a 404 counts too
        assert res.status_code == 404
        assert res.headers["x-ratelimit-remaining"] == "0"
        res = await client.get("/open")
        assert res.status_code == 429
        assert res.headers["retry-after"] == "40"
        assert res.json()["status"] == "error"
        # Health probes are exempt by default.
        assert (await client.get("/livez")).status_code == 200


async def test_global_and_per_route_counters_are_separate() -> None:
    app = make_app()
    app.add_middleware(RateLimit, limit="10/minute", clock=CLOCK)
    async with TestClient(app) as client:
        await client.get("/login")
        res = await client.get("/login")
        assert res.status_code == 200
        assert res.headers.get_list("x-ratelimit-limit") == ["2", "10"]
        assert (await client.get("/login")).status_code == 429  # the route's 2/minute


async def test_middleware_from_config_and_constructor() -> None:
    app = App({}, controllers=[LimitedApi], middleware=[RateLimit])
    async with TestClient(app) as client:
        res = await client.get("/open")
    assert res.headers["x-ratelimit-limit"] == "100"


class BrokenStore(MemoryStore):
    async def incr(self, key: str, amount: int = 1, expires_in: int | None = None) -> int:
        raise ConnectionError("store down")


async def test_failing_store_fails_open_with_a_logged_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    app.stores.register("rate_limit", BrokenStore())
    async with TestClient(app) as client:
        res = await client.get("/login")
    assert res.status_code == 200
    assert "x-ratelimit-limit" not in res.headers
    assert "Rate limit store failed, request let through" in caplog.text


async def test_failing_store_fail_closed_is_503() -> None:
    app = make_app()
    app.add_middleware(RateLimit, limit="5/minute", store=BrokenStore(), fail_open=False)
    async with TestClient(app) as client:
        res = await client.get("/open")
    assert res.status_code == 503
    assert res.headers["retry-after"] == "5"
    assert res.json()["message"] == "Rate limiting is unavailable"


# -- trusted proxies (mandatory security cases) -------------------------------------


async def test_spoofed_forwarded_for_from_untrusted_peer_is_ignored() -> None:
    app = make_app()  # TRUSTED_PROXIES empty
    async with TestClient(app, client=("203.0.113.9", 1)) as client:
        for i in range(2):
            res = await client.get("/login", headers={"x-forwarded-for": f"198.51.100.{i}"})
            assert res.status_code == 200
        res = await client.get("/login", headers={"x-forwarded-for": "198.51.100.77"})
        assert res.status_code == 429


async def test_forwarded_for_from_trusted_proxy_is_used() -> None:
    app = make_app(TRUSTED_PROXIES=["10.0.0.0/8"])
    async with TestClient(app, client=("10.0.0.5", 1)) as proxy:
        for _ in range(2):
            res = await proxy.get("/login", headers={"x-forwarded-for": "198.51.100.1"})
            assert res.status_code == 200
        res = await proxy.get("/login", headers={"x-forwarded-for": "198.51.100.1"})
        assert res.status_code == 429
        res = await proxy.get("/login", headers={"x-forwarded-for": "198.51.100.2"})
        assert res.status_code == 200


async def test_forwarded_chain_is_walked_from_the_right() -> None:
    app = make_app(TRUSTED_PROXIES=["10.0.0.0/8"])
    async with TestClient(app, client=("10.0.0.5", 1)) as proxy:
        # The client forged the leftmost entry; the proxies appended the real one.
        for forged in ("1.1.1.1", "2.2.2.2"):
            xff = f"{forged}, 198.51.100.1, 10.0.0.7"
            assert (await proxy.get("/login", headers={"x-forwarded-for": xff})).status_code == 200
        xff = "3.3.3.3, 198.51.100.1, 10.0.0.7"
        assert (await proxy.get("/login", headers={"x-forwarded-for": xff})).status_code == 429


async def test_global_limit_ignores_spoofed_header_too() -> None:
    app = make_app()
    app.add_middleware(RateLimit, limit="1/minute", clock=CLOCK)
    async with TestClient(app, client=("203.0.113.9", 1)) as client:
        assert (
            await client.get("/open", headers={"x-forwarded-for": "1.2.3.4"})
        ).status_code == 200
        res = await client.get("/open", headers={"x-forwarded-for": "5.6.7.8"})
        assert res.status_code == 429


def test_rate_limit_rejects_classes() -> None:
    with pytest.raises(TypeError, match="RateLimit middleware"):
        rate_limit("1/minute")(LimitedApi)


async def test_rate_limit_on_a_function_route() -> None:
    @rate_limit("1/minute", clock=CLOCK)
    async def hello() -> dict[str, str]:
        return {"status": "ok"}

    app = App({})
    app.add_route("/hello", hello)
    async with TestClient(app) as client:
        res = await client.get("/hello")
        assert (res.status_code, res.headers["x-ratelimit-remaining"]) == (200, "0")
        res = await client.get("/hello")
        assert (res.status_code, res.headers["retry-after"]) == (429, "40")


def test_middleware_without_a_ferrule_app_below_is_a_clear_error() -> None:
    async def bare_asgi(scope: Any, receive: Any, send: Any) -> None:
        return None

    with pytest.raises(ImproperlyConfiguredError, match="ferrule_app=app"):
        RateLimit(bare_asgi)
    with pytest.raises(ImproperlyConfiguredError, match="Invalid rate limit key"):
        rate_limit("1/minute", key="header:")
