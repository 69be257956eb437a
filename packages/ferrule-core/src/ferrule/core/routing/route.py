"""A compiled route: the handler plus everything needed to call it."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .._concurrency import run_sync
from ..di import RequestContext, solve
from ..exceptions import HTTPException
from ..responses import Response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pydantic import TypeAdapter
    from werkzeug.routing import Rule

    from ..app import App
    from ..binding import Dependant
    from ..controller import Controller, RouteSpec
    from ..cors import CorsPolicy
    from ..request import Request

__all__ = ("Hook", "Route")


class Hook:
    """A controller ``before_request``/``after_request`` method, pre-inspected."""

    __slots__ = ("fn", "is_async", "takes_request")

    def __init__(self, fn: Callable[..., Any], is_async: bool, takes_request: bool) -> None:
        self.fn = fn
        self.is_async = is_async
        self.takes_request = takes_request

    async def __call__(self, *args: Any) -> Any:
        if self.is_async:
            return await self.fn(*args)
        return await run_sync(self.fn, *args)


class Route:
    """One handler on one rule, compiled at startup."""

    __slots__ = (
        "after",
        "app",
        "bare",
        "before",
        "consumes",
        "controller",
        "cors",
        "dependant",
        "endpoint",
        "guards",
        "handler",
        "is_async",
        "meta",
        "methods",
        "model_serializer",
        "plain_result",
        "produces",
        "response_adapter",
        "response_model",
        "rule",
        "spec",
        "status_code",
        "tags",
        "werkzeug_rule",
    )

    def __init__(
        self,
        *,
        app: App,
        endpoint: str,
        rule: str,
        methods: tuple[str, ...],
        handler: Callable[..., Any],
        dependant: Dependant,
        is_async: bool,
        controller: Controller | None = None,
        spec: RouteSpec | None = None,
        meta: dict[str, Any] | None = None,
        response_model: Any = None,
        response_adapter: TypeAdapter[Any] | None = None,
        status_code: int = 200,
        before: tuple[Hook, ...] = (),
        after: tuple[Hook, ...] = (),
        tags: tuple[str, ...] = (),
        guards: tuple[Hook, ...] = (),
    ) -> None:
        self.app = app
        self.endpoint = endpoint
        self.rule = rule
        self.methods = methods
        self.handler = handler
        self.dependant = dependant
        self.is_async = is_async
        self.controller = controller
        self.spec = spec
        self.meta = meta or {}
        self.consumes: str | None = self.meta.get("consumes")
        self.produces: str | None = self.meta.get("produces")
        self.response_model = response_model
        self.response_adapter = response_adapter
        self.status_code = status_code
        self.guards = guards
        self.before = before
        self.after = after
        self.tags = tags
        self.werkzeug_rule: Rule | None = None
        self.cors: CorsPolicy | None = None
        # Nothing to run around the handler and nothing to bind: the kernel awaits
        # the handler itself instead of going through handle() (one frame less).
        self.bare: Callable[[], Awaitable[Any]] | None = (
            handler
            if is_async
            and self.consumes is None
            and not (guards or before or after)
            and not (dependant.params or dependant.dependencies or dependant.body_params)
            and not dependant.needs_context
            else None
        )
        # dict/list/str results can be sent without a Response object.
        self.plain_result = response_adapter is None and self.produces is None and not after
        # So can an instance of exactly the declared model: serialize straight to bytes.
        self.model_serializer: Any = None
        if (
            isinstance(response_model, type)
            and issubclass(response_model, BaseModel)
            and self.produces is None
            and not after
        ):
            self.model_serializer = response_model.__pydantic_serializer__

    @property
    def handler_name(self) -> str:
        fn = getattr(self.handler, "__func__", self.handler)
        return f"{fn.__module__}.{fn.__qualname__}"

    async def handle(self, req: Request) -> Any:
        """Run hooks, dependencies and the handler; return the handler's result."""
        if self.consumes is not None:
            ctype = req.content_type
            if ctype != self.consumes:
                raise HTTPException(
                    415,
                    f"Unsupported media type {ctype or '(none)'!r}: "
                    f"this endpoint consumes {self.consumes!r}.",
                )
        for check in self.guards:
            rejected = await check(req)
            if isinstance(rejected, Response):
                return rejected
        for hook in self.before:
            early = await hook(req)
            if isinstance(early, Response):
                return early
        dep = self.dependant
        if dep.needs_context:
            ctx = RequestContext()
            try:
                kwargs = await solve(dep, req, ctx, self.app)
                if self.is_async:
                    result = await self.handler(**kwargs)
                else:
                    result = await run_sync(functools.partial(self.handler, **kwargs))
            except BaseException as exc:
                await ctx.close(exc)
                raise
            await ctx.close(None)
        else:
            kwargs = await solve(dep, req, None, self.app) if dep.params else {}
            if self.is_async:
                result = await self.handler(**kwargs)
            else:
                result = await run_sync(functools.partial(self.handler, **kwargs))
        if self.after:
            response = self.to_response(req, result)
            for hook in self.after:
                replaced = await (hook(req, response) if hook.takes_request else hook(response))
                if isinstance(replaced, Response):
                    response = replaced
            return response
        return result

    def to_response(self, req: Request, result: Any) -> Response[Any]:
        """Wrap a handler's plain return value in a Response."""
        if isinstance(result, Response):
            return result
        if result is None:
            return req.response
        builder = req._response
        if builder is not None:
            # The handler set headers or cookies on req.response and returned a body:
            # keep both (status and headers from the builder, content from the result).
            builder.content = result
            return builder
        return Response(result, status_code=self.status_code)

    def __repr__(self) -> str:
        return f"<Route {'|'.join(self.methods)} {self.rule} -> {self.endpoint}>"
