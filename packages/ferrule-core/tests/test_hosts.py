"""Host header validation against ALLOWED_HOSTS."""

import json
from typing import Any

import pytest

from ferrule.core import App, Controller, get, path
from ferrule.core.hosts import HostValidator
from ferrule.core.testing import TestClient


@path("/")
class IndexApi(Controller):
    @get("/")
    async def index(self) -> dict[str, bool]:
        return {"ok": True}


async def request_with_host(app: App, host: bytes | None) -> tuple[int, Any]:
    """Drive the ASGI app directly: httpx would refuse some of these Host values."""
    return await request_with_hosts(app, [] if host is None else [host])


async def request_with_hosts(app: App, hosts: list[bytes]) -> tuple[int, Any]:
    headers = [(b"host", host) for host in hosts]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def make_app(*hosts: str) -> App:
    config = {"ALLOWED_HOSTS": list(hosts)} if hosts else None
    return App(config=config, controllers=[IndexApi])


async def test_host_not_in_allowed_hosts_is_400() -> None:
    async with TestClient(make_app("example.com")) as client:
        ok = await client.get("/")
        bad = await client.get("/", headers={"Host": "evil.com"})
    assert ok.status_code == 200
    assert bad.status_code == 400
    assert bad.json() == {
        "status": "error",
        "message": "Invalid Host header 'evil.com'",
        "errors": [],
    }


async def test_default_base_url_uses_the_first_allowed_host() -> None:
    client = TestClient(make_app(".example.org", "other.com"))
    assert client.base_url == "http://example.org"
    async with client:
        assert (await client.get("/")).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        b"localhost/evil",
        b"localhost/",
        b"user@localhost",
        b"localhost@evil.com",
        b"local host",
        b"localhost ",
        b" localhost",
        b"localhost\tx",
        b"localhost:80:80",
        b"localhost:port",
        b"localhost?x=1",
        b"localhost#frag",
        b"",
    ],
)
async def test_malformed_hosts_are_rejected(host: bytes) -> None:
    status, body = await request_with_host(make_app("localhost", "*"), host)
    assert status == 400
    assert body["status"] == "error"
    assert body["message"].startswith("Invalid Host header")


async def test_several_host_headers_are_400() -> None:
    # RFC 9112 §3.2: a request with more than one Host field is answered 400.
    # Otherwise one copy is validated while code reading req.headers sees another.
    app = make_app("localhost")
    for hosts in ([b"evil.com", b"localhost"], [b"localhost", b"evil.com"]):
        status, body = await request_with_hosts(app, hosts)
        assert status == 400
        assert body["status"] == "error"


async def test_missing_host_header_is_400() -> None:
    status, body = await request_with_host(make_app(), None)
    assert status == 400
    assert body == {"status": "error", "message": "Invalid Host header None", "errors": []}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (b"localhost", 200),
        (b"localhost:8000", 200),
        (b"LOCALHOST", 200),
        (b"127.0.0.1:1234", 200),
        (b"[::1]", 200),
        (b"[::1]:8000", 200),
        (b"[::2]", 400),
        (b"127.0.0.2", 400),
    ],
)
async def test_default_allowed_hosts_are_loopback_only(host: bytes, expected: int) -> None:
    status, _ = await request_with_host(make_app(), host)
    assert status == expected


# -- the validator ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        (b"example.com", True),
        (b"example.com:8443", True),
        (b"Example.COM", True),
        (b"example.com.", True),
        (b"api.example.com", False),
        (b"example.com.evil.org", False),
        (b"evil-example.com", False),
    ],
)
def test_exact_pattern(host: bytes, ok: bool) -> None:
    assert HostValidator(["example.com"])(host) is ok


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        (b"example.com", True),
        (b"api.example.com", True),
        (b"a.b.example.com:8000", True),
        (b"badexample.com", False),
        (b"example.com.evil.org", False),
        (b"example.org", False),
    ],
)
def test_leading_dot_pattern_matches_the_domain_and_subdomains(host: bytes, ok: bool) -> None:
    assert HostValidator([".example.com"])(host) is ok


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        (b"anything.test", True),
        (b"10.0.0.1:8080", True),
        (b"[2001:db8::1]:443", True),
        (b"user@anything.test", False),
        (b"anything.test/path", False),
        (b"two words", False),
    ],
)
def test_wildcard_accepts_any_well_formed_host(host: bytes, ok: bool) -> None:
    assert HostValidator(["*"])(host) is ok


def test_ipv6_literal_pattern() -> None:
    check = HostValidator(["[2001:db8::1]"])
    assert check(b"[2001:db8::1]") is True
    assert check(b"[2001:db8::1]:8080") is True
    assert check(b"[2001:db8::2]") is False
    assert check(b"2001:db8::1") is False


def test_missing_host_is_refused_even_with_wildcard() -> None:
    assert HostValidator(["*"])(None) is False


def test_results_are_stable_across_cached_calls() -> None:
    check = HostValidator(["example.com"])
    for _ in range(3):
        assert check(b"example.com") is True
        assert check(b"evil.com") is False


async def test_accepted_hosts_skip_the_validator_and_rejected_ones_stay_rejected() -> None:
    app = make_app("localhost")
    for _ in range(2):  # the second round answers from the accepted set and the cache
        assert (await request_with_host(app, b"localhost:8000"))[0] == 200
        assert (await request_with_host(app, b"evil.com"))[0] == 400
    assert app._host_ok is not None
    assert app._host_ok.accepted == {b"localhost:8000"}


def test_accepted_set_is_bounded_with_the_cache() -> None:
    from ferrule.core.hosts import _CACHE_LIMIT

    validator = HostValidator(["*"])
    for i in range(_CACHE_LIMIT + 10):
        assert validator(b"host%d.example" % i)
    assert len(validator.accepted) <= _CACHE_LIMIT
    assert b"host0.example" not in validator.accepted  # evicted with the cache
    assert not validator(b"bad host")
    assert b"bad host" not in validator.accepted
