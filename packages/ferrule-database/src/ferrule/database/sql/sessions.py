"""``@db.managed_session`` and ``@db.readonly_session``: a session per handler call.

The decorator injects an ``AsyncSession`` into the handler parameter named by
the database's ``SESSION_NAME``. That parameter is hidden from the handler's
signature (``__signature__``), so the kernel's binding never sees it; every
parameter annotated ``AsyncSession`` is hidden, and the database's startup
checks that each one is filled by a decorator (a mismatch is a startup error).

The managed session commits *before* the handler's value is returned, so a
failed commit is an error response, never a 2xx for lost data.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

from sqlalchemy.ext.asyncio import AsyncSession

from ferrule.core import ImproperlyConfiguredError

from .._handlers import find_app, with_request

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from ferrule.core import App

    from .extension import SqlDatabase

__all__ = ("SESSION_DBS", "SESSION_PARAMS", "check_routes", "decorate")

F = TypeVar("F", bound=Callable[..., "Awaitable[Any]"])

#: Attributes set on decorated handlers: the hidden parameter names, and the
#: databases whose decorators wrap the handler (innermost first).
SESSION_PARAMS = "__ferrule_session_params__"
SESSION_DBS = "__ferrule_session_dbs__"
_SESSION_WORD = re.compile(r"\bAsyncSession\b")


def _is_session(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return bool(_SESSION_WORD.search(annotation))
    if isinstance(annotation, type):
        return issubclass(annotation, AsyncSession)
    origin = get_origin(annotation)
    if origin is typing.Annotated or origin is typing.Union or origin is types.UnionType:
        return any(_is_session(arg) for arg in get_args(annotation))
    return False


def decorate(db: SqlDatabase, fn: F, *, readonly: bool) -> F:
    """Wrap ``fn`` so it runs inside ``db.session_scope`` with the session injected."""
    kind = "readonly_session" if readonly else "managed_session"
    where = f"@{db.name}.{kind} on {getattr(fn, '__qualname__', fn)!r}"
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{where}: the handler must be an async function (async def).")
    signature = inspect.signature(fn)
    hidden: tuple[str, ...] = getattr(fn, SESSION_PARAMS, ())
    hidden += tuple(n for n, p in signature.parameters.items() if _is_session(p.annotation))
    if not hidden:
        raise ImproperlyConfiguredError(
            f"{where}: the handler has no parameter annotated AsyncSession. Add one, e.g. "
            f"`session: AsyncSession`, named like the database's SESSION_NAME."
        )
    params, added = with_request(
        [p for n, p in signature.parameters.items() if n not in hidden], where
    )

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = find_app(args, kwargs, added, where)
        name = db.settings(app).SESSION_NAME
        async with db.session_scope(app, readonly=readonly) as session:
            kwargs[name] = session
            return await fn(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    setattr(wrapper, SESSION_PARAMS, hidden)
    setattr(wrapper, SESSION_DBS, (*getattr(fn, SESSION_DBS, ()), db))
    return typing.cast("F", wrapper)


def check_routes(db: SqlDatabase, app: App) -> None:
    """Startup check: every hidden AsyncSession parameter is filled, by a registered db.

    Raises:
        ImproperlyConfiguredError: naming the route, the parameter and the setting.
    """
    for route in app.routes:
        handler = getattr(route.handler, "__func__", route.handler)
        dbs: tuple[SqlDatabase, ...] = getattr(handler, SESSION_DBS, ())
        if db not in dbs:
            continue
        hidden: tuple[str, ...] = getattr(handler, SESSION_PARAMS, ())
        injected: dict[str, SqlDatabase] = {}
        for other in dbs:
            state = app.extensions.get(other.name)
            if state is None or state.extension is not other:
                raise ImproperlyConfiguredError(
                    f"{route.endpoint}: uses @{other.name}.managed_session/readonly_session "
                    f"but that SqlDatabase is not registered on the app; list it in EXTENSIONS."
                )
            injected[other.settings(app).SESSION_NAME] = other
        for name, other in injected.items():
            if name not in hidden:
                raise ImproperlyConfiguredError(
                    f"{route.endpoint}: {other.config_key}.SESSION_NAME is {name!r} but the "
                    f"handler's AsyncSession parameters are {list(hidden)}. Rename the "
                    f"parameter to {name!r} or set {other.config_key}.SESSION_NAME."
                )
        for name in hidden:
            if name not in injected:
                raise ImproperlyConfiguredError(
                    f"{route.endpoint}: parameter {name!r} is annotated AsyncSession but no "
                    f"session decorator injects it (their SESSION_NAMEs: {sorted(injected)})."
                )
