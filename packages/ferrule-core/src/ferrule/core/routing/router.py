"""Match a path and method to a route: a dict for static rules, Werkzeug for the rest."""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BuildError, Map, RequestRedirect, Rule
from werkzeug.routing.converters import IntegerConverter, UnicodeConverter

from ..exceptions import FerruleError, HTTPException

if TYPE_CHECKING:
    from collections.abc import Callable

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
        self.dynamic = _dynamic_buckets(routes)
        # Paths that a static rule "<path>/" would redirect (checked without a concat).
        self._slash_static = frozenset(r[:-1] for r in self.static if r.endswith("/"))

    def match(
        self, path: str, method: str, query: bytes | str = b""
    ) -> tuple[Route, dict[str, Any]]:
        """Return ``(route, arguments)`` or raise the 404/405/308 error."""
        slot = self.static.get(path)
        if slot is not None:
            hit = slot.get(method)
            if hit is not None:
                return hit, {}
        fast = self._match_dynamic(path, method)
        if fast is not None:
            return fast
        try:
            qs = query.decode("latin-1") if isinstance(query, bytes) else query
            rule, args = self.adapter.match(path, method, return_rule=True, query_args=qs)
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

    def _match_dynamic(self, path: str, method: str) -> tuple[Route, dict[str, Any]] | None:
        """Match a rule with converters without Werkzeug's general matcher.

        Only answers when the outcome is certain: exactly one dynamic rule under
        the path's first static segment matches, the method is allowed, and no
        static rule needs a trailing-slash redirect. Anything else (errors,
        redirects, ambiguity) goes to Werkzeug, which stays the reference.
        """
        if path.endswith("/") or path in self._slash_static:
            return None
        candidates = self.dynamic.get(path[1:].partition("/")[0])
        if candidates is None:
            return None
        found: tuple[_Pattern, dict[str, Any]] | None = None
        for pattern in candidates:
            m = pattern.regex.fullmatch(path)
            if m is None:
                continue
            if found is not None:
                return None  # ambiguous: let Werkzeug apply its weights
            args: dict[str, Any] = {}
            try:
                for name, group, conv in pattern.converters:
                    args[name] = m[group] if conv is None else conv(m[group])
            except Exception:
                return None
            found = (pattern, args)
        if found is None:
            return None
        pattern, args = found
        route = pattern.methods.get(method)
        if route is None:
            return None
        return route, args

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


class _Pattern:
    """A full-path regex for one rule string, with its converters."""

    __slots__ = ("converters", "methods", "regex")

    def __init__(self, regex: re.Pattern[str], converters: list[tuple[str, str, Any]]) -> None:
        self.regex = regex
        self.converters = converters
        self.methods: dict[str, Route] = {}


def _dynamic_buckets(routes: list[Route]) -> dict[str, list[_Pattern]]:
    """Group rules with converters by their first static path segment."""
    by_rule: dict[str, _Pattern] = {}
    buckets: dict[str, list[_Pattern]] = {}
    for route in routes:
        wrule = route.werkzeug_rule
        if wrule is None or not wrule.arguments or wrule.defaults:
            continue
        first = route.rule[1:].partition("/")[0]
        if not first or "<" in first:
            continue
        pattern = by_rule.get(route.rule)
        if pattern is None:
            compiled = _compile(route.rule, wrule)
            if compiled is None:
                continue
            pattern = by_rule[route.rule] = compiled
            buckets.setdefault(first, []).append(pattern)
        for method in route.methods:
            pattern.methods.setdefault(method, route)
        if "GET" in route.methods:
            pattern.methods.setdefault("HEAD", route)
    return buckets


_ARG = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\((?:.*?)\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def _compile(rule: str, wrule: Rule) -> _Pattern | None:
    converters_by_name: dict[str, Any] = getattr(wrule, "_converters", {})
    parts: list[str] = []
    converters: list[tuple[str, str, Callable[[str], Any] | None]] = []
    pos = 0
    for i, m in enumerate(_ARG.finditer(rule)):
        name = m[1]
        conv = converters_by_name.get(name)
        if conv is None:
            return None
        parts.append(re.escape(rule[pos : m.start()]))
        group = f"g{i}"
        parts.append(f"(?P<{group}>{conv.regex})")
        converters.append((name, group, _to_python(conv)))
        pos = m.end()
    parts.append(re.escape(rule[pos:]))
    return _Pattern(re.compile("".join(parts)), converters)


def _to_python(conv: Any) -> Callable[[str], Any] | None:
    """The converter's ``to_python``, cheaper where the outcome is the same.

    A plain ``<int:...>`` (no fixed digits, min or max) is ``int`` itself, and a
    plain string segment needs no call at all (None): its ``to_python`` is the
    identity. Anything else keeps the converter's own method.
    """
    kind = type(conv)
    if kind is IntegerConverter and not conv.fixed_digits and conv.min is None and conv.max is None:
        return int
    if kind is UnicodeConverter:
        return None
    to_python: Callable[[str], Any] = conv.to_python
    return to_python
