"""Rate limiting: the ``RateLimit`` middleware and the per-route ``@rate_limit``.

Fixed-window counters on a :class:`~ferrule.core.stores.Store` (``incr`` is
atomic, so a shared store makes the limit shared by every worker). A request
over the limit gets 429 in the framework's error shape with ``Retry-After``;
every limited response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``
and ``X-RateLimit-Reset`` (seconds until the window resets).

Clients are told apart by ``key``: ``"ip"`` (default; ``X-Forwarded-For`` only
from ``TRUSTED_PROXIES``), ``"user"`` (``req.state.user``), ``"header:X-API-Key"``
or a callable ``(req) -> str | None`` (None: not limited).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import re
import time
import weakref
from typing import TYPE_CHECKING, Any, TypeVar

from .controller import get_meta, guard, set_meta
from .exceptions import HTTPException, ImproperlyConfiguredError
from .proxies import TrustedProxies
from .request import Request

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from .app import App
    from .responses import Response
    from .stores import Store
    from .types import ASGIApp, Message, Receive, Scope, Send

    KeyFunc = Callable[[Request], str | Awaitable[str | None] | None]

__all__ = ("Rate", "RateLimit", "parse_rate", "rate_limit")

logger = logging.getLogger("ferrule.core.ratelimit")

F = TypeVar("F", bound="Callable[..., Any]")

_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.I)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_proxies: weakref.WeakKeyDictionary[Any, TrustedProxies] = weakref.WeakKeyDictionary()


class Rate:
    """``limit`` requests per ``period`` seconds."""

    __slots__ = ("limit", "period")

    def __init__(self, limit: int, period: int) -> None:
        self.limit = limit
        self.period = period

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}s"

    def __repr__(self) -> str:
        return f"Rate({self.limit}, {self.period})"


def parse_rate(text: str) -> Rate:
    """Parse ``"100/minute"`` (units: second, minute, hour, day; ``"10/5minutes"`` too).

    Raises:
        ImproperlyConfiguredError: the string is not a rate.
    """
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None or int(match[1]) < 1:
        raise ImproperlyConfiguredError(
            f"Invalid rate limit {text!r}; write it as 'N/unit' with N >= 1 and unit one of "
            "second, minute, hour, day (e.g. '100/minute', '5/10seconds')."
        )
    return Rate(int(match[1]), int(match[2] or 1) * _UNITS[match[3].lower()])


def _trusted(app: App) -> TrustedProxies:
    proxies = _proxies.get(app)
    if proxies is None:
        proxies = _proxies[app] = TrustedProxies(app.config.get("TRUSTED_PROXIES") or ())
    return proxies


def client_ip(req: Request) -> str:
    """The client's address, believing forwarded headers only from trusted proxies."""
    return _trusted(req.app).client_host(req.scope) or "unknown"


def _user_ident(req: Request) -> str | None:
    user = getattr(req.state, "user", None)
    if user is None:
        user = req.scope.get("user")
    if user is None:
        return None
    ident = getattr(user, "id", None)
    return str(user if ident is None else ident)


def _key_func(key: str | KeyFunc) -> Callable[[Request], Awaitable[str | None]]:
    """Turn the ``key`` option into ``async (req) -> identity or None``."""
    if callable(key):
        fn = key

        async def custom(req: Request) -> str | None:
            value = fn(req)
            if inspect.isawaitable(value):
                value = await value
            return None if value is None else "custom:" + str(value)

        return custom
    if key == "ip":

        async def by_ip(req: Request) -> str | None:
            return "ip:" + client_ip(req)

        return by_ip
    if key == "user":

        async def by_user(req: Request) -> str | None:
            user = _user_ident(req)
            return "ip:" + client_ip(req) if user is None else "user:" + user

        return by_user
    if isinstance(key, str) and key.lower().startswith("header:") and key[7:].strip():
        header = key[7:].strip().lower()

        async def by_header(req: Request) -> str | None:
            value = req.headers.get(header)
            if not value:
                return "ip:" + client_ip(req)
            # Hashed: API keys are secrets and must not sit in a shared store.
            return "key:" + hashlib.sha256(value.encode()).hexdigest()[:32]

        return by_header
    raise ImproperlyConfiguredError(
        f"Invalid rate limit key {key!r}; use 'ip', 'user', 'header:<Header-Name>' or a "
        "callable (req) -> str | None."
    )


class _Limiter:
    """One limit: counts hits per identity in fixed windows on a store."""

    def __init__(
        self,
        rate: Rate,
        key: str | KeyFunc,
        *,
        store: Store | str,
        clock: Callable[[], float],
        fail_open: bool,
    ) -> None:
        self.rate = rate
        self.by_ip = key == "ip"
        self.identify = _key_func(key)
        self.store = store
        self.clock = clock
        self.fail_open = fail_open

    async def hit(self, app: App, ident: str, scope_name: str) -> tuple[int, int] | None:
        """Count one request of ``ident``: ``(remaining, reset)``; None when the store
        failed open; a 429 ``HTTPException`` when over the limit."""
        rate = self.rate
        now = self.clock()
        window = int(now // rate.period)
        reset = max(1, math.ceil((window + 1) * rate.period - now))
        store = self.store if not isinstance(self.store, str) else app.stores.get(self.store)
        try:
            count = await store.incr(
                f"ratelimit:{scope_name}:{rate.limit}/{rate.period}s:{ident}:{window}",
                1,
                expires_in=rate.period,
            )
        except Exception as exc:
            if self.fail_open:
                logger.error("Rate limit store failed, request let through: %r", exc)
                return None
            logger.error("Rate limit store failed, request refused: %r", exc)
            raise HTTPException(503, "Rate limiting is unavailable", {"Retry-After": "5"}) from exc
        if count > rate.limit:
            headers = self.headers(0, reset)
            headers["Retry-After"] = str(reset)
            raise HTTPException(
                429,
                f"Rate limit exceeded: {rate.limit} requests per {rate.period} seconds. "
                f"Retry after {reset} seconds.",
                headers,
            )
        return rate.limit - count, reset

    def headers(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }


def _find_app(inner: Any) -> App | None:
    """The Ferrule app at the bottom of a middleware chain (``.app`` links)."""
    from .app import App

    for _ in range(64):
        if isinstance(inner, App):
            return inner
        owner = getattr(inner, "__self__", None)
        if isinstance(owner, App):
            return owner
        inner = getattr(inner, "app", None)
        if inner is None:
            return None
    return None


class RateLimit:
    """ASGI middleware limiting every request of the app (per client, per window).

    Args:
        app: the wrapped ASGI app (given by the framework).
        limit: the rate, e.g. ``"100/minute"``.
        key: ``"ip"``, ``"user"``, ``"header:X-API-Key"`` or ``(req) -> str | None``.
        store: a :class:`Store` or the name of one in ``app.stores``.
        clock: seconds since the epoch (tests inject a fake clock).
        fail_open: when the store fails, let requests through (logged) instead of 503.
        exempt_paths: paths never limited; default the health endpoints.

    Example:
        >>> app.add_middleware(RateLimit, limit="100/minute", key="header:X-API-Key")
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: str = "100/minute",
        *,
        key: str | KeyFunc = "ip",
        store: Store | str = "rate_limit",
        clock: Callable[[], float] = time.time,
        fail_open: bool = True,
        exempt_paths: Iterable[str] | None = None,
        ferrule_app: App | None = None,
    ) -> None:
        self.app = app
        self._limiter = _Limiter(
            parse_rate(limit), key, store=store, clock=clock, fail_open=fail_open
        )
        found = ferrule_app or _find_app(app)
        if found is None:
            raise ImproperlyConfiguredError(
                "RateLimit could not find the Ferrule app it wraps (a middleware between "
                "them does not keep it as .app); pass ferrule_app=app."
            )
        self._ferrule = found
        self._proxies = _trusted(found)
        self._limit = b"%d" % self._limiter.rate.limit
        if exempt_paths is None:
            cfg = found.config
            exempt_paths = (cfg.LIVEZ_URL, cfg.READYZ_URL) if cfg.HEALTH_ENDPOINTS else ()
        self._exempt = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self.app(scope, receive, send)
            return
        limiter = self._limiter
        ident: str | None
        if limiter.by_ip:  # the common case, without building a Request
            ident = "ip:" + (self._proxies.client_host(scope) or "unknown")
        else:
            ident = await limiter.identify(Request(scope, receive, self._ferrule))
        # Over the limit raises a 429 HTTPException: the kernel's middleware guard
        # renders it through the exception handlers, in the single error shape.
        outcome = None if ident is None else await limiter.hit(self._ferrule, ident, "global")
        if outcome is None:
            await self.app(scope, receive, send)
            return
        extra = [
            (b"x-ratelimit-limit", self._limit),
            (b"x-ratelimit-remaining", b"%d" % outcome[0]),
            (b"x-ratelimit-reset", b"%d" % outcome[1]),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_STATE_KEY = "ferrule_rate_limit"


async def _add_headers(req: Request, res: Response[Any]) -> None:
    found: tuple[int, int, _Limiter] | None = getattr(req.state, _STATE_KEY, None)
    if found is not None:
        remaining, reset, limiter = found
        res.headers.update(limiter.headers(remaining, reset))


def rate_limit(
    limit: str,
    key: str | KeyFunc = "ip",
    *,
    store: Store | str = "rate_limit",
    clock: Callable[[], float] = time.time,
    fail_open: bool = True,
) -> Callable[[F], F]:
    """Limit one route (a guard): ``@rate_limit("5/minute", key="ip")``.

    Arguments as for :class:`RateLimit`. The counter is per route and per rate,
    separate from the global middleware's. Decorators run in the order written,
    so put ``@rate_limit(key="user")`` below the guard that sets ``req.state.user``.
    Stacked limits report the one with the fewest requests left.
    """
    limiter = _Limiter(parse_rate(limit), key, store=store, clock=clock, fail_open=fail_open)

    async def check(req: Request) -> None:
        ident = await limiter.identify(req)
        if ident is None:
            return
        endpoint = req.route.endpoint if req.route is not None else req.path
        outcome = await limiter.hit(req.app, ident, endpoint)
        if outcome is not None:
            current = getattr(req.state, _STATE_KEY, None)
            if current is None or outcome[0] < current[0]:
                setattr(req.state, _STATE_KEY, (*outcome, limiter))

    def decorator(fn: F) -> F:
        if isinstance(fn, type):
            raise TypeError(
                "@rate_limit decorates route handlers; for every route use the RateLimit "
                "middleware."
            )
        guard(check)(fn)
        hooks = tuple(get_meta(fn).get("after_hooks", ()))
        if _add_headers not in hooks:
            set_meta(fn, "after_hooks", (*hooks, _add_headers))
        return fn

    return decorator
