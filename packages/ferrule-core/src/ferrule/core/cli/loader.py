"""Find the application the same way for every command."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import click

from ..app import App
from ..exceptions import FerruleError

__all__ = ("AppLoadError", "AppTarget", "load_app", "resolve_target")

DEFAULTS = ("app:Application", "app:app")


class AppLoadError(click.ClickException):
    """The application could not be found or is not an App: one line, exit code 2."""

    exit_code = 2


@dataclass
class AppTarget:
    """Where the app comes from: ``module:attr`` and what kind of object it is."""

    import_string: str
    obj: Any
    factory: bool

    def instantiate(self) -> App:
        try:
            app = self.obj() if self.factory else self.obj
        except FerruleError as exc:
            raise click.ClickException(f"{self.import_string}: {exc}") from exc
        except Exception as exc:
            raise AppLoadError(
                f"Calling {self.import_string} to build the app failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(app, App):
            raise AppLoadError(
                f"{self.import_string} returned {type(app).__name__}, not a ferrule App."
            )
        return app


def _ensure_cwd_on_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def _try(target: str, *, required: bool) -> AppTarget | None:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise AppLoadError(f"Invalid app {target!r}: expected 'module:attribute'.")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and _is_target(exc.name, module_name):
            if not required and exc.name == module_name.split(".")[0]:
                return None
            raise AppLoadError(f"Cannot import {module_name!r} for app {target!r}: {exc}") from exc
        # One of the module's own imports is missing: where, in the user's code.
        raise AppLoadError(_import_failure(module_name, target, exc)) from exc
    except FerruleError as exc:  # e.g. a config error while the module builds its app
        raise click.ClickException(f"{target}: {exc}") from exc
    except Exception as exc:  # the user's module itself is broken (ImportError, NameError...)
        raise AppLoadError(_import_failure(module_name, target, exc)) from exc
    try:
        obj = getattr(module, attr)
    except AttributeError:
        if not required:
            return None
        raise AppLoadError(f"Module {module_name!r} has no attribute {attr!r}.") from None
    if isinstance(obj, App):
        return AppTarget(target, obj, factory=False)
    if isinstance(obj, type) and issubclass(obj, App):
        return AppTarget(target, obj, factory=True)
    if callable(obj):
        return AppTarget(target, obj, factory=True)
    raise AppLoadError(
        f"{target!r} is a {type(obj).__name__}, not an App, an App subclass or a factory."
    )


def _is_target(missing: str, module_name: str) -> bool:
    """``missing`` is the module to load or one of its parent packages."""
    return module_name == missing or module_name.startswith(missing + ".")


_LOADER = os.path.abspath(__file__)
_IMPORTLIB = os.path.dirname(os.path.abspath(importlib.__file__))
_LIBRARIES = ("site-packages", "dist-packages")


def _import_failure(module_name: str, target: str, exc: Exception) -> str:
    """The error and where it happened in the user's code, without import machinery.

    A syntax error names its own file and line. Otherwise the innermost frame in
    a file under the working directory (the project, outside installed packages)
    is named; failing that, the innermost frame that is not the import machinery
    or this loader (an error inside a library the module called).
    """
    where: str | None
    detail = str(exc)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno is not None:
        where, detail = f"{exc.filename}:{exc.lineno}", exc.msg
    else:
        where = _innermost_frame(exc)
    return (
        f"Importing {module_name!r} for app {target!r} failed at {where or module_name}: "
        f"{type(exc).__name__}: {detail}"
    )


def _innermost_frame(exc: BaseException) -> str | None:
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<frozen")
        and os.path.dirname(os.path.abspath(f.filename)) != _IMPORTLIB
        and os.path.abspath(f.filename) != _LOADER
    ]
    if not frames:
        return None
    project = os.path.join(os.getcwd(), "")
    own = [
        f
        for f in frames
        if os.path.abspath(f.filename).startswith(project)
        and not any(part in _LIBRARIES for part in f.filename.split(os.sep))
    ]
    frame = (own or frames)[-1]
    return f"{frame.filename}:{frame.lineno}"


def resolve_target(app: str | None) -> AppTarget:
    """``--app`` / argument, then ``FERRULE_APP``, then ``app:Application``, ``app:app``."""
    _ensure_cwd_on_path()
    explicit = app or os.environ.get("FERRULE_APP")
    if explicit:
        found = _try(explicit, required=True)
        assert found is not None
        return found
    for candidate in DEFAULTS:
        found = _try(candidate, required=False)
        if found is not None:
            return found
    raise AppLoadError(
        "No application found. Pass --app module:attr, set FERRULE_APP, or create "
        "app/__init__.py defining Application (an App subclass) or app."
    )


def load_app(app: str | None) -> App:
    return resolve_target(app).instantiate()
