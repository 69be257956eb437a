"""Exception handlers: MRO lookup, HTTP errors, abort, the generic 500."""

import logging
from typing import Any

import pytest

from ferrule.core import (
    App,
    Controller,
    ExceptionHandler,
    HTTPException,
    HttpStatus,
    ImproperlyConfiguredError,
    Request,
    RequestValidationError,
    Response,
    abort,
    get,
    handles,
    path,
)
from ferrule.core.testing import TestClient


class AppError(Exception):
    pass


class NotFoundInDb(AppError):
    pass


class DeeperNotFound(NotFoundInDb):
    pass


@path("/e")
class ErrorsApi(Controller):
    @get("/key")
    async def key(self) -> dict[str, str]:
        raise KeyError("k")

    @get("/index")
    async def index(self) -> dict[str, str]:
        raise IndexError("i")

    @get("/value")
    async def value(self) -> dict[str, str]:
        raise ValueError("v")

    @get("/app")
    async def app_error(self) -> dict[str, str]:
        raise AppError("generic app error")

    @get("/deeper")
    async def deeper(self) -> dict[str, str]:
        raise DeeperNotFound("row 7")

    @get("/abort")
    async def do_abort(self) -> dict[str, str]:
        abort("User 7 not found", status_code=HttpStatus.NOT_FOUND, data={"user_id": 7})

    @get("/abort-default")
    async def abort_default(self) -> dict[str, str]:
        abort("bad input")

    @get("/http")
    async def http(self) -> dict[str, str]:
        raise HTTPException(429, headers={"Retry-After": "5"})

    @get("/validation")
    async def validation(self, n: int) -> dict[str, int]:
        return {"n": n}


class SpecificFirst(ExceptionHandler):
    @handles(KeyError)
    async def key_error(self, req: Request, exc: KeyError) -> Response[Any]:
        return req.response.json({"handler": "key"}).status(404)

    @handles(LookupError)
    async def lookup_error(self, req: Request, exc: LookupError) -> Response[Any]:
        return req.response.json({"handler": "lookup"}).status(400)


class AppErrors(ExceptionHandler):
    @handles(AppError)
    async def app_error(self, req: Request, exc: AppError) -> Response[Any]:
        return req.response.json({"handler": "app", "detail": str(exc)}).status(409)


class DbErrors(ExceptionHandler):
    @handles(NotFoundInDb)
    def not_found(self, req: Request, exc: NotFoundInDb) -> dict[str, str]:
        # Sync handler returning a plain value: 200 JSON.
        return {"handler": "db", "detail": str(exc)}


class CatchAll(ExceptionHandler):
    @handles(Exception)
    async def everything(self, req: Request, exc: Exception) -> Response[Any]:
        return req.response.json({"handler": "catch-all", "type": type(exc).__name__}).status(503)


class HttpErrors(ExceptionHandler):
    @handles(HTTPException)
    async def http(self, req: Request, exc: HTTPException) -> Response[Any]:
        return req.response.json({"custom": exc.status_code}).status(exc.status_code)


class ValidationErrors(ExceptionHandler):
    @handles(RequestValidationError)
    async def invalid(self, req: Request, exc: RequestValidationError) -> Response[Any]:
        return req.response.json({"problems": len(exc.errors())}).status(400)


class Broken(ExceptionHandler):
    @handles(ValueError)
    async def broken(self, req: Request, exc: ValueError) -> Response[Any]:
        raise RuntimeError("the handler itself failed")


class NoHandles(ExceptionHandler):
    async def nothing(self, req: Request, exc: Exception) -> None:
        return None


def make_app(*handlers: Any, **config: Any) -> App:
    return App(config=config or None, controllers=[ErrorsApi], exception_handlers=handlers)


async def test_most_specific_handler_by_mro_wins() -> None:
    async with TestClient(make_app(SpecificFirst)) as client:
        key = await client.get("/e/key")
        index = await client.get("/e/index")
    assert key.status_code == 404
    assert key.json() == {"handler": "key"}
    assert index.status_code == 400
    assert index.json() == {"handler": "lookup"}


@pytest.mark.parametrize("order", [(AppErrors, DbErrors), (DbErrors, AppErrors)])
async def test_mro_beats_registration_order(order: tuple[type, type]) -> None:
    async with TestClient(make_app(*order)) as client:
        deeper = await client.get("/e/deeper")
        base = await client.get("/e/app")
    assert deeper.status_code == 200
    assert deeper.json() == {"handler": "db", "detail": "row 7"}
    assert base.status_code == 409
    assert base.json() == {"handler": "app", "detail": "generic app error"}


async def test_handler_for_exception_replaces_the_500_but_not_404s() -> None:
    async with TestClient(make_app(CatchAll)) as client:
        value = await client.get("/e/value")
        missing = await client.get("/nowhere")
        aborted = await client.get("/e/abort")
        not_allowed = await client.post("/e/value")
    assert value.status_code == 503
    assert value.json() == {"handler": "catch-all", "type": "ValueError"}
    assert missing.status_code == 404
    assert missing.json() == {"status": "error", "message": "Not found: /nowhere", "errors": []}
    assert aborted.status_code == 404
    assert aborted.json()["message"] == "User 7 not found"
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "GET, HEAD, OPTIONS"


async def test_a_handler_for_http_exception_renders_framework_errors() -> None:
    async with TestClient(make_app(HttpErrors)) as client:
        missing = await client.get("/nowhere")
        aborted = await client.get("/e/abort")
    assert missing.status_code == 404
    assert missing.json() == {"custom": 404}
    assert aborted.json() == {"custom": 404}


async def test_validation_errors_can_be_handled() -> None:
    async with TestClient(make_app(ValidationErrors)) as client:
        res = await client.get("/e/validation?n=x")
    assert res.status_code == 400
    assert res.json() == {"problems": 1}


async def test_abort_with_message_status_and_data() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/e/abort")
        default = await client.get("/e/abort-default")
    assert res.status_code == 404
    assert res.json() == {
        "status": "error",
        "message": "User 7 not found",
        "errors": [],
        "data": {"user_id": 7},
    }
    assert default.status_code == 400
    assert default.json() == {"status": "error", "message": "bad input", "errors": []}


async def test_http_exception_headers_and_default_detail() -> None:
    async with TestClient(make_app()) as client:
        res = await client.get("/e/http")
    assert res.status_code == 429
    assert res.headers["retry-after"] == "5"
    assert res.json() == {"status": "error", "message": "Too Many Requests", "errors": []}


async def test_failing_handler_falls_back_to_the_generic_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    async with TestClient(make_app(Broken)) as client:
        res = await client.get("/e/value")
    assert res.status_code == 500
    assert res.json() == {
        "status": "error",
        "message": "Internal server error",
        "errors": [],
        "request_id": res.headers["x-request-id"],
    }
    assert "the handler itself failed" in caplog.text
    assert res.headers["x-request-id"] in caplog.text


async def test_unhandled_exceptions_without_handlers_are_500() -> None:
    async with TestClient(make_app(SpecificFirst)) as client:
        res = await client.get("/e/value")
    assert res.status_code == 500
    assert res.json()["message"] == "Internal server error"


async def test_add_exception_handler_with_a_function() -> None:
    async def on_value_error(req: Request, exc: ValueError) -> Response[Any]:
        return Response({"fn": str(exc)}, status_code=422)

    app = make_app()
    app.add_exception_handler(ValueError, on_value_error)
    async with TestClient(app) as client:
        res = await client.get("/e/value")
    assert res.status_code == 422
    assert res.json() == {"fn": "v"}


def test_handler_classes_get_the_app() -> None:
    app = make_app()
    handler = AppErrors(app)
    assert handler.app is app
    assert [t for t, _ in handler.handlers()] == [AppError]


def test_handles_needs_exception_classes() -> None:
    with pytest.raises(TypeError, match="@handles takes exception classes"):
        handles("ValueError")  # type: ignore[arg-type]


def test_handler_without_handles_methods_is_a_config_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="NoHandles declares no @handles"):
        make_app(NoHandles)


def test_non_handler_class_is_a_config_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="is not an ExceptionHandler subclass"):
        make_app(dict)


class PlainValueErrors(ExceptionHandler):
    @handles(HTTPException)
    async def http(self, req: Request, exc: HTTPException) -> dict[str, Any]:
        return {"plain": exc.detail}


async def test_plain_value_from_a_handler_keeps_the_http_status() -> None:
    app = App(exception_handlers=[PlainValueErrors])
    async with TestClient(app) as client:
        res = await client.get("/nowhere")
    assert res.status_code == 404
    assert res.json() == {"plain": "Not found: /nowhere"}
