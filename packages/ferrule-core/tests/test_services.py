"""App-scoped services injected by type."""

from typing import Any

import pytest

from ferrule.core import (
    App,
    BaseConfig,
    Controller,
    Extension,
    ImproperlyConfiguredError,
    get,
    path,
)
from ferrule.core.services import NOT_FOUND, ServiceRegistry
from ferrule.core.testing import TestClient


class Config(BaseConfig):
    APP_NAME: str = "Services"


class Mailer(Extension):
    pass


class SmtpMailer(Mailer):
    pass


class Application(App):
    config_class = Config


@path("/s")
class ServicesApi(Controller):
    @get("/")
    async def index(
        self,
        app: App,
        concrete: Application,
        base_config: BaseConfig,
        config: Config,
        mailer: Mailer,
        smtp: SmtpMailer,
    ) -> dict[str, Any]:
        return {
            "app_is_self": app is self.app,
            "concrete_is_self": concrete is self.app,
            "base_config": base_config is self.app.config,
            "config": config.APP_NAME,
            "mailer_is_smtp": mailer is smtp,
            "mailer_registered": self.app.extensions[mailer.name].extension is mailer,
        }


@path("/m")
class MailerApi(Controller):
    @get("/")
    async def index(self, mailer: Mailer) -> dict[str, str]:
        return {"name": mailer.name}


async def test_app_config_and_extensions_are_injected_by_type() -> None:
    app = Application(controllers=[ServicesApi], extensions=[SmtpMailer()])
    async with TestClient(app) as client:
        res = await client.get("/s")
    assert res.status_code == 200
    assert res.json() == {
        "app_is_self": True,
        "concrete_is_self": True,
        "base_config": True,
        "config": "Services",
        "mailer_is_smtp": True,
        "mailer_registered": True,
    }


async def test_services_are_per_app() -> None:
    one = App(controllers=[MailerApi], extensions=[Mailer(name="one")])
    two = App(controllers=[MailerApi], extensions=[Mailer(name="two")])
    async with TestClient(one) as c1, TestClient(two) as c2:
        assert (await c1.get("/m")).json() == {"name": "one"}
        assert (await c2.get("/m")).json() == {"name": "two"}


def test_two_instances_of_one_type_make_the_type_ambiguous() -> None:
    app = App(controllers=[MailerApi], extensions=[Mailer(name="a"), Mailer(name="b")])
    with pytest.raises(
        ImproperlyConfiguredError, match="Several app services are instances of Mailer"
    ):
        _ = app.routes


# -- the registry --------------------------------------------------------------------


class Base:
    pass


class Left(Base):
    pass


class Right(Base):
    pass


def test_registry_finds_instances_by_their_class_and_bases() -> None:
    registry = ServiceRegistry()
    left = Left()
    registry.register(left)
    assert registry.lookup(Left) is left
    assert registry.lookup(Base) is left
    assert Left in registry
    assert registry.lookup(Right) is NOT_FOUND
    assert registry.lookup(object) is NOT_FOUND
    assert registry.lookup("Left") is NOT_FOUND


def test_shared_base_becomes_ambiguous_but_each_class_stays_usable() -> None:
    registry = ServiceRegistry()
    left, right = Left(), Right()
    registry.register(left)
    registry.register(right)
    assert registry.lookup(Left) is left
    assert registry.lookup(Right) is right
    with pytest.raises(ImproperlyConfiguredError, match="ambiguous"):
        registry.lookup(Base)


def test_explicit_registration_wins_over_inferred_bases() -> None:
    registry = ServiceRegistry()
    chosen, other = Left(), Right()
    registry.register(chosen, as_type=Base)
    registry.register(other)
    assert registry.lookup(Base) is chosen
    assert registry.lookup(Right) is other


def test_registering_the_same_instance_twice_is_not_ambiguous() -> None:
    registry = ServiceRegistry()
    left = Left()
    registry.register(left)
    registry.register(left)
    assert registry.lookup(Base) is left


def test_builtin_types_are_never_services() -> None:
    registry = ServiceRegistry()
    registry.register({"a": 1})
    assert registry.lookup(dict) is NOT_FOUND
    assert dict not in registry
