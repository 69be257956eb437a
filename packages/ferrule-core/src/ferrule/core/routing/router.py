"""Match a path and method to a route: a dict for static rules, Werkzeug for the rest."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BuildError, Map, RequestRedirect, Rule

from ..exceptions import FerruleError, HTTPException

if TYPE_CHECKING:
    from .route import Route

__all__ = ("MethodNotAllowedError", "NotFoundError", "Router", "UrlBuildError")


class NotFoundError(HTTPException):
    """No route matches the path (404)."""

    def __init__(self, path: str) -> None:
        super().__init__(404, f"Not found: {path}")


class MethodNotAllowedError(HTTPException):
    """The path exists but not for this method (405 with ``Allow``)."""

    def __init__(self, method: str, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(
            405,
            f"Method {method} not allowed; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )


class RedirectError(HTTPException):
    """The canonical URL differs (trailing slash): permanent redirect."""

    def __init__(self, location: str) -> None:
        super().__init__(308, "Permanent redirect", headers={"Location": location})


class UrlBuildError(FerruleError, LookupError):
    """``url_for`` could not build a URL for the endpoint and values."""


class Router:
    """Routes compiled into a Werkzeug ``Map`` bound once, plus a static fast path."""

    def __init__(self, routes: list[Route], *, strict_slashes: bool = True) -> None:
        self.routes = routes
        self.map = Map(strict_slashes=strict_slashes, merge_slashes=False)
        self.by_endpoint: dict[str, Route] = {}
        for route in routes:
            other = self.by_endpoint.get(route.endpoint)
            if other is None:
                self.by_endpoint[route.endpoint] = route
            elif other.handler != route.handler:
                raise FerruleError(
                    f"Two handlers share the endpoint name {route.endpoint!r} "
                    f"({other.rule} and {route.rule}); give one a name=... ."
                )
            rule = Rule(route.rule, endpoint=route.endpoint, methods=list(route.methods))
            rule.ferrule_route = route  # type: ignore[attr-defined]
            route.werkzeug_rule = rule
            self.map.add(rule)
        # Bound once and reused: binding per request is measurable overhead.
        self.adapter = self.map.bind("localhost", "/")
        self.static: dict[str, dict[str, Route]] = {}
        for route in routes:
            wrule = route.werkzeug_rule
            if wrule is not None and not wrule.arguments:
                slot = self.static.setdefault(route.rule, {})
                for method in route.methods:
                    slot.setdefault(method, route)
                if "GET" in route.methods:
                    slot.setdefault("HEAD", route)

    def match(self, path: str, method: str) -> tuple[Route, dict[str, Any]]:
        """Return ``(route, arguments)`` or raise the 404/405/308 error."""
        slot = self.static.get(path)
        if slot is not None:
            hit = slot.get(method)
            if hit is not None:
                return hit, {}
        try:
            rule, args = self.adapter.match(path, method, return_rule=True)
        except NotFound:
            raise NotFoundError(path) from None
        except MethodNotAllowed as exc:
            allowed = sorted({*(exc.valid_methods or ()), "OPTIONS"})
            raise MethodNotAllowedError(method, allowed) from None
        except RequestRedirect as exc:
            parts = urlsplit(exc.new_url)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
            raise RedirectError(location) from None
        matched: Route = rule.ferrule_route  # type: ignore[attr-defined]
        return matched, dict(args)

    def allowed_methods(self, path: str) -> list[str]:
        """Methods the path answers to (for ``OPTIONS``)."""
        methods = set(self.adapter.allowed_methods(path))
        return sorted({*methods, "OPTIONS"}) if methods else []

    def url_for(self, endpoint: str, values: dict[str, Any], *, script_name: str = "") -> str:
        try:
            url = self.adapter.build(endpoint, values)
        except BuildError as exc:
            if endpoint not in self.by_endpoint:
                close = difflib.get_close_matches(endpoint, self.by_endpoint, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise UrlBuildError(
                    f"Cannot build a URL for unknown endpoint {endpoint!r}.{hint} "
                    "Endpoints are named 'ControllerClass.method_name'."
                ) from None
            rule = self.by_endpoint[endpoint].rule
            raise UrlBuildError(
                f"Cannot build a URL for {endpoint!r} ({rule}) with values {values!r}: {exc}"
            ) from None
        return script_name.rstrip("/") + url if script_name else url
