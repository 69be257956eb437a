"""Shared machinery of the handler decorators: finding the app of a call.

A decorator's wrapper is called by the kernel with keyword arguments: a
controller method gets its controller first (``self.app``), a plain function
route has to receive the ``Request``. When it declares none, the wrapper asks
the kernel for one under the name ``request`` (bound without annotation) and
drops it before calling the handler.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

from ferrule.core import Controller, ImproperlyConfiguredError, Request

if TYPE_CHECKING:
    from ferrule.core import App

__all__ = ("HIDDEN_REQUEST", "find_app", "with_request")

HIDDEN_REQUEST = "request"
_REQUEST_WORD = re.compile(r"\bRequest\b")


def _is_request(param: inspect.Parameter) -> bool:
    ann = param.annotation
    if ann is inspect.Parameter.empty:
        return param.name in ("req", "request")
    if isinstance(ann, str):
        return bool(_REQUEST_WORD.search(ann))
    return isinstance(ann, type) and issubclass(ann, Request)


def with_request(
    params: list[inspect.Parameter], where: str
) -> tuple[list[inspect.Parameter], bool]:
    """``params`` plus a hidden ``request`` when the wrapper cannot find the app otherwise."""
    is_method = bool(params) and params[0].name == "self"
    if is_method or any(_is_request(p) for p in params):
        return params, False
    if any(p.name == HIDDEN_REQUEST for p in params):
        raise ImproperlyConfiguredError(
            f"{where}: annotate the parameter 'request' as ferrule.core.Request."
        )
    hidden = inspect.Parameter(HIDDEN_REQUEST, inspect.Parameter.KEYWORD_ONLY)
    cut = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
    return [*params[:cut], hidden, *params[cut:]], True


def find_app(args: tuple[Any, ...], kwargs: dict[str, Any], added: bool, where: str) -> App:
    """The app of this call; pops the hidden request if the wrapper ``added`` it."""
    if added:
        request: Request = kwargs.pop(HIDDEN_REQUEST)
        return request.app
    if args and isinstance(args[0], Controller):
        return args[0].app
    for value in kwargs.values():
        if isinstance(value, Request):
            return value.app
    raise ImproperlyConfiguredError(
        f"{where}: cannot tell which app is calling; the handler must be a controller "
        "method or receive the Request."
    )
