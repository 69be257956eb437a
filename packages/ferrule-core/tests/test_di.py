"""Dependency injection: providers, nesting, caching, overrides, threads and teardown."""

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from ferrule.core import (
    App,
    Controller,
    Depends,
    Header,
    ImproperlyConfiguredError,
    abort,
    get,
    path,
)
from ferrule.core.testing import TestClient

EVENTS: list[Any] = []
THREADS: dict[str, int] = {}
CALLS: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    EVENTS.clear()
    THREADS.clear()
    CALLS.clear()
    yield
    EVENTS.clear()


def sync_provider() -> str:
    THREADS["sync_provider"] = threading.get_ident()
    return "sync"


async def async_provider() -> str:
    THREADS["async_provider"] = threading.get_ident()
    return "async"


def gen_provider() -> Iterator[str]:
    THREADS["gen_setup"] = threading.get_ident()
    EVENTS.append("gen:setup")
    try:
        yield "gen"
    except Exception as exc:
        EVENTS.append(("gen:error", type(exc).__name__, str(exc)))
        raise
    finally:
        THREADS["gen_teardown"] = threading.get_ident()
        EVENTS.append("gen:teardown")


async def agen_provider() -> AsyncIterator[str]:
    EVENTS.append("agen:setup")
    try:
        yield "agen"
    except Exception as exc:
        EVENTS.append(("agen:error", type(exc).__name__, str(exc)))
        raise
    finally:
        EVENTS.append("agen:teardown")


def counted() -> int:
    CALLS["counted"] = CALLS.get("counted", 0) + 1
    return CALLS["counted"]


def token(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def current_user(tok: Annotated[str, Depends(token)]) -> dict[str, str]:
    return {"name": f"user-for-{tok}"}


def user_name(user: Annotated[dict[str, str], Depends(current_user)]) -> str:
    return user["name"]


def uses_counted(n: Annotated[int, Depends(counted)]) -> int:
    return n


def uncached(n: Annotated[int, Depends(counted, use_cache=False)]) -> int:
    return n


def limit(limit: int = 10) -> int:
    return limit


class Database:
    """A stand-in for a real connection, to show dependency_overrides."""

    name = "real"


def get_db() -> Database:
    return Database()


class FakeDatabase(Database):
    name = "fake"


def fake_db() -> Database:
    return FakeDatabase()


def db_name(db: Annotated[Database, Depends(get_db)]) -> str:
    return db.name


class Pagination:
    """A class used as a provider: its ``__init__`` parameters are injected."""

    def __init__(self, page: int = 1, size: Annotated[int, Header(alias="X-Page-Size")] = 10):
        self.page = page
        self.size = size


class TokenChecker:
    """A configured callable instance used as a provider."""

    def __init__(self, expected: str) -> None:
        self.expected = expected

    async def __call__(self, x_token: Annotated[str, Header()]) -> bool:
        return x_token == self.expected


check_token = TokenChecker("s3cret")


@path("/deps")
class DepsApi(Controller):
    @get("/kinds")
    async def kinds(
        self,
        a: Annotated[str, Depends(sync_provider)],
        b: Annotated[str, Depends(async_provider)],
        c: Annotated[str, Depends(gen_provider)],
        d: Annotated[str, Depends(agen_provider)],
    ) -> list[str]:
        THREADS["handler"] = threading.get_ident()
        EVENTS.append("handler")
        return [a, b, c, d]

    @get("/default-style")
    async def default_style(self, a: str = Depends(async_provider)) -> dict[str, str]:
        return {"a": a}

    @get("/nested")
    async def nested(self, name: Annotated[str, Depends(user_name)]) -> dict[str, str]:
        return {"name": name}

    @get("/cached")
    async def cached(
        self,
        first: Annotated[int, Depends(counted)],
        second: Annotated[int, Depends(uses_counted)],
    ) -> dict[str, int]:
        return {"first": first, "second": second}

    @get("/uncached")
    async def not_cached(
        self,
        first: Annotated[int, Depends(counted)],
        second: Annotated[int, Depends(uncached)],
    ) -> dict[str, int]:
        return {"first": first, "second": second}

    @get("/query-dep")
    async def query_dep(self, n: Annotated[int, Depends(limit)]) -> dict[str, int]:
        return {"limit": n}

    @get("/db")
    async def db(self, name: Annotated[str, Depends(db_name)]) -> dict[str, str]:
        return {"db": name}

    @get("/raises")
    async def raises(
        self,
        c: Annotated[str, Depends(gen_provider)],
        d: Annotated[str, Depends(agen_provider)],
    ) -> dict[str, str]:
        EVENTS.append("handler")
        raise ValueError("handler failed")

    @get("/aborts")
    async def aborts(self, c: Annotated[str, Depends(gen_provider)]) -> dict[str, str]:
        EVENTS.append("handler")
        abort("no such thing", status_code=404)

    @get("/sync-handler")
    def sync_handler(self, a: Annotated[str, Depends(sync_provider)]) -> dict[str, str]:
        THREADS["sync_handler"] = threading.get_ident()
        return {"a": a}


@path("/classes")
class ClassProvidersApi(Controller):
    @get("/")
    async def class_provider(
        self, pages: Annotated[Pagination, Depends(Pagination)]
    ) -> dict[str, Any]:
        return {"page": pages.page, "size": pages.size}


@path("/instances")
class InstanceProvidersApi(Controller):
    @get("/")
    async def instance_provider(self, ok: Annotated[bool, Depends(check_token)]) -> dict[str, bool]:
        return {"ok": ok}


def make_app() -> App:
    return App(controllers=[DepsApi])


async def test_sync_async_generator_and_async_generator_providers() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/kinds")
    assert res.status_code == 200
    assert res.json() == ["sync", "async", "gen", "agen"]
    # Teardown runs after the handler, generators closed in reverse order.
    assert EVENTS == ["gen:setup", "agen:setup", "handler", "agen:teardown", "gen:teardown"]


async def test_depends_as_a_default_value() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/default-style")
    assert res.json() == {"a": "async"}


async def test_sync_providers_run_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()
    async with TestClient(make_app()) as client:
        await client.get("/deps/kinds")
    assert THREADS["handler"] == loop_thread
    assert THREADS["async_provider"] == loop_thread
    assert THREADS["sync_provider"] != loop_thread
    assert THREADS["gen_setup"] != loop_thread
    assert THREADS["gen_teardown"] != loop_thread


async def test_sync_handler_runs_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/sync-handler")
    assert res.json() == {"a": "sync"}
    assert THREADS["sync_handler"] != loop_thread
    assert THREADS["sync_provider"] != loop_thread


async def test_nested_dependencies_resolve_their_own_parameters() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/nested", headers={"X-Token": "t1"})
        missing = await client.get("/deps/nested")
    assert res.json() == {"name": "user-for-t1"}
    assert missing.status_code == 422
    assert missing.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": [{"loc": ["header", "x-token"], "msg": "Field required", "type": "missing"}],
    }


async def test_dependency_parameters_come_from_the_query() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/query-dep?limit=3")
        default = await client.get("/deps/query-dep")
    assert res.json() == {"limit": 3}
    assert default.json() == {"limit": 10}


async def test_a_class_provider_gets_its_init_parameters_validated() -> None:
    async with TestClient(App(controllers=[ClassProvidersApi])) as client:
        res = await client.get("/classes?page=3", headers={"X-Page-Size": "50"})
        default = await client.get("/classes")
        bad = await client.get("/classes?page=three")
    assert res.json() == {"page": 3, "size": 50}
    assert default.json() == {"page": 1, "size": 10}
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "loc": ["query", "page"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]


async def test_a_callable_instance_provider() -> None:
    async with TestClient(App(controllers=[InstanceProvidersApi])) as client:
        good = await client.get("/instances", headers={"X-Token": "s3cret"})
        wrong = await client.get("/instances", headers={"X-Token": "guess"})
    assert good.json() == {"ok": True}
    assert wrong.json() == {"ok": False}


async def test_a_provider_runs_once_per_request() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/cached")
        assert CALLS["counted"] == 1
        again = await client.get("/deps/cached")
    assert res.json() == {"first": 1, "second": 1}
    # A new request gets a fresh value: the cache is per request, not global.
    assert again.json() == {"first": 2, "second": 2}
    assert CALLS["counted"] == 2


async def test_use_cache_false_calls_the_provider_again() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/uncached")
    assert res.json() == {"first": 1, "second": 2}


async def test_dependency_overrides_replace_a_provider_deep_in_the_graph() -> None:
    app = make_app()
    async with TestClient(app) as client:
        real = await client.get("/deps/db")
        app.dependency_overrides[get_db] = fake_db
        fake = await client.get("/deps/db")
        del app.dependency_overrides[get_db]
        restored = await client.get("/deps/db")
    assert real.json() == {"db": "real"}
    assert fake.json() == {"db": "fake"}
    assert restored.json() == {"db": "real"}


async def test_overrides_are_per_app() -> None:
    one, two = make_app(), make_app()
    one.dependency_overrides[get_db] = fake_db
    async with TestClient(one) as c1, TestClient(two) as c2:
        assert (await c1.get("/deps/db")).json() == {"db": "fake"}
        assert (await c2.get("/deps/db")).json() == {"db": "real"}


async def test_generator_teardown_runs_after_a_raising_handler_and_sees_the_error() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/raises")
    assert res.status_code == 500
    assert EVENTS == [
        "gen:setup",
        "agen:setup",
        "handler",
        ("agen:error", "ValueError", "handler failed"),
        "agen:teardown",
        ("gen:error", "ValueError", "handler failed"),
        "gen:teardown",
    ]


async def test_generator_teardown_sees_http_errors_and_the_response_keeps_them() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/deps/aborts")
    assert res.status_code == 404
    assert res.json() == {"status": "error", "message": "no such thing", "errors": []}
    assert EVENTS == [
        "gen:setup",
        "handler",
        ("gen:error", "HTTPException", "no such thing"),
        "gen:teardown",
    ]


# -- startup errors ----------------------------------------------------------------------


def cycle_a(b: "Annotated[int, Depends(cycle_b)]") -> int:
    return b


def cycle_b(a: "Annotated[int, Depends(cycle_a)]") -> int:
    return a


@path("/cycle")
class CycleApi(Controller):
    @get("/")
    async def handler(self, a: Annotated[int, Depends(cycle_a)]) -> dict[str, int]:
        return {"a": a}


def test_dependency_cycle_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="Dependency cycle through"):
        _ = App(controllers=[CycleApi]).routes


def test_depends_needs_a_callable() -> None:
    with pytest.raises(TypeError, match="callable provider"):
        Depends("not callable")  # type: ignore[arg-type]
