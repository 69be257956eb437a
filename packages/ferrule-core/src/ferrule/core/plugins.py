"""Plugin discovery: installed distributions in the ``ferrule.plugins`` group.

A plugin is an installed battery. Its entry point's name is the plugin id and
its value a class constructible with no arguments (usually a :class:`Plugin`
subclass). ``FERRULE_DISABLE_PLUGINS=a,b`` opts out of plugins by id.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from .exceptions import PluginError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("GROUP", "LoadedPlugin", "Plugin", "discover_plugins", "load_plugin")

GROUP = "ferrule.plugins"
logger = logging.getLogger("ferrule.core.plugins")


class Plugin:
    """Base class for the object a battery registers as its plugin.

    Override ``cli_commands`` to add command groups to the ``ferrule`` CLI.
    Keep module-level imports light: plugins are loaded by every CLI call.
    """

    description: str = ""

    def cli_commands(self) -> Sequence[Any]:
        """Return click commands or groups to mount on the ``ferrule`` CLI."""
        return ()


@dataclass
class LoadedPlugin:
    name: str
    value: str
    distribution: str | None
    version: str | None
    plugin: Any = None
    error: str | None = None
    disabled: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def description(self) -> str:
        return str(getattr(self.plugin, "description", "") or "")


def disabled_plugins() -> set[str]:
    raw = os.environ.get("FERRULE_DISABLE_PLUGINS", "")
    return {p.strip() for p in raw.split(",") if p.strip()}


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def _describe(ep: EntryPoint, *, disabled: bool = False) -> LoadedPlugin:
    dist = ep.dist
    return LoadedPlugin(
        name=ep.name,
        value=ep.value,
        distribution=dist.name if dist else None,
        version=dist.version if dist else None,
        disabled=disabled,
    )


def _load(ep: EntryPoint) -> LoadedPlugin:
    info = _describe(ep)
    try:
        target = ep.load()
        info.plugin = target() if isinstance(target, type) else target
    except Exception as exc:
        info.error = f"{type(exc).__name__}: {exc}"
    return info


def discover_plugins(
    *, include_disabled: bool = False, log_errors: bool = True
) -> list[LoadedPlugin]:
    """Load every installed plugin; broken ones are logged and returned with ``error``.

    Plugins named in ``FERRULE_DISABLE_PLUGINS`` are never imported: they are
    left out, or with ``include_disabled`` listed unloaded with ``disabled=True``.
    ``log_errors=False`` is for callers (the CLI) that report errors themselves.
    """
    disabled = disabled_plugins()
    found: list[LoadedPlugin] = []
    for ep in _entry_points():
        if ep.name in disabled:
            if include_disabled:
                found.append(_describe(ep, disabled=True))
            continue
        info = _load(ep)
        if info.error and log_errors:
            logger.warning("Skipping ferrule plugin %r (%s): %s", info.name, info.value, info.error)
        found.append(info)
    return found


def load_plugin(name: str) -> LoadedPlugin:
    """Load the plugin ``name`` that the application requires.

    Raises:
        PluginError: when it is not installed, is disabled, or fails to import,
            with the ``pip install`` line that fixes it.
    """
    install = f"pip install 'ferrule-core[{name}]'"
    if name in disabled_plugins():
        raise PluginError(
            f"Plugin {name!r} is required by the application but disabled by "
            f"FERRULE_DISABLE_PLUGINS={os.environ.get('FERRULE_DISABLE_PLUGINS')!r}."
        )
    for ep in _entry_points():
        if ep.name == name:
            info = _load(ep)
            if info.error:
                raise PluginError(
                    f"Plugin {name!r} ({info.value}) failed to load: {info.error}. "
                    f"Reinstall it with: {install}"
                )
            return info
    raise PluginError(f"Plugin {name!r} is required but not installed. Install it with: {install}")
