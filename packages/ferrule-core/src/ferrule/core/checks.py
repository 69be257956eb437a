"""Startup checks with stable ids, like Django's system checks.

``ferrule check`` runs them; ``ferrule check --deploy`` adds the production
checks. Extensions contribute their own by defining ``checks(app)`` returning a
list of :class:`CheckMessage` (ids prefixed with the extension, e.g.
``auth.E001``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .exceptions import FerruleError, PluginError
from .logging import build_log_handlers
from .plugins import load_plugin

if TYPE_CHECKING:
    from .app import App

__all__ = ("CheckMessage", "run_checks")

Level = Literal["ERROR", "WARNING", "INFO"]

#: The SECRET_KEY placeholder of the ``.env.example`` written by ``ferrule new``:
#: public, so a deployment still using it has no secret at all.
PLACEHOLDER_SECRET_KEYS = frozenset({"change-me-to-a-long-random-value"})


@dataclass(frozen=True)
class CheckMessage:
    """One finding: a stable id, a level, what is wrong and how to fix it."""

    id: str
    level: Level
    message: str
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == "ERROR"

    def __str__(self) -> str:
        hint = f"\n\tHINT: {self.hint}" if self.hint else ""
        return f"{self.id} ({self.level}): {self.message}{hint}"


def _core_checks(app: App, deploy: bool) -> list[CheckMessage]:
    cfg = app.config
    found: list[CheckMessage] = []
    try:
        _ = app.routes
    except FerruleError as exc:
        found.append(
            CheckMessage(
                "core.E002", "ERROR", f"Routes failed to compile: {exc}", "Fix the handler."
            )
        )
    for name in cfg.PLUGINS:
        try:
            load_plugin(name)
        except PluginError as exc:
            found.append(CheckMessage("core.E003", "ERROR", str(exc), "Install or enable it."))
    try:
        for _, handler in build_log_handlers(app):
            handler.close()
    except FerruleError as exc:
        found.append(
            CheckMessage(
                "core.E004", "ERROR", f"Logging configuration: {exc}", "Fix LOG_*/LOGGERS."
            )
        )
    if cfg.CORS_ENABLED and not cfg.CORS_ALLOW_ORIGINS:
        found.append(
            CheckMessage(
                "core.W010",
                "WARNING",
                "CORS_ENABLED is on but CORS_ALLOW_ORIGINS is empty: no origin is allowed.",
                "List the origins of your front-ends in CORS_ALLOW_ORIGINS.",
            )
        )
    if not deploy:
        return found
    if cfg.DEBUG:
        found.append(
            CheckMessage(
                "core.E101",
                "ERROR",
                "DEBUG is on: tracebacks are sent to clients and development routes exist.",
                "Set DEBUG=false in production.",
            )
        )
    if not cfg.SECRET_KEY:
        found.append(
            CheckMessage(
                "core.E102",
                "ERROR",
                "SECRET_KEY is not set: sessions, CSRF and signed tokens refuse to start.",
                "Set SECRET_KEY to a long random value, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(50))".',
            )
        )
    elif cfg.SECRET_KEY.strip() in PLACEHOLDER_SECRET_KEYS:
        found.append(
            CheckMessage(
                "core.E103",
                "ERROR",
                "SECRET_KEY is the placeholder from .env.example: anyone can forge "
                "sessions and signed tokens.",
                "Set SECRET_KEY to a long random value, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(50))".',
            )
        )
    elif len(cfg.SECRET_KEY) < 32 or len(set(cfg.SECRET_KEY)) < 5:
        found.append(
            CheckMessage(
                "core.W103",
                "WARNING",
                "SECRET_KEY is short or has little entropy.",
                "Use at least 32 random characters.",
            )
        )
    if "*" in cfg.ALLOWED_HOSTS:
        found.append(
            CheckMessage(
                "core.W104",
                "WARNING",
                "ALLOWED_HOSTS contains '*': any Host header is accepted.",
                "List the host names the app is served under.",
            )
        )
    if cfg.CORS_ENABLED and "*" in cfg.CORS_ALLOW_ORIGINS:
        found.append(
            CheckMessage(
                "core.W105",
                "WARNING",
                "CORS_ALLOW_ORIGINS contains '*': any site can call the API from a browser.",
                "List the trusted origins explicitly.",
            )
        )
    return found


def run_checks(app: App, *, deploy: bool = False) -> list[CheckMessage]:
    """Run the core checks and every extension's ``checks(app)``."""
    found = _core_checks(app, deploy)
    for ext in app.extension_list:
        check = getattr(ext, "checks", None)
        if callable(check):
            found.extend(check(app))
    return sorted(found, key=lambda m: (m.level != "ERROR", m.id))
