"""Sessions: signed cookies, key rotation, expiry, tampering, server-side sessions."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ferrule.core import (
    App,
    Controller,
    ImproperlyConfiguredError,
    MemoryStore,
    Request,
    Store,
    abort,
    get,
    path,
    post,
)
from ferrule.core.testing import TestClient

KEY = "k" * 40


@path("")
class SessionApi(Controller):
    @get("/read")
    async def read(self, req: Request) -> dict[str, Any]:
        return dict(req.session)

    @post("/login")
    async def login(self, req: Request) -> dict[str, Any]:
        req.session.regenerate()
        req.session["user"] = "ada"
        return {"ok": True}

    @post("/set/<name>")
    async def set_value(self, req: Request, name: str) -> dict[str, Any]:
        req.session[name] = name.upper()
        return dict(req.session)

    @post("/logout")
    async def logout(self, req: Request) -> dict[str, Any]:
        req.session.clear()
        return {"ok": True}

    @get("/untouched")
    async def untouched(self) -> dict[str, str]:
        return {"status": "ok"}

    @post("/big")
    async def big(self, req: Request) -> dict[str, str]:
        req.session["blob"] = secrets.token_hex(3000)  # incompressible
        return {"status": "ok"}

    @post("/deny")
    async def deny(self, req: Request) -> None:
        req.session["tries"] = req.session.get("tries", 0) + 1
        abort("Wrong password", status_code=403)

    @post("/fail")
    async def fail(self, req: Request) -> dict[str, str]:
        req.session["half"] = "done"
        raise RuntimeError("boom")

    @post("/bad")
    async def bad(self, req: Request) -> dict[str, str]:
        req.session["obj"] = object()
        return {"status": "ok"}


def make_app(**config: Any) -> App:
    base: dict[str, Any] = {"SESSION_BACKEND": "cookie", "SECRET_KEY": KEY}
    base.update(config)
    return App(base, controllers=[SessionApi])


def set_cookie(res: Any) -> str:
    values: list[str] = res.headers.get_list("set-cookie")
    assert len(values) == 1, values
    return values[0]


def cookie_value(res: Any) -> str:
    return set_cookie(res).split(";")[0].split("=", 1)[1]


async def test_sessions_off_by_default_and_req_session_names_the_key() -> None:
    app = App({}, controllers=[SessionApi])
    async with TestClient(app) as client:
        res = await client.get("/read")
    assert res.status_code == 500
    assert not app._middleware


def test_missing_secret_key_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="SECRET_KEY"):
        App({"SESSION_BACKEND": "cookie"})


def test_samesite_none_without_secure_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="SESSION_COOKIE_SAMESITE"):
        make_app(SESSION_COOKIE_SAMESITE="none", SESSION_COOKIE_SECURE=False)


async def test_req_session_when_off_raises_a_clear_error() -> None:
    app = App({}, controllers=[SessionApi])
    async with TestClient(app, raise_server_exceptions=True) as client:
        with pytest.raises(ImproperlyConfiguredError, match="SESSION_BACKEND"):
            await client.get("/read")


async def test_cookie_round_trip_and_flags() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/set/a")
        assert res.status_code == 200
        header = set_cookie(res)
        assert header.startswith("session=")
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Max-Age=1209600" in header
        assert "Path=/" in header
        assert "Secure" not in header  # plain http
        res = await client.get("/read")
        assert res.json() == {"a": "A"}
        assert "set-cookie" not in res.headers  # read only: nothing written back
        assert res.headers["vary"] == "Cookie"


async def test_untouched_session_sends_no_set_cookie() -> None:
    async with TestClient(make_app()) as client:
        await client.post("/set/a")
        res = await client.get("/untouched")
        assert res.status_code == 200
        assert "set-cookie" not in res.headers
        assert "vary" not in res.headers


async def test_secure_under_https_and_always_on_option() -> None:
    async with TestClient(make_app(), base_url="https://localhost") as client:
        assert "Secure" in set_cookie(await client.post("/set/a"))
    async with TestClient(make_app(SESSION_COOKIE_SECURE=True)) as client:
        assert "Secure" in set_cookie(await client.post("/set/a"))


async def test_cookie_options() -> None:
    app = make_app(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_SAMESITE="strict",
        SESSION_MAX_AGE=60,
    )
    async with TestClient(app) as client:
        header = set_cookie(await client.post("/set/a"))
    assert header.startswith("sid=")
    assert "Path=/app" in header
    assert "Domain=example.com" in header
    assert "SameSite=Strict" in header
    assert "Max-Age=60" in header


async def test_tampered_cookie_is_an_empty_session_not_an_error() -> None:
    async with TestClient(make_app()) as client:
        value = cookie_value(await client.post("/set/a"))
        client.cookies.clear()
        forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
        res = await client.get("/read", headers={"cookie": f"session={forged}"})
        assert res.status_code == 200
        assert res.json() == {}
        res = await client.get("/read", headers={"cookie": "session=garbage"})
        assert (res.status_code, res.json()) == (200, {})


async def test_cookie_signed_with_another_key_is_rejected() -> None:
    other = URLSafeTimedSerializer("another-key-entirely-xxxxxxxxxxxx", salt="ferrule.session")
    forged = other.dumps({"user": "admin"})
    async with TestClient(make_app()) as client:
        res = await client.get("/read", headers={"cookie": f"session={forged}"})
    assert res.json() == {}


async def test_expired_cookie_is_an_empty_session(monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous.timed

    async with TestClient(make_app(SESSION_MAX_AGE=60)) as client:
        value = cookie_value(await client.post("/set/a"))
        client.cookies.clear()
        res = await client.get("/read", headers={"cookie": f"session={value}"})
        assert res.json() == {"a": "A"}
        real = itsdangerous.timed.time.time
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 61)
        res = await client.get("/read", headers={"cookie": f"session={value}"})
        assert (res.status_code, res.json()) == (200, {})


async def test_key_rotation_accepts_fallbacks_and_signs_with_new_key() -> None:
    old_app = make_app(SECRET_KEY="old-key-" + "o" * 32)
    async with TestClient(old_app) as client:
        old_value = cookie_value(await client.post("/set/a"))
    new_app = make_app(
        SECRET_KEY="new-key-" + "n" * 32, SECRET_KEY_FALLBACKS=["old-key-" + "o" * 32]
    )
    async with TestClient(new_app) as client:
        res = await client.post("/set/b", headers={"cookie": f"session={old_value}"})
        assert res.json() == {"a": "A", "b": "B"}
        new_value = cookie_value(res)
    # The new cookie verifies with the new key alone; the old one no longer does.
    only_new = make_app(SECRET_KEY="new-key-" + "n" * 32)
    async with TestClient(only_new) as client:
        res = await client.get("/read", headers={"cookie": f"session={new_value}"})
        assert res.json() == {"a": "A", "b": "B"}
        res = await client.get("/read", headers={"cookie": f"session={old_value}"})
        assert res.json() == {}


async def test_clear_deletes_the_cookie() -> None:
    async with TestClient(make_app()) as client:
        await client.post("/set/a")
        res = await client.post("/logout")
        header = set_cookie(res)
        assert "Max-Age=0" in header
        assert (await client.get("/read")).json() == {}


async def test_too_large_cookie_is_a_clear_error() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/big")
    assert res.status_code == 500
    assert "set-cookie" not in res.headers
    assert res.json()["status"] == "error"


async def test_too_large_cookie_error_names_the_fix(caplog: pytest.LogCaptureFixture) -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/big")
    assert res.status_code == 500
    assert "SessionError" in caplog.text
    assert "over the 4093 browsers keep" in caplog.text
    assert "SESSION_BACKEND = 'store'" in caplog.text


async def test_unserializable_value_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/bad")
    assert res.status_code == 500
    assert "set-cookie" not in res.headers
    assert "not JSON-serializable" in caplog.text


# -- server-side sessions ----------------------------------------------------------


def store_app(store: Store | None = None, **config: Any) -> App:
    app = make_app(SESSION_BACKEND="store", **config)
    if store is not None:
        app.stores.register("sessions", store)
    return app


async def test_store_session_keeps_only_an_id_in_the_cookie() -> None:
    store = MemoryStore()
    app = store_app(store)
    async with TestClient(app) as client:
        res = await client.post("/set/secret")
        value = cookie_value(res)
        assert "SECRET" not in value
        assert len(store) == 1
        sid = value.split(".")[0]
        assert await store.get("session:" + sid) == b'{"secret":"SECRET"}'
        assert await store.expires_in("session:" + sid) == 1209600
        res = await client.get("/read")
        assert res.json() == {"secret": "SECRET"}
        assert "set-cookie" not in res.headers
        # A second write keeps the id.
        res = await client.post("/set/b")
        assert cookie_value(res).split(".")[0] == sid


async def test_store_session_regenerate_drops_the_old_entry() -> None:
    store = MemoryStore()
    async with TestClient(store_app(store)) as client:
        old_sid = cookie_value(await client.post("/set/a")).split(".")[0]
        res = await client.post("/login")
        new_sid = cookie_value(res).split(".")[0]
        assert new_sid != old_sid
        assert await store.get("session:" + old_sid) is None
        assert (await client.get("/read")).json() == {"a": "A", "user": "ada"}


async def test_store_session_fixation_planted_id_is_not_adopted() -> None:
    store = MemoryStore()
    async with TestClient(store_app(store)) as client:
        res = await client.post("/login", headers={"cookie": "session=attacker-chosen-id"})
        assert "attacker-chosen-id" not in cookie_value(res)
        assert await store.get("session:attacker-chosen-id") is None


async def test_store_session_clear_deletes_entry_and_cookie() -> None:
    store = MemoryStore()
    async with TestClient(store_app(store)) as client:
        sid = cookie_value(await client.post("/set/a")).split(".")[0]
        res = await client.post("/logout")
        assert "Max-Age=0" in set_cookie(res)
        assert await store.get("session:" + sid) is None
        assert len(store) == 0


async def test_store_session_tampered_id_is_an_empty_session() -> None:
    store = MemoryStore()
    async with TestClient(store_app(store)) as client:
        value = cookie_value(await client.post("/set/a"))
        client.cookies.clear()
        sid, _, signature = value.partition(".")
        # Another first character (the random id may already start with "x").
        forged = ("y" if sid[0] == "x" else "x") + sid[1:] + "." + signature
        res = await client.get("/read", headers={"cookie": f"session={forged}"})
        assert (res.status_code, res.json()) == (200, {})


async def test_store_entry_expired_is_an_empty_session() -> None:
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    async with TestClient(store_app(store, SESSION_MAX_AGE=60)) as client:
        await client.post("/set/a")
        now[0] += 61
        assert (await client.get("/read")).json() == {}


class BrokenStore(MemoryStore):
    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("store down")

    async def set(self, key: str, value: bytes, expires_in: int | None = None) -> None:
        raise ConnectionError("store down")


async def test_store_failure_is_503_never_a_silent_loss() -> None:
    async with TestClient(store_app(BrokenStore())) as client:
        res = await client.post("/set/a")
        assert res.status_code == 503
        assert res.headers["retry-after"] == "5"
        assert res.json()["message"] == "The session store is unavailable"
        assert "set-cookie" not in res.headers
        signed = TimestampSigner([KEY], salt="ferrule.session.id").sign("abc").decode()
        res = await client.get("/read", headers={"cookie": f"session={signed}"})
        assert res.status_code == 503


async def test_store_session_needs_secret_key_too() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="SECRET_KEY"):
        App({"SESSION_BACKEND": "store"})


async def test_server_error_does_not_save_the_session() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/fail")
    assert res.status_code == 500
    assert "set-cookie" not in res.headers


async def test_client_error_still_saves_the_session() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/deny")
        assert res.status_code == 403
        assert "set-cookie" in res.headers  # e.g. counting failed logins
        await client.post("/deny")
        assert (await client.get("/read")).json() == {"tries": 2}
