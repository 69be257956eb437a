"""A seed-style application: an ``App`` subclass with a config class."""

from ferrule.core import App, BaseConfig, on_shutdown, on_startup


class Config(BaseConfig):
    APP_NAME: str = "Sample"
    CONTROLLERS: list[str] = ["ferrule_core_sample.controllers:UsersApi"]
    EXTENSIONS: list[str] = ["ferrule_core_sample.extensions:counter"]
    EXCEPTION_HANDLERS: list[str] = ["ferrule_core_sample.errors:SampleErrors"]
    MIDDLEWARE: list[str] = ["ferrule_core_sample.middleware:StampMiddleware"]


class Application(App):
    config_class = Config

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    @on_startup
    async def open_things(self) -> None:
        self.events.append("startup")

    @on_shutdown
    async def close_things(self) -> None:
        self.events.append("shutdown")
