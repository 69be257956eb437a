"""Jinja2 templates: ``req.response.html("page.html", context)`` and ``html_abort``.

Templates come from ``TEMPLATES_DIR`` (relative to ``BASE_PATH`` unless
absolute), then from ``app.template_dirs`` in the order extensions added them
(the first directory holding a name wins). Sources are read in a worker thread
into memory on first use (and re-read when changed, under ``DEBUG``); the Jinja
loader only serves that memory, so ``{% extends %}`` and ``{% include %}`` never
touch the disk from the event loop. Rendering uses Jinja's async API.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

from ._concurrency import run_sync
from .exceptions import FerruleError, HTTPException, ImproperlyConfiguredError
from .responses import Response

if TYPE_CHECKING:
    from collections.abc import Callable

    import jinja2

    from .app import App
    from .request import Request

__all__ = (
    "HtmlAbortError",
    "TemplateNotFoundError",
    "TemplateResponse",
    "Templates",
    "html_abort",
    "install_templates",
    "is_template_name",
)

logger = logging.getLogger("ferrule.core.templates")

R = TypeVar("R", bound=Response[Any])

#: A lone argument of ``Response.html`` ending in one of these (and holding no
#: ``<``) is a template name; anything else is literal HTML.
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")
# Autoescape is on for every template except these plain-text formats (after
# removing a .jinja/.jinja2/.j2 suffix): HTML escaping would corrupt them.
_PLAIN_SUFFIXES = (".txt", ".text", ".md", ".csv", ".css", ".js", ".json")


def is_template_name(value: str) -> bool:
    """Whether a lone ``Response.html`` argument names a template."""
    return "<" not in value and value.endswith(TEMPLATE_SUFFIXES)


def _autoescape(name: str | None) -> bool:
    if name is None:
        return True  # from_string
    base = name.lower()
    for suffix in (".jinja2", ".jinja", ".j2"):
        base = base.removesuffix(suffix)
    return not base.endswith(_PLAIN_SUFFIXES)


class TemplateNotFoundError(FerruleError, LookupError):
    """A template name matched no file in the template directories."""


class HtmlAbortError(HTTPException):
    """Raised by :func:`html_abort`; answered with the rendered template."""

    def __init__(self, template: str, status_code: int = 400, data: Any = None) -> None:
        super().__init__(status_code, data=data)
        self.template = template


def html_abort(template: str, status_code: int = 400, data: Any = None) -> NoReturn:
    """Stop handling the request and answer with a rendered template.

    The template's context is ``data`` (when it is a mapping, its keys too) and
    ``status_code``. Without templates configured the answer is the JSON error
    shape with that status.

    Example:
        >>> html_abort("errors/404.html", HttpStatus.NOT_FOUND, {"item": item_id})
    """
    raise HtmlAbortError(template, status_code, data)


class _Loader:
    """In-memory copies of the template files, refreshed from a worker thread."""

    def __init__(self, dirs: Callable[[], list[Path]]) -> None:
        self._dirs = dirs
        self.sources: dict[str, tuple[str, str]] = {}
        self._seen: dict[str, tuple[str, int, int]] = {}

    def searched(self) -> list[str]:
        return [str(d) for d in self._dirs()]

    def _read(self, path: str) -> str:
        """Read one template file (always called in a worker thread)."""
        with open(path, encoding="utf-8") as f:
            return f.read()

    def refresh(self) -> bool:
        """Index and read the directories; True when anything changed."""
        seen: dict[str, tuple[str, int, int]] = {}
        for directory in self._dirs():
            for dirpath, dirnames, filenames in os.walk(directory):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                rel = os.path.relpath(dirpath, directory)
                for filename in filenames:
                    if filename.startswith("."):
                        continue
                    name = filename if rel == "." else f"{rel}/{filename}".replace(os.sep, "/")
                    if name in seen:
                        continue  # an earlier directory overrides this one
                    full = os.path.join(dirpath, filename)
                    try:
                        st = os.stat(full)
                    except OSError:
                        continue
                    seen[name] = (full, st.st_mtime_ns, st.st_size)
        if seen == self._seen:
            return False
        sources: dict[str, tuple[str, str]] = {}
        for name, sig in seen.items():
            old = self._seen.get(name)
            if old == sig and name in self.sources:
                sources[name] = self.sources[name]
                continue
            try:
                sources[name] = (self._read(sig[0]), sig[0])
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning("Skipping template file %s: %s", sig[0], exc)
        self.sources, self._seen = sources, seen
        return True


class Templates:
    """The Jinja2 environment of one app, registered as an app service.

    Inject it (``templates: Templates``) to render outside a response, e.g. an
    e-mail body: ``await templates.render("mail.txt", {...})``.
    """

    def __init__(self, app: App, root: Path | None) -> None:
        self.app = app
        self.root = root
        self.debug = app.config.DEBUG
        self._loader = _Loader(self.directories)
        self._env: jinja2.Environment | None = None
        self._loaded = False
        self._compiled: dict[str, jinja2.Template] = {}

    def directories(self) -> list[Path]:
        """The search path: ``TEMPLATES_DIR``, then ``app.template_dirs``."""
        dirs = [self.root] if self.root is not None else []
        base = Path(self.app.config.BASE_PATH or os.getcwd())
        dirs.extend(base / d for d in self.app.template_dirs)
        return dirs

    @property
    def env(self) -> jinja2.Environment:
        """The Jinja2 environment (add filters and globals to it at startup)."""
        env = self._env
        if env is None:
            env = self._env = self._create_env()
        return env

    def _create_env(self) -> jinja2.Environment:
        import jinja2

        sources = self._loader

        def get_source(name: str) -> tuple[str, str, Callable[[], bool]]:
            try:
                source, filename = sources.sources[name]
            except KeyError:
                raise jinja2.TemplateNotFound(name) from None
            return source, filename, lambda: True

        app = self.app

        def static(filename: str) -> str:
            return app.url_for("Static.get", filename=filename)

        env = jinja2.Environment(
            loader=jinja2.FunctionLoader(get_source),
            autoescape=_autoescape,
            enable_async=True,
            auto_reload=False,
            undefined=jinja2.StrictUndefined if app.config.TEMPLATES_STRICT else jinja2.Undefined,
        )
        env.globals["url_for"] = app.url_for
        env.globals["static"] = static
        return env

    def _load(self, name: str) -> jinja2.Template:
        """Refresh the sources if needed and compile ``name`` (in a worker thread)."""
        import jinja2

        if not self._loaded or self.debug:
            self._refresh()
        try:
            template = self.env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            missing = exc.name if exc.name != name else name
            raise TemplateNotFoundError(
                f"Template {missing!r} not found (rendering {name!r}); searched "
                f"{self._loader.searched()!r}. Create the file or fix the name "
                "(TEMPLATES_DIR is relative to BASE_PATH)."
            ) from None
        self._compiled[name] = template
        return template

    async def get_template(self, name: str) -> jinja2.Template:
        """The compiled template, loading files in a worker thread."""
        if not self.debug:
            template = self._compiled.get(name)
            if template is not None:
                return template
        return await run_sync(self._load, name)

    def _context(self, context: Mapping[str, Any] | None, req: Request | None) -> dict[str, Any]:
        ctx: dict[str, Any] = {"request": req} if req is not None else {}
        if context:
            ctx.update(context)
        return ctx

    async def render(
        self, name: str, context: Mapping[str, Any] | None = None, req: Request | None = None
    ) -> str:
        """Render the template ``name``; ``request`` is in the context when given."""
        template = await self.get_template(name)
        return await self._render(template, self._context(context, req))

    async def render_string(
        self, source: str, context: Mapping[str, Any] | None = None, req: Request | None = None
    ) -> str:
        """Render a template source (autoescaped); includes load like files."""
        if not self._loaded or self.debug:
            await run_sync(self._refresh)
        template = self.env.from_string(source)
        return await self._render(template, self._context(context, req))

    def _refresh(self) -> None:
        if self._loader.refresh():
            if self.env.cache is not None:
                self.env.cache.clear()
            self._compiled.clear()
        self._loaded = True

    async def _render(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        import jinja2

        try:
            return await template.render_async(context)
        except jinja2.TemplateNotFound as exc:  # an include or extends
            raise TemplateNotFoundError(
                f"Template {exc.name!r} not found (included from {template.name!r}); "
                f"searched {self._loader.searched()!r}."
            ) from None


def templates_of(app: App) -> Templates:
    """The app's :class:`Templates`, or an error saying how to configure them."""
    templates = app.services.lookup(Templates) if Templates in app.services else None
    if not isinstance(templates, Templates):
        raise ImproperlyConfiguredError(
            "Templates are not configured: set TEMPLATES_DIR (e.g. 'templates', relative "
            "to BASE_PATH) or let an extension add to app.template_dirs."
        )
    return templates


def _resolve_root(app: App) -> Path | None:
    raw = app.config.TEMPLATES_DIR
    if not raw:
        return None
    path = Path(raw)
    if not path.is_absolute():
        path = Path(app.config.BASE_PATH or os.getcwd()) / path
    if not path.is_dir():
        raise ImproperlyConfiguredError(
            f"TEMPLATES_DIR={raw!r} resolves to {str(path)!r}, which is not an existing "
            "directory. Create it, fix TEMPLATES_DIR (absolute, or relative to BASE_PATH), "
            "or set TEMPLATES_DIR = None."
        )
    return path.resolve()


def install_templates(app: App) -> None:
    """Create the app's :class:`Templates` and the ``html_abort`` handler (called by ``App``)."""
    templates = Templates(app, _resolve_root(app))
    app.services.register(templates, as_type=Templates)

    async def render_abort(req: Request, exc: BaseException) -> Response[Any]:
        assert isinstance(exc, HtmlAbortError)
        data = exc.data
        context: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
        context.setdefault("data", data)
        context.setdefault("status_code", exc.status_code)
        html = await templates.render(exc.template, context, req)
        # Rendered eagerly (not a TemplateResponse): a failure here is a failing
        # exception handler, which the registry logs and answers with a 500.
        return Response(
            html, status_code=exc.status_code, headers=exc.headers, media_type="text/html"
        )

    app.add_exception_handler(HtmlAbortError, render_abort)


class _Spec:
    __slots__ = ("context", "from_string", "source")

    def __init__(self, source: str, context: Mapping[str, Any] | None, from_string: bool) -> None:
        self.source = source
        self.context = context
        self.from_string = from_string


class TemplateResponse(Response[Any]):
    """A response whose HTML body is a template rendered (async) before sending.

    ``req.response.html("page.html", {...})`` turns the request's response into
    one; construct it directly to return a fresh response::

        return TemplateResponse("page.html", {"title": "Home"}, status_code=200)
    """

    # No new slots: Response.html switches req.response to this class in place
    # (same layout), so plain responses keep needs_prepare=False and pay nothing.
    __slots__ = ()

    needs_prepare: ClassVar[bool] = True

    def __init__(
        self,
        template: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        from_string: bool = False,
    ) -> None:
        super().__init__(status_code=status_code, headers=headers)
        self._kind, self._content = "html", _Spec(template, context, from_string)

    async def prepare(self, req: Request) -> None:
        spec = self._content
        if not isinstance(spec, _Spec):
            return
        try:
            templates = templates_of(req.app)
            if spec.from_string:
                html = await templates.render_string(spec.source, spec.context, req)
            else:
                html = await templates.render(spec.source, spec.context, req)
        except Exception as exc:
            # Logged by the registry (with the request id); the client gets the
            # generic 500 (with the exception only under DEBUG).
            fallback = req.app._errors.default(req, exc)
            self.status_code = fallback.status_code
            self._kind, self._content = "json", fallback.content
            self._headers, self._cookies, self.media_type = fallback._headers, None, None
            return
        self._content = html

    def render(self, adapter: Any = None) -> tuple[bytes, bytes | None]:
        if isinstance(self._content, _Spec):
            raise FerruleError("TemplateResponse.render() called before prepare()")
        return super().render(adapter)


def use_template(
    response: R, source: str, context: Mapping[str, Any] | None, *, from_string: bool = False
) -> R:
    """Make ``response`` render a template (``Response.html`` calls this)."""
    if type(response) is Response:
        response.__class__ = TemplateResponse  # type: ignore[assignment]
    elif not isinstance(response, TemplateResponse):
        raise TypeError(
            f"{type(response).__name__} cannot render templates; return "
            "TemplateResponse(name, context) instead."
        )
    response._kind, response._content = "html", _Spec(source, context, from_string)
    return response
