"""URL_PREFIX, route groups (App.include) and WSGI apps mounted through a2wsgi."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest

from ferrule.core import (
    App,
    Controller,
    FerruleError,
    ImproperlyConfiguredError,
    MissingDependencyError,
    get,
    path,
)
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


@path("/users")
class UsersApi(Controller):
    @get("/")
    async def index(self) -> list[int]:
        return [1, 2]

    @get("/<int:id>")
    async def one(self, id: int) -> dict[str, int]:
        return {"id": id}


@path("/audit")
class AuditApi(Controller):
    @get("/")
    async def index(self) -> dict[str, str]:
        return {"audit": "ok"}


async def test_url_prefix_prefixes_rules_and_url_for() -> None:
    app = App({"URL_PREFIX": "/api/v1"}, controllers=[UsersApi])
    async with TestClient(app) as client:
        listed = await client.get("/api/v1/users")
        one = await client.get("/api/v1/users/7")
        unprefixed = await client.get("/users")
    assert listed.json() == [1, 2]
    assert one.json() == {"id": 7}
    assert unprefixed.status_code == 404
    assert app.url_for("UsersApi.one", id=3) == "/api/v1/users/3"
    assert {r.rule for r in app.routes} >= {"/api/v1/users", "/api/v1/users/<int:id>"}


async def test_include_groups_controllers_under_a_prefix() -> None:
    app = App({"URL_PREFIX": "/api"})
    app.include("/admin", controllers=[UsersApi, AuditApi(app)])
    async with TestClient(app) as client:
        users = await client.get("/api/admin/users/5")
        audit = await client.get("/api/admin/audit")
        bare = await client.get("/admin/audit")
    assert users.json() == {"id": 5}
    assert audit.json() == {"audit": "ok"}
    assert bare.status_code == 404
    assert app.url_for("AuditApi.index") == "/api/admin/audit"


async def test_controllers_outside_a_group_are_not_prefixed() -> None:
    app = App(controllers=[AuditApi])
    app.include("/admin", controllers=[UsersApi])
    async with TestClient(app) as client:
        assert (await client.get("/audit")).status_code == 200
        assert (await client.get("/admin/users")).status_code == 200
        assert (await client.get("/users")).status_code == 404


@pytest.mark.parametrize("prefix", ["api", "/api/", "/<int:v>", "/a//b", "/a?b"])
def test_bad_url_prefix_is_a_startup_error(prefix: str) -> None:
    app = App({"URL_PREFIX": prefix}, controllers=[UsersApi])
    with pytest.raises(ImproperlyConfiguredError, match="URL_PREFIX"):
        app._freeze()


def test_bad_group_prefix_and_double_include() -> None:
    app = App()
    with pytest.raises(ImproperlyConfiguredError, match=r"App\.include prefix"):
        app.include("admin", controllers=[UsersApi])
    with pytest.raises(ImproperlyConfiguredError, match="needs a prefix"):
        app.include("", controllers=[UsersApi])
    app.include("/a", controllers=[AuditApi])
    with pytest.raises(ImproperlyConfiguredError, match="included twice"):
        app.include("/b", controllers=[AuditApi])


def test_include_after_start_is_refused() -> None:
    app = App()
    app._freeze()
    with pytest.raises(FerruleError, match="include controllers"):
        app.include("/admin", controllers=[UsersApi])


def hello_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = (
        f"{environ['REQUEST_METHOD']} script={environ['SCRIPT_NAME']} "
        f"path={environ['PATH_INFO']} q={environ['QUERY_STRING']}"
    ).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Wsgi", "yes")])
    return [body]


async def test_mount_wsgi_serves_the_wsgi_app_under_its_prefix() -> None:
    app = App(controllers=[UsersApi])
    app.mount_wsgi("/legacy", hello_wsgi)
    async with TestClient(app) as client:
        res = await client.get("/legacy/page?x=1")
        ours = await client.get("/users")
    assert res.status_code == 200
    assert res.text == "GET script=/legacy path=/page q=x=1"
    assert res.headers["x-wsgi"] == "yes"
    assert ours.json() == [1, 2]


def test_mount_wsgi_without_a2wsgi_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "a2wsgi", None)
    with pytest.raises(MissingDependencyError, match=r"ferrule-core\[wsgi\]"):
        App().mount_wsgi("/legacy", hello_wsgi)


def test_mount_wsgi_rejects_non_callables_and_bad_prefixes() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="not callable"):
        App().mount_wsgi("/legacy", "nope")
    with pytest.raises(ImproperlyConfiguredError, match="Mount prefix"):
        App().mount_wsgi("legacy", hello_wsgi)
