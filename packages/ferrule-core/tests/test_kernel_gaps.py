"""Kernel API used by batteries: declining exceptions, submodule import strings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ferrule.core import (
    App,
    Controller,
    ExceptionHandler,
    Request,
    Response,
    error_response,
    get,
    handles,
    path,
)
from ferrule.core.importing import import_string
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    import pytest


class FlakyError(Exception):
    def __init__(self, transient: bool) -> None:
        super().__init__("transient" if transient else "permanent")
        self.transient = transient


@path("/k")
class GapApi(Controller):
    @get("/transient")
    async def transient(self) -> None:
        raise FlakyError(True)

    @get("/permanent")
    async def permanent(self) -> None:
        raise FlakyError(False)


class Selective(ExceptionHandler):
    @handles(FlakyError)
    async def flaky(self, req: Request, exc: FlakyError) -> Response[dict[str, str]]:
        if not exc.transient:
            raise exc  # decline: the built-in 500 applies
        return error_response(503, "Try again", headers={"Retry-After": "1"})


async def test_a_handler_declines_by_reraising(caplog: pytest.LogCaptureFixture) -> None:
    app = App(controllers=[GapApi], exception_handlers=[Selective])
    async with TestClient(app) as client:
        transient = await client.get("/k/transient")
        with caplog.at_level(logging.ERROR, logger="ferrule.core.errors"):
            permanent = await client.get("/k/permanent")
    assert transient.status_code == 503
    assert transient.headers["retry-after"] == "1"
    assert transient.json() == {"status": "error", "message": "Try again", "errors": []}
    assert permanent.status_code == 500
    body = permanent.json()
    assert body["message"] == "Internal server error"
    assert body["request_id"] == permanent.headers["x-request-id"]
    assert any(r.exc_info and r.exc_info[0] is FlakyError for r in caplog.records)


def test_import_string_of_a_submodule_without_colon() -> None:
    module = import_string("email.mime")
    assert module.__name__ == "email.mime"


class _BrokenPrepare(Response[Any]):
    needs_prepare = True

    async def prepare(self, req: Request) -> None:
        raise RuntimeError("template engine exploded")


@path("/p")
class PrepareApi(Controller):
    @get("/broken")
    async def broken(self) -> Response[Any]:
        return _BrokenPrepare("never sent")


async def test_a_failing_prepare_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    app = App(controllers=[PrepareApi])
    async with TestClient(app) as client:
        with caplog.at_level(logging.ERROR, logger="ferrule.core.errors"):
            res = await client.get("/p/broken")
    assert res.status_code == 500
    assert res.json()["message"] == "Internal server error"
    assert "never sent" not in res.text
    assert any(
        "template engine exploded" in str(r.exc_info[1]) for r in caplog.records if r.exc_info
    )


def test_request_id_with_a_trailing_newline_is_replaced() -> None:
    app = App()
    assert app._request_id(b"abc-123") == "abc-123"
    generated = app._request_id(b"abc\n")
    assert generated != "abc\n"
    assert "\n" not in generated
