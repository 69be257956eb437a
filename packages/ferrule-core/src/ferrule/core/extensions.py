"""The extension protocol (DESIGN.md §3).

An extension is an object the application configures (``db = SqlDatabase()``),
listed in ``EXTENSIONS`` or passed to ``App(extensions=...)``. On ``init_app`` it
validates its config section and registers what it brings on the app.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from .config import config_error
from .exceptions import ImproperlyConfiguredError

if TYPE_CHECKING:
    from .app import App

__all__ = ("Extension", "upper_snake")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def upper_snake(name: str) -> str:
    """``SqlDatabase`` -> ``SQL_DATABASE``; ``HTTPCache`` -> ``HTTP_CACHE``."""
    return _CAMEL.sub("_", name).upper()


class Extension:
    """Base class of extensions.

    Subclasses set ``config_model`` (a pydantic model for their config section)
    and override ``init_app`` (calling ``super().init_app(app)`` first),
    ``startup`` and ``shutdown``. State lives on the app, in
    ``app.extensions[self.name]``, so one extension object can serve two apps.

    Example:
        >>> class Greeter(Extension):
        ...     class config_model(BaseModel):
        ...         GREETING: str = "Hello"
        ...
        ...     def init_app(self, app):
        ...         super().init_app(app)
        ...         app.services.register(self)
        ...
        ...     def greet(self, app, name):
        ...         return f"{self.settings(app).GREETING}, {name}"
    """

    config_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, *, config_key: str | None = None, name: str | None = None) -> None:
        self.config_key: str = config_key or upper_snake(type(self).__name__)
        self.name: str = name or self.config_key.lower()

    # -- lifecycle -------------------------------------------------------------

    def init_app(self, app: App) -> None:
        """Validate this extension's config and attach its state to ``app``."""
        settings = self.validate_config(app)
        app.extensions[self.name] = ExtensionState(self, settings)

    async def startup(self, app: App) -> None:
        """Called at application startup, in registration order."""

    async def shutdown(self, app: App) -> None:
        """Called at application shutdown, in reverse registration order."""

    # -- helpers ---------------------------------------------------------------

    def validate_config(self, app: App) -> BaseModel | None:
        model = self.config_model
        if model is None:
            return None
        raw = app.config.get(self.config_key)
        if raw is None:
            raw = {}
        elif isinstance(raw, BaseModel):
            raw = raw.model_dump()
        if not isinstance(raw, Mapping):
            raise ImproperlyConfiguredError(
                f"Config section {self.config_key!r} for {type(self).__name__} must be a "
                f"mapping of settings, got {raw!r}."
            )
        values = {**raw, **env_section(self.config_key)}
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            raise config_error(
                exc, type_name=f"{type(self).__name__} config", prefix=self.config_key
            ) from None

    def state(self, app: App) -> ExtensionState:
        """This extension's per-app state; a clear error if not initialised."""
        try:
            state: ExtensionState = app.extensions[self.name]
        except KeyError:
            raise ImproperlyConfiguredError(
                f"{type(self).__name__} {self.name!r} is not registered on {app!r}. "
                "List it in EXTENSIONS or pass it to App(extensions=[...])."
            ) from None
        return state

    def settings(self, app: App) -> Any:
        """This extension's validated config section for ``app``."""
        return self.state(app).settings

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def env_section(key: str) -> dict[str, Any]:
    """Environment overrides of a config section: ``KEY__FIELD=value`` variables.

    ``SQL_DATABASE__DATABASE_URI=postgresql+asyncpg://...`` sets ``DATABASE_URI``
    of the ``SQL_DATABASE`` section (values are strings, validated by the model).
    """
    prefix = key + "__"
    return {
        name[len(prefix) :]: value for name, value in os.environ.items() if name.startswith(prefix)
    }


class ExtensionState:
    """What an extension keeps per app: its validated settings and free slots."""

    def __init__(self, extension: Extension, settings: Any) -> None:
        self.extension = extension
        self.settings = settings
        self.data: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<ExtensionState of {self.extension!r}>"
