"""``@nosqldb.managed_database``: inject the backend and a transaction session.

The parameter names come from ``DB_INJECT_NAME`` and ``SESSION_NAME``, known
only once the extension is initialised on an app. A handler decorated before
that gets a provisional signature (default names) that ``init_app`` replaces;
the injected parameters are hidden from the kernel through ``__signature__``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from typing import TYPE_CHECKING, Any, TypeVar

from ferrule.core import ImproperlyConfiguredError

from .._handlers import find_app, with_request

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .extension import NoSqlDatabase

__all__ = ("DEFAULT_NAMES", "bind_names", "decorate")

F = TypeVar("F", bound="Callable[..., Awaitable[Any]]")
DEFAULT_NAMES = ("db", "session")
_PLAN = "__ferrule_nosql_plan__"


def decorate(ext: NoSqlDatabase, fn: F) -> F:
    where = f"@{ext.name}.managed_database on {getattr(fn, '__qualname__', fn)!r}"
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{where}: the handler must be an async function (async def).")
    plan: dict[str, Any] = {"where": where}

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = find_app(args, kwargs, plan["added"], where)
        backend = ext.backend(app)
        db_name, session_name = plan["db"], plan["session"]
        kwargs[db_name] = backend

        async def call(*, session: Any) -> Any:
            if session_name is not None:
                kwargs[session_name] = session
            return await fn(*args, **kwargs)

        return await backend.with_transaction(call)

    setattr(wrapper, _PLAN, plan)
    bind_names(wrapper, ext.known_names or DEFAULT_NAMES, strict=ext.known_names is not None)
    return typing.cast("F", wrapper)


def bind_names(wrapper: Any, names: tuple[str, str], *, strict: bool) -> None:
    """Hide the parameters ``names`` = (DB_INJECT_NAME, SESSION_NAME) of ``wrapper``."""
    plan: dict[str, Any] = getattr(wrapper, _PLAN)
    signature = inspect.signature(wrapper.__wrapped__)
    db_name: str = names[0]
    session_name: str | None = names[1]
    if db_name not in signature.parameters:
        if strict:
            raise ImproperlyConfiguredError(
                f"{plan['where']}: the handler has no parameter {db_name!r} (DB_INJECT_NAME) "
                "to receive the database; add it or change DB_INJECT_NAME."
            )
        db_name = ""
    if session_name not in signature.parameters:
        session_name = None
    hidden = {db_name, session_name}
    params, added = with_request(
        [p for n, p in signature.parameters.items() if n not in hidden], plan["where"]
    )
    plan.update(db=db_name, session=session_name, added=added)
    wrapper.__signature__ = signature.replace(parameters=params)
