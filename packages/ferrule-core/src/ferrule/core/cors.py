"""Cross-Origin Resource Sharing: a global policy and per-route overrides.

Off unless ``CORS_ENABLED`` is set (DESIGN.md §5). The kernel applies the policy
of the matched route (``@cors(...)`` / ``@no_cors``) or the global one; there is
no extra middleware layer, and requests without an ``Origin`` header pay one
``None`` check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .controller import set_meta
from .exceptions import ImproperlyConfiguredError

__all__ = ("CorsPolicy", "cors", "no_cors")

F = TypeVar("F", bound=Callable[..., Any])
_SIMPLE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_CACHE_LIMIT = 256


class CorsPolicy:
    """One CORS policy, with the response headers precomputed per origin."""

    __slots__ = (
        "_allowed_cache",
        "_any_header",
        "_any_origin",
        "_headers",
        "_methods",
        "_origins",
        "_preflight_base",
        "_simple_base",
        "allow_credentials",
        "allow_headers",
        "allow_methods",
        "allow_origins",
        "expose_headers",
        "max_age",
    )

    def __init__(
        self,
        *,
        allow_origins: Iterable[str] = (),
        allow_methods: Iterable[str] = _SIMPLE_METHODS,
        allow_headers: Iterable[str] = ("Authorization", "Content-Type"),
        expose_headers: Iterable[str] = (),
        allow_credentials: bool = False,
        max_age: int | None = 600,
        where: str = "CORS_ALLOW_ORIGINS",
    ) -> None:
        self.allow_origins = [o.rstrip("/") for o in allow_origins]
        self.allow_methods = [m.upper() for m in allow_methods]
        self.allow_headers = list(allow_headers)
        self.expose_headers = list(expose_headers)
        self.allow_credentials = allow_credentials
        self.max_age = max_age
        self._any_origin = "*" in self.allow_origins
        if self._any_origin and allow_credentials:
            raise ImproperlyConfiguredError(
                f"{where} contains '*' while credentials are allowed: browsers refuse this "
                "and it would let any site make credentialed requests. List the trusted "
                "origins explicitly (e.g. ['https://app.example.com']) or turn "
                "CORS_ALLOW_CREDENTIALS off."
            )
        self._origins = {o.lower() for o in self.allow_origins}
        self._methods = set(self.allow_methods)
        self._any_header = "*" in self.allow_headers
        self._headers = {h.lower() for h in self.allow_headers}
        self._allowed_cache: dict[bytes, list[tuple[bytes, bytes]] | None] = {}
        simple: list[tuple[bytes, bytes]] = []
        if allow_credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if self.expose_headers:
            simple.append(
                (b"access-control-expose-headers", ", ".join(self.expose_headers).encode())
            )
        self._simple_base = simple
        preflight = [
            (b"access-control-allow-methods", ", ".join(self.allow_methods).encode()),
        ]
        if allow_credentials:
            preflight.append((b"access-control-allow-credentials", b"true"))
        if max_age is not None:
            preflight.append((b"access-control-max-age", str(max_age).encode()))
        self._preflight_base = preflight

    def headers_for(self, origin: bytes) -> list[tuple[bytes, bytes]] | None:
        """Headers for an actual request from ``origin``; None if not allowed."""
        try:
            return self._allowed_cache[origin]
        except KeyError:
            pass
        allowed = self._any_origin or origin.decode("latin-1").lower() in self._origins
        result: list[tuple[bytes, bytes]] | None = None
        if allowed:
            value = b"*" if self._any_origin and not self.allow_credentials else origin
            result = [(b"access-control-allow-origin", value), *self._simple_base]
            if value != b"*":
                result.append((b"vary", b"Origin"))
        if len(self._allowed_cache) >= _CACHE_LIMIT:
            self._allowed_cache.clear()
        self._allowed_cache[origin] = result
        return result

    def preflight(
        self, origin: bytes, method: str, request_headers: str
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Answer a preflight: ``(status, headers)``; 403 when anything is refused."""
        vary = [(b"vary", b"Origin")]
        base = self.headers_for(origin)
        if base is None or method.upper() not in self._methods:
            return 403, vary
        requested = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
        if not self._any_header and any(h not in self._headers for h in requested):
            return 403, vary
        allow_origin = [h for h in base if h[0] != b"vary"]
        allow_headers = (
            request_headers.encode("latin-1")
            if self._any_header and requested
            else ", ".join(self.allow_headers).encode("latin-1")
        )
        headers = [
            *allow_origin,
            *self._preflight_base,
            (b"access-control-allow-headers", allow_headers),
            *vary,
        ]
        # Credentials appear in both bases; keep one.
        return 204, list(dict.fromkeys(headers))


def cors(
    *,
    allow_origins: list[str] | None = None,
    allow_methods: list[str] | None = None,
    allow_headers: list[str] | None = None,
    expose_headers: list[str] | None = None,
    allow_credentials: bool | None = None,
    max_age: int | None = None,
) -> Callable[[F], F]:
    """Give a route its own CORS policy; unset options fall back to the global config."""

    def decorator(fn: F) -> F:
        options = {
            "allow_origins": allow_origins,
            "allow_methods": allow_methods,
            "allow_headers": allow_headers,
            "expose_headers": expose_headers,
            "allow_credentials": allow_credentials,
            "max_age": max_age,
        }
        set_meta(fn, "cors", {k: v for k, v in options.items() if v is not None})
        return fn

    return decorator


def no_cors(fn: F) -> F:
    """Never send CORS headers for this route, whatever the global policy."""
    set_meta(fn, "cors", False)
    return fn


def policy_from_config(config: Any, overrides: dict[str, Any] | None = None) -> CorsPolicy:
    """Build a policy from ``CORS_*`` config keys, with route overrides applied."""
    options: dict[str, Any] = {
        "allow_origins": config.CORS_ALLOW_ORIGINS,
        "allow_methods": config.CORS_ALLOW_METHODS,
        "allow_headers": config.CORS_ALLOW_HEADERS,
        "expose_headers": config.CORS_EXPOSE_HEADERS,
        "allow_credentials": config.CORS_ALLOW_CREDENTIALS,
        "max_age": config.CORS_MAX_AGE,
    }
    options.update(overrides or {})
    where = "@cors(allow_origins=...)" if overrides else "CORS_ALLOW_ORIGINS"
    return CorsPolicy(**options, where=where)
