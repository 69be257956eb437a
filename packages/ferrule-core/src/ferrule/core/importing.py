"""Import strings (``"package.module:Name"``) with errors that say what went wrong."""

from __future__ import annotations

import importlib
from typing import Any

from .exceptions import ImproperlyConfiguredError

__all__ = ("import_string",)


def import_string(target: str, *, setting: str | None = None) -> Any:
    """Import ``"package.module:attr"`` (or ``"package.module.attr"``).

    Raises:
        ImproperlyConfiguredError: naming the string, the setting it came from,
            and whether the module or the attribute is missing.
    """
    where = f" in {setting}" if setting else ""
    if not isinstance(target, str) or not target.strip():
        raise ImproperlyConfiguredError(
            f"Invalid import string {target!r}{where}: expected 'package.module:Name'."
        )
    if ":" in target:
        module_name, _, attr_path = target.partition(":")
    else:
        module_name, _, attr_path = target.rpartition(".")
    if not module_name or not attr_path:
        raise ImproperlyConfiguredError(
            f"Invalid import string {target!r}{where}: expected 'package.module:Name'."
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ImproperlyConfiguredError(
                f"Cannot import {target!r}{where}: module {module_name!r} was not found. "
                "Check the spelling and that the package is installed or on sys.path."
            ) from exc
        raise ImproperlyConfiguredError(
            f"Cannot import {target!r}{where}: module {module_name!r} failed to import "
            f"because its own import of {exc.name!r} failed."
        ) from exc
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            if ":" not in target and "." not in attr_path:
                # "package.module" names a submodule not imported yet.
                try:
                    return importlib.import_module(target)
                except ModuleNotFoundError:
                    pass
            names = sorted(n for n in dir(module) if not n.startswith("_"))
            raise ImproperlyConfiguredError(
                f"Cannot import {target!r}{where}: module {module_name!r} has no attribute "
                f"{attr_path!r}. Available names: {', '.join(names) or '(none)'}."
            ) from None
    return obj
