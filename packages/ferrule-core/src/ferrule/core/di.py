"""Running compiled dependants: dependency caching, overrides and teardown."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ._concurrency import run_sync
from .binding import ParamError, read_body_params
from .exceptions import RequestValidationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .app import App
    from .binding import Dependant
    from .request import Request

__all__ = ("RequestContext", "solve")


class RequestContext:
    """Per-request dependency cache and the teardowns of generator providers."""

    __slots__ = ("cache", "exits")

    def __init__(self) -> None:
        self.cache: dict[Callable[..., Any], Any] = {}
        self.exits: list[Any] = []

    async def close(self, exc: BaseException | None) -> None:
        """Finish generator providers in reverse order, giving them ``exc``."""
        exits, self.exits = self.exits, []
        error = exc
        for gen in reversed(exits):
            try:
                if hasattr(gen, "__anext__"):
                    if error is None:
                        await gen.__anext__()
                    else:
                        await gen.athrow(error)
                elif not await run_sync(_advance, gen, error):
                    continue
            except StopAsyncIteration:
                continue
            except BaseException as raised:
                if raised is error:
                    continue
                error = raised
                continue
            else:
                msg = f"Dependency generator {gen!r} yielded more than once."
                error = RuntimeError(msg)
        if error is not None and error is not exc:
            raise error


async def solve(
    dep: Dependant, req: Request, ctx: RequestContext | None, app: App
) -> dict[str, Any]:
    """Resolve the keyword arguments of ``dep`` for this request.

    Collects every parameter error and raises one ``RequestValidationError``.
    """
    kwargs: dict[str, Any] = {}
    errors: list[dict[str, Any]] | None = None
    for name, extract in dep.sync_extractors:
        try:
            kwargs[name] = extract(req)
        except ParamError as exc:
            if errors is None:
                errors = []
            errors.extend(exc.items)
    if dep.dependencies:
        assert ctx is not None  # needs_context is set whenever there are dependencies
        overrides = app.dependency_overrides
        for name, sub, use_cache in dep.dependencies:
            try:
                kwargs[name] = await _call_dependency(sub, req, ctx, app, overrides, use_cache)
            except ParamError as exc:
                if errors is None:
                    errors = []
                errors.extend(exc.items)
            except RequestValidationError as exc:
                if errors is None:
                    errors = []
                errors.extend(exc.error_items)
    if dep.body_params:
        try:
            await read_body_params(dep, req, kwargs)
        except ParamError as exc:
            if errors is None:
                errors = []
            errors.extend(exc.items)
    if errors:
        raise RequestValidationError(errors)
    return kwargs


async def _call_dependency(
    sub: Dependant,
    req: Request,
    ctx: RequestContext,
    app: App,
    overrides: dict[Callable[..., Any], Callable[..., Any]],
    use_cache: bool,
) -> Any:
    provider = sub.call
    if overrides:
        replacement = overrides.get(provider)
        if replacement is not None:
            sub = app.compiled_override(replacement)
    key = sub.call
    if use_cache and key in ctx.cache:
        return ctx.cache[key]
    kwargs = await solve(sub, req, ctx, app)
    call = sub.call
    if sub.is_async_gen:
        gen = call(**kwargs)
        value = await gen.__anext__()
        ctx.exits.append(gen)
    elif sub.is_gen:
        gen = await run_sync(functools.partial(call, **kwargs))
        value = await run_sync(_first, gen)
        ctx.exits.append(gen)
    elif sub.is_async:
        value = await call(**kwargs)
    else:
        value = await run_sync(functools.partial(call, **kwargs))
    if use_cache:
        ctx.cache[key] = value
    return value


def _first(gen: Any) -> Any:
    try:
        return next(gen)
    except StopIteration:
        raise RuntimeError(f"Dependency generator {gen!r} did not yield a value.") from None


def _advance(gen: Any, error: BaseException | None) -> bool:
    """Resume a sync generator after the handler; True if it yielded again."""
    try:
        if error is None:
            next(gen)
        else:
            gen.throw(error)
    except StopIteration:
        return False
    return True
