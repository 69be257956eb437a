"""Extensions: config sections, init_app registrations, per-app state."""

from typing import Any

import pytest
from pydantic import BaseModel, Field

from ferrule.core import (
    App,
    Controller,
    ExceptionHandler,
    Extension,
    ImproperlyConfiguredError,
    Request,
    Response,
    get,
    handles,
    path,
)
from ferrule.core.extensions import upper_snake
from ferrule.core.testing import TestClient


class SqlDatabase(Extension):
    pass


class HTTPCache(Extension):
    pass


class Greeter(Extension):
    class config_model(BaseModel):
        GREETING: str = "Hello"
        TIMEOUT: int = Field(default=5, gt=0)

    def greet(self, app: App, name: str) -> str:
        return f"{self.settings(app).GREETING}, {name}"


class QuotaExceededError(Exception):
    pass


@path("/greet")
class GreetApi(Controller):
    @get("/<name>")
    async def greet(self, name: str, greeter: Greeter) -> dict[str, str]:
        return {"text": greeter.greet(self.app, name)}


@path("/plugin")
class PluginApi(Controller):
    @get("/")
    async def index(self, clock: "Clock") -> dict[str, Any]:
        return {"now": clock.now()}

    @get("/quota")
    async def quota(self) -> dict[str, Any]:
        raise QuotaExceededError("over quota")


class Clock:
    """A DI provider an extension registers as an app service."""

    def now(self) -> int:
        return 1234


class QuotaErrors(ExceptionHandler):
    @handles(QuotaExceededError)
    async def quota(self, req: Request, exc: QuotaExceededError) -> Response[Any]:
        return req.response.json({"quota": str(exc)}).status(429)


class StampHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def stamped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-extension", b"on")]
            await send(message)

        await self.app(scope, receive, stamped)


class FullKit(Extension):
    """Registers one of everything init_app may register."""

    def init_app(self, app: App) -> None:
        super().init_app(app)
        app.register_controller(PluginApi)
        app.register_exception_handler(QuotaErrors)
        app.add_middleware(StampHeaders)
        app.template_dirs.append("/kit/templates")
        app.services.register(Clock())
        app.on_startup(lambda: self._hook(app))
        self.state(app).data["started"] = False

    def _hook(self, app: App) -> None:
        data = self.state(app).data
        data["hook_saw_started"] = data["started"]

    async def startup(self, app: App) -> None:
        self.state(app).data["started"] = True


class Forgetful(Extension):
    def init_app(self, app: App) -> None:
        pass  # does not call super().init_app(app)


def test_config_key_and_name_default_to_the_class_name() -> None:
    assert SqlDatabase().config_key == "SQL_DATABASE"
    assert SqlDatabase().name == "sql_database"
    assert HTTPCache().config_key == "HTTP_CACHE"
    assert Greeter(config_key="HELLO", name="hello").config_key == "HELLO"
    assert upper_snake("OAuth2Provider") == "O_AUTH2_PROVIDER"
    assert upper_snake("TaskManager") == "TASK_MANAGER"


def test_extension_is_constructible_without_arguments() -> None:
    ext = Extension()
    assert ext.config_key == "EXTENSION"
    assert ext.config_model is None


async def test_config_section_is_validated_and_used() -> None:
    greeter = Greeter()
    app = App(config={"GREETER": {"GREETING": "Hi"}}, controllers=[GreetApi], extensions=[greeter])
    assert greeter.settings(app).GREETING == "Hi"
    assert greeter.settings(app).TIMEOUT == 5
    async with TestClient(app) as client:
        res = await client.get("/greet/ada")
    assert res.json() == {"text": "Hi, ada"}


def test_missing_section_uses_the_model_defaults() -> None:
    greeter = Greeter()
    app = App(extensions=[greeter])
    assert greeter.settings(app).GREETING == "Hello"


def test_invalid_section_names_the_key_path() -> None:
    with pytest.raises(ImproperlyConfiguredError) as info:
        App(config={"GREETER": {"TIMEOUT": 0}}, extensions=[Greeter()])
    message = str(info.value)
    assert "Greeter config" in message
    assert "GREETER.TIMEOUT" in message
    assert "(got 0)" in message


def test_section_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="'GREETER' for Greeter must be a mapping"):
        App(config={"GREETER": "hello"}, extensions=[Greeter()])


async def test_one_extension_object_serves_two_apps_with_separate_state() -> None:
    greeter = Greeter()
    one = App(config={"GREETER": {"GREETING": "Hi"}}, controllers=[GreetApi], extensions=[greeter])
    two = App(config={"GREETER": {"GREETING": "Hey"}}, controllers=[GreetApi], extensions=[greeter])
    greeter.state(one).data["x"] = 1
    assert greeter.state(two).data == {}
    async with TestClient(one) as c1, TestClient(two) as c2:
        assert (await c1.get("/greet/bo")).json() == {"text": "Hi, bo"}
        assert (await c2.get("/greet/bo")).json() == {"text": "Hey, bo"}


def test_state_on_an_app_without_the_extension_is_a_clear_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="is not registered on"):
        Greeter().state(App())


async def test_init_app_registers_controllers_handlers_middleware_services_and_hooks() -> None:
    kit = FullKit()
    app = App(extensions=[kit])
    assert app.template_dirs == ["/kit/templates"]
    assert kit.state(app).data["started"] is False
    async with TestClient(app) as client:
        assert kit.state(app).data["started"] is True
        # The hook the extension registered ran after the extensions started.
        assert kit.state(app).data["hook_saw_started"] is True
        index = await client.get("/plugin")
        quota = await client.get("/plugin/quota")
    assert index.json() == {"now": 1234}
    assert index.headers["x-extension"] == "on"
    assert quota.status_code == 429
    assert quota.json() == {"quota": "over quota"}


def test_init_app_must_call_super() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"Forgetful.init_app did not call super"):
        App(extensions=[Forgetful()])


def test_extension_class_instead_of_instance_is_refused() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="is a class; list an instance"):
        App(extensions=[Greeter])  # type: ignore[list-item]


def test_non_extension_is_refused() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"is not a ferrule\.core\.Extension"):
        App(extensions=[object()])  # type: ignore[list-item]


def test_two_extensions_with_one_name_are_refused() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="Two extensions are named 'greeter'"):
        App(extensions=[Greeter(), Greeter()])


def test_extensions_are_kept_under_their_name() -> None:
    greeter, db = Greeter(), SqlDatabase(name="analytics")
    app = App(extensions=[greeter, db])
    assert set(app.extensions) == {"greeter", "analytics"}
    assert app.extensions["greeter"].extension is greeter
    assert app.extensions["analytics"].extension is db


class _EnvGreeter(Extension):
    class config_model(BaseModel):
        GREETING: str = "Hello"
        TIMES: int = 1


def test_section_keys_overridden_by_double_underscore_env_vars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("_ENV_GREETER__TIMES", "3")
    ext = _EnvGreeter()
    app = App({"_ENV_GREETER": {"GREETING": "Hi", "TIMES": 1}}, extensions=[ext])
    assert ext.settings(app).GREETING == "Hi"
    assert ext.settings(app).TIMES == 3


def test_bad_env_override_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ENV_GREETER__TIMES", "many")
    with pytest.raises(ImproperlyConfiguredError, match=r"_ENV_GREETER\.TIMES"):
        App(extensions=[_EnvGreeter()])
