"""Health endpoints: ``/livez`` (the process answers) and ``/readyz`` (dependencies up).

Extensions contribute readiness checks with ``app.add_readiness_check(name, fn)``;
``fn`` is an async callable that raises (or returns False) when not ready. Checks
run concurrently with a timeout, so one hung dependency cannot hang the probe.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

from .responses import Response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .app import App

__all__ = ("install_health_routes",)

logger = logging.getLogger("ferrule.core.health")


async def _run_check(
    name: str, fn: Callable[[], Awaitable[Any]], limit: float, results: dict[str, str]
) -> None:
    try:
        with anyio.fail_after(limit):
            outcome = await fn()
    except TimeoutError:
        results[name] = f"timeout after {limit:g}s"
    except Exception as exc:
        logger.warning("Readiness check %r failed: %s", name, exc)
        results[name] = f"error: {type(exc).__name__}"
    else:
        results[name] = "ok" if outcome is not False else "not ready"


def install_health_routes(app: App) -> None:
    """Add ``/livez`` and ``/readyz`` (paths from ``LIVEZ_URL`` and ``READYZ_URL``)."""
    cfg = app.config

    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    async def readyz() -> Response[Any]:
        results: dict[str, str] = {}
        timeout = cfg.READINESS_TIMEOUT
        async with anyio.create_task_group() as tg:
            for name, fn in app.readiness_checks.items():
                tg.start_soon(_run_check, name, fn, timeout, results)
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ok" if ready else "unavailable", "checks": results}
        headers = None if ready else {"Retry-After": "5"}
        return Response(body, status_code=200 if ready else 503, headers=headers)

    livez.__qualname__ = "Health.livez"
    readyz.__qualname__ = "Health.readyz"
    app.add_route(cfg.LIVEZ_URL, livez, name="Health.livez", open_api_spec=False)
    app.add_route(cfg.READYZ_URL, readyz, name="Health.readyz", open_api_spec=False)
