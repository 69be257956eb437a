"""Composition: URL prefixes, route groups and WSGI apps mounted through a2wsgi."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .exceptions import ImproperlyConfiguredError, MissingDependencyError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .app import App
    from .controller import Controller
    from .routing.route import Route
    from .types import ASGIApp

__all__ = ("apply_prefixes", "check_prefix", "include", "wsgi_app")


def check_prefix(prefix: str, setting: str) -> str:
    """Validate a route prefix: ``""`` or ``/segment[/segment...]`` without converters."""
    if prefix == "":
        return prefix
    if (
        not prefix.startswith("/")
        or prefix.endswith("/")
        or "<" in prefix
        or "//" in prefix
        or "?" in prefix
        or "#" in prefix
    ):
        raise ImproperlyConfiguredError(
            f"{setting} {prefix!r} must start with '/', not end with '/', and hold no "
            "converters, '?' or '#' (e.g. '/api/v1')."
        )
    return prefix


def _join(prefix: str, rule: str) -> str:
    # Seed semantics, as for @path: "/" under a prefix is the prefix itself.
    if rule in ("", "/") and prefix:
        return prefix
    return prefix + rule


def include(app: App, prefix: str, controllers: Iterable[type[Controller] | Controller]) -> None:
    """Register ``controllers`` with their rules under ``prefix`` (see ``App.include``)."""
    check_prefix(prefix, "App.include prefix")
    if not prefix:
        raise ImproperlyConfiguredError(
            "App.include needs a prefix such as '/admin'; "
            "use App(controllers=[...]) for controllers without one."
        )
    for ctrl in controllers:
        app.register_controller(ctrl)
        if ctrl in app._route_groups:
            raise ImproperlyConfiguredError(
                f"{ctrl!r} is included twice; a controller belongs to one group."
            )
        app._route_groups[ctrl] = prefix


def _group_of(app: App, controller: Controller | None) -> str:
    if controller is None or not app._route_groups:
        return ""
    groups = app._route_groups
    return groups.get(controller) or groups.get(type(controller)) or ""


def apply_prefixes(app: App, routes: Sequence[Route], sockets: Sequence[Any] = ()) -> None:
    """Prefix compiled rules with their group's prefix, then ``URL_PREFIX`` (at freeze)."""
    url_prefix = check_prefix(app.config.URL_PREFIX, "URL_PREFIX")
    if not url_prefix and not app._route_groups:
        return
    for route in (*routes, *sockets):
        rule = _join(_group_of(app, route.controller), route.rule)
        route.rule = _join(url_prefix, rule)


def wsgi_app(wsgi: Any) -> ASGIApp:
    """Wrap a WSGI callable in a2wsgi's ``WSGIMiddleware`` (``ferrule-core[wsgi]``)."""
    if not callable(wsgi):
        raise ImproperlyConfiguredError(f"Mounted WSGI app {wsgi!r} is not callable.")
    try:
        a2wsgi = importlib.import_module("a2wsgi")
    except ImportError:
        raise MissingDependencyError(
            "Mounting a WSGI app needs a2wsgi: pip install 'ferrule-core[wsgi]'"
        ) from None
    return a2wsgi.WSGIMiddleware(wsgi)  # type: ignore[no-any-return]
