"""The application: configuration, registration, lifespan and the ASGI entry point."""

from __future__ import annotations

import contextlib
import itertools
import logging
from typing import TYPE_CHECKING, Any, ClassVar

from . import _gc
from ._kernel import HttpKernel
from .binding import compile_dependant
from .composition import apply_prefixes
from .config import BaseConfig, load_config
from .controller import Controller
from .cors import CorsPolicy, policy_from_config
from .datastructures import State
from .exception_handlers import ExceptionHandlerRegistry
from .exceptions import FerruleError, ImproperlyConfiguredError
from .extensions import Extension
from .health import install_health_routes
from .hosts import HostValidator
from .importing import import_string
from .lifespan import HookList, collect_marked
from .logging import configure_logging
from .middleware.stack import build_entry
from .plugins import load_plugin
from .routing.compiler import compile_controller, compile_function
from .routing.router import Router
from .routing.sockets import build_socket_router, compile_sockets
from .services import ServiceRegistry
from .stores import StoreRegistry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping

    from .binding import Dependant
    from .routing.route import Route
    from .routing.sockets import SocketRoute, SocketRouter
    from .types import ASGIApp, Receive, Send

__all__ = ("App",)

logger = logging.getLogger("ferrule.core")


class App(HttpKernel):
    """A Ferrule application: an ASGI 3 callable.

    Args:
        config: a ``BaseConfig`` subclass or instance, or a mapping of settings.
            Defaults to the class attribute ``config_class``.
        controllers: controller classes (added after those in ``CONTROLLERS``).
        extensions: extension objects (after those in ``EXTENSIONS``).
        middleware: ASGI middleware classes or factories; first listed = outermost.
        exception_handlers: ``ExceptionHandler`` classes.
        cli_controllers: ``CLIController`` classes for ``ferrule cli``.

    Example:
        >>> class Application(App):
        ...     config_class = Config
        ...
        ...     @on_startup
        ...     async def connect(self) -> None: ...
    """

    config_class: ClassVar[type[BaseConfig] | BaseConfig | None] = None

    def __init__(
        self,
        config: BaseConfig | type[BaseConfig] | Mapping[str, Any] | None = None,
        *,
        controllers: Iterable[type[Controller] | Controller] = (),
        extensions: Iterable[Extension] = (),
        middleware: Iterable[Any] = (),
        exception_handlers: Iterable[Any] = (),
        cli_controllers: Iterable[Any] = (),
    ) -> None:
        self.config: BaseConfig = load_config(config if config is not None else self.config_class)
        self.extensions: dict[str, Any] = {}
        self.services = ServiceRegistry()
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.state = State()
        self.template_dirs: list[str] = []
        self._controllers: list[type[Controller] | Controller] = []
        self.cli_controllers: list[Any] = []
        self._function_routes: list[
            tuple[Callable[..., Any], str, tuple[str, ...], dict[str, Any]]
        ] = []
        self._extension_list: list[Extension] = []
        self._middleware: list[Any] = []
        self._mounts: list[tuple[str, ASGIApp]] = []
        self._route_groups: dict[Any, str] = {}  # App.include: controller -> prefix
        self._startup_hooks = HookList()
        self._shutdown_hooks = HookList()
        self._errors = ExceptionHandlerRegistry(self)
        self._router: Router | None = None
        self._sockets: SocketRouter | None = None  # @socket routes (websockets)
        self._entry: ASGIApp | None = None
        self._host_ok: HostValidator | None = None
        self._cors: CorsPolicy | None = None
        self._override_cache: dict[Callable[..., Any], Dependant] = {}
        self.readiness_checks: dict[str, Callable[[], Any]] = {}
        #: OpenAPI security schemes by name; extensions (auth) add theirs in init_app.
        self.openapi_security_schemes: dict[str, dict[str, Any]] = {}
        #: Named key-value stores (sessions, rate limits); MemoryStore unless registered.
        self.stores = StoreRegistry()
        self.log_handlers: list[logging.Handler] = []
        #: Re-raise unhandled exceptions after answering 500 (the test client sets it).
        self.propagate_exceptions = False
        self._started = False
        self._gc_tuned = False
        self._rid_counter = itertools.count(1)
        self._access_log = self.config.ACCESS_LOG
        self._max_body = self.config.MAX_BODY_SIZE
        rid = self.config.REQUEST_ID_HEADER
        self._rid_key: bytes | None = rid.lower().encode("latin-1") if rid else None

        self.services.register(self, as_type=App)
        self.services.register(self.config, as_type=BaseConfig)
        if type(self) is not App:
            self.services.register(self, as_type=type(self))
        if type(self.config) is not BaseConfig:
            self.services.register(self.config, as_type=type(self.config))

        for fn, priority in collect_marked(self, "__ferrule_on_startup__"):
            self._startup_hooks.add(fn, priority)
        for fn, priority in collect_marked(self, "__ferrule_on_shutdown__"):
            self._shutdown_hooks.add(fn, priority)

        cfg = self.config
        if cfg.HEALTH_ENDPOINTS:
            install_health_routes(self)
        if cfg.SESSION_BACKEND is not None:
            from .sessions import install_sessions

            install_sessions(self)
        if cfg.STATIC_DIR:
            from .staticfiles import install_static_files

            install_static_files(self)
        if cfg.OPEN_API or (cfg.OPEN_API is None and cfg.DEBUG):
            from .openapi import install_openapi

            install_openapi(self)
        for target in cfg.EXTENSIONS:
            self.register_extension(import_string(target, setting="EXTENSIONS"))
        for ext in extensions:
            self.register_extension(ext)
        if cfg.TEMPLATES_DIR or self.template_dirs:
            from .templates import install_templates

            install_templates(self)
        for target in cfg.CONTROLLERS:
            self.register_controller(import_string(target, setting="CONTROLLERS"))
        for ctrl in controllers:
            self.register_controller(ctrl)
        for target in cfg.EXCEPTION_HANDLERS:
            self.register_exception_handler(import_string(target, setting="EXCEPTION_HANDLERS"))
        for handler in exception_handlers:
            self.register_exception_handler(handler)
        for target in cfg.CLI_CONTROLLERS:
            self.register_cli_controller(import_string(target, setting="CLI_CONTROLLERS"))
        for cli_ctrl in cli_controllers:
            self.register_cli_controller(cli_ctrl)
        for target in cfg.MIDDLEWARE:
            self.add_middleware(import_string(target, setting="MIDDLEWARE"))
        for mw in middleware:
            self.add_middleware(mw)

    # -- registration ------------------------------------------------------------

    def _check_open(self, what: str) -> None:
        if self._router is not None:
            raise FerruleError(
                f"Cannot {what} after the application started serving; register everything "
                "before the first request (in __init__, an extension's init_app, or config)."
            )

    def register_controller(self, controller: type[Controller] | Controller) -> None:
        """Add a controller class (instantiated once with this app) or instance."""
        self._check_open("register a controller")
        ok = isinstance(controller, Controller) or (
            isinstance(controller, type) and issubclass(controller, Controller)
        )
        if not ok:
            raise ImproperlyConfiguredError(
                f"{controller!r} is not a Controller subclass. Controllers listed in "
                "CONTROLLERS or App(controllers=...) must subclass ferrule.core.Controller."
            )
        self._controllers.append(controller)

    def register_cli_controller(self, controller: Any) -> None:
        """Add a ``CLIController`` class (or instance) for ``ferrule cli``."""
        from .cli_controller import CLIController

        ok = isinstance(controller, CLIController) or (
            isinstance(controller, type) and issubclass(controller, CLIController)
        )
        if not ok:
            raise ImproperlyConfiguredError(
                f"{controller!r} in CLI_CONTROLLERS is not a CLIController subclass "
                "(from ferrule.core import CLIController)."
            )
        self.cli_controllers.append(controller)

    def run_cli(self, args: list[str] | None = None) -> None:
        """Run a ``CLIController`` command from ``sys.argv`` (for a seed-style cli.py)."""
        from .cli_controller import run_cli

        run_cli(self, args)

    @property
    def extension_list(self) -> list[Extension]:
        """Registered extensions, in registration order."""
        return list(self._extension_list)

    def add_route(
        self,
        rule: str,
        handler: Callable[..., Any],
        methods: Iterable[str] = ("GET",),
        *,
        name: str | None = None,
        **meta: Any,
    ) -> None:
        """Route a plain function (outside any controller)."""
        self._check_open("add a route")
        if name:
            meta["name"] = name
        self._function_routes.append((handler, rule, tuple(methods), meta))

    def register_extension(self, extension: Extension) -> None:
        """Initialise an extension on this app (calls its ``init_app``)."""
        self._check_open("register an extension")
        if isinstance(extension, type):
            raise ImproperlyConfiguredError(
                f"{extension.__qualname__} in EXTENSIONS is a class; list an instance instead "
                f"(e.g. db = {extension.__qualname__}() in app/extensions.py)."
            )
        if not isinstance(extension, Extension):
            raise ImproperlyConfiguredError(
                f"{extension!r} in EXTENSIONS is not a ferrule.core.Extension instance."
            )
        if extension.name in self.extensions:
            raise ImproperlyConfiguredError(
                f"Two extensions are named {extension.name!r}; give one another name "
                "(e.g. SqlDatabase(db_name='analytics', configs_name='ANALYTICS_DB'))."
            )
        extension.init_app(self)
        if extension.name not in self.extensions:
            raise ImproperlyConfiguredError(
                f"{type(extension).__name__}.init_app did not call super().init_app(app)."
            )
        self._extension_list.append(extension)
        self.services.register(extension)

    def register_exception_handler(self, handler: Any) -> None:
        """Add an ``ExceptionHandler`` class or instance."""
        self._errors.add_handler_object(handler)

    def add_exception_handler(self, exc_type: type[BaseException], fn: Callable[..., Any]) -> None:
        """Handle ``exc_type`` with ``fn(req, exc) -> Response``."""
        self._errors.add(exc_type, fn)

    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Serve another ASGI app under ``prefix`` (``app.mount("/legacy", other)``).

        The mounted app sees the full ``path`` and ``root_path`` extended by the
        prefix (the ASGI convention Starlette and Ferrule strip themselves).
        Lifespan events are not forwarded: start what the mounted app needs in a
        startup hook.
        """
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ImproperlyConfiguredError(
                f"Mount prefix {prefix!r} must start with '/' and not end with '/' "
                "(e.g. '/legacy')."
            )
        if not callable(app):
            raise ImproperlyConfiguredError(f"Mounted app {app!r} is not an ASGI callable.")
        self._check_open("mount an app")
        self._mounts.append((prefix, app))
        self._mounts.sort(key=lambda item: len(item[0]), reverse=True)

    def mount_wsgi(self, prefix: str, wsgi_app: Any) -> None:
        """Serve a WSGI app (Flask, Django...) under ``prefix`` through a2wsgi.

        Needs ``pip install 'ferrule-core[wsgi]'``; the WSGI app runs in a thread pool.
        """
        from .composition import wsgi_app as wrap

        self.mount(prefix, wrap(wsgi_app))

    def include(self, prefix: str, controllers: Iterable[type[Controller] | Controller]) -> None:
        """Register ``controllers`` with every rule under ``prefix`` (a route group).

        Example:
            >>> app.include("/admin", controllers=[UsersAdmin, AuditAdmin])
        """
        from .composition import include

        self._check_open("include controllers")
        include(self, prefix, controllers)

    def add_readiness_check(self, name: str, check: Callable[[], Any]) -> None:
        """Make ``/readyz`` await ``check()``; it fails the probe by raising or returning False."""
        if name in self.readiness_checks:
            raise ImproperlyConfiguredError(f"A readiness check named {name!r} already exists.")
        self.readiness_checks[name] = check

    def add_middleware(self, middleware: Any, **options: Any) -> None:
        """Wrap the app in an ASGI middleware (``middleware(app, **options)``) or MiddlewareBase.

        Middleware added first is the outermost.
        """
        self._check_open("add middleware")
        if not callable(middleware):
            raise ImproperlyConfiguredError(f"Middleware {middleware!r} is not callable.")
        self._middleware.append((middleware, options))

    def on_startup(self, fn: Callable[..., Any] | None = None, *, priority: int = 0) -> Any:
        """Register a startup hook (also usable as ``@app.on_startup``)."""
        if fn is None:
            return lambda f: self.on_startup(f, priority=priority)
        self._startup_hooks.add(fn, priority)
        return fn

    def on_shutdown(self, fn: Callable[..., Any] | None = None, *, priority: int = 0) -> Any:
        """Register a shutdown hook (also usable as ``@app.on_shutdown``)."""
        if fn is None:
            return lambda f: self.on_shutdown(f, priority=priority)
        self._shutdown_hooks.add(fn, priority)
        return fn

    # -- compiled state ----------------------------------------------------------

    def _freeze(self) -> None:
        if self._router is not None:
            return
        routes: list[Route] = []
        sockets: list[SocketRoute] = []
        for ctrl in self._controllers:
            instance = ctrl(self) if isinstance(ctrl, type) else ctrl
            routes.extend(compile_controller(self, instance))
            sockets.extend(compile_sockets(self, instance))
        for fn, rule, methods, meta in self._function_routes:
            options = dict(meta)
            name = options.pop("name", None)
            status_code = options.pop("status_code", 200)
            tags = tuple(options.pop("tags", ()))
            routes.append(
                compile_function(
                    self,
                    fn,
                    rule,
                    methods,
                    name=name,
                    status_code=status_code,
                    tags=tags,
                    meta=options,
                )
            )
        self._host_ok = HostValidator(self.config.ALLOWED_HOSTS)
        self._cors = policy_from_config(self.config) if self.config.CORS_ENABLED else None
        for route in routes:
            option = route.meta.get("cors")
            if option is False:
                route.cors = None
            elif isinstance(option, dict):
                route.cors = policy_from_config(self.config, option)
            else:
                route.cors = self._cors
        apply_prefixes(self, routes, sockets)
        router = Router(routes, strict_slashes=self.config.STRICT_SLASHES)
        self._sockets = build_socket_router(self, sockets, routes)
        entry = build_entry(self)
        self._router = router
        self._entry = entry
        # The bound method compares equal to a fresh one: the entry *is* the kernel.
        self._direct_http = entry == self._core and not self._mounts

    @property
    def router(self) -> Router:
        self._freeze()
        assert self._router is not None
        return self._router

    @property
    def routes(self) -> list[Route]:
        """Every compiled route (compiling them on first access)."""
        return list(self.router.routes)

    def compiled_override(self, replacement: Callable[..., Any]) -> Dependant:
        dep = self._override_cache.get(replacement)
        if dep is None:
            dep = self._override_cache[replacement] = compile_dependant(replacement, app=self)
        return dep

    def url_for(self, endpoint: str, **values: Any) -> str:
        """Build the URL of ``"Controller.method"`` with route values (Werkzeug)."""
        return self.router.url_for(endpoint, values)

    def get_conf(self, key: str, default: Any = None) -> Any:
        """Return a config value, or ``default`` when unset."""
        return self.config.get(key, default)

    @property
    def debug(self) -> bool:
        return self.config.DEBUG

    # -- lifespan ----------------------------------------------------------------

    async def startup(self) -> None:
        """Start extensions (registration order), then the app's startup hooks."""
        if self._started:
            return
        if self.config.LOGGING_CONFIGURE:
            configure_logging(self)
        self._freeze()
        for name in self.config.PLUGINS:
            load_plugin(name)
        started: list[Extension] = []
        try:
            for ext in self._extension_list:
                await ext.startup(self)
                started.append(ext)
            for hook in self._startup_hooks.ordered():
                await hook.run()
        except BaseException:
            for ext in reversed(started):
                try:
                    await ext.shutdown(self)
                except Exception:
                    logger.exception("Extension %r failed to shut down", ext)
            raise
        self._started = True

    async def shutdown(self) -> None:
        """Run the app's shutdown hooks, then stop extensions in reverse order."""
        if not self._started:
            return
        self._started = False
        first_error: BaseException | None = None
        for hook in self._shutdown_hooks.ordered():
            try:
                await hook.run()
            except Exception as exc:
                logger.exception("Shutdown hook %r failed", hook.fn)
                first_error = first_error or exc
        for ext in reversed(self._extension_list):
            try:
                await ext.shutdown(self)
            except Exception as exc:
                logger.exception("Extension %r failed to shut down", ext)
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[App]:
        """``async with app.lifespan():`` runs startup and shutdown around a block."""
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        try:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    try:
                        await self.startup()
                    except BaseException as exc:
                        logger.exception("Application startup failed")
                        await send({"type": "lifespan.startup.failed", "message": str(exc)})
                        return
                    if self.config.GC_TUNING and not self._gc_tuned:
                        # Served by a server only: TestClient and app.lifespan() call
                        # startup() directly and leave the collector alone.
                        _gc.tune()
                        self._gc_tuned = True
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self._gc_untune()
                    try:
                        await self.shutdown()
                    except BaseException as exc:
                        await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                        return
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        finally:
            self._gc_untune()

    def _gc_untune(self) -> None:
        if self._gc_tuned:
            self._gc_tuned = False
            _gc.untune()

    # -- ASGI --------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config.APP_NAME!r}>"
