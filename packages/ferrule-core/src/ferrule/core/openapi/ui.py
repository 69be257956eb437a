"""Serve the OpenAPI document, Swagger UI and ReDoc under ``OPEN_API_URL``.

The UIs' JavaScript and CSS ship inside this package (``static/``, with their
licences) and are served by the app itself, so the docs work offline and never
load anything from a CDN. The pages reference them by relative URLs, so they
also work when the app is mounted under a prefix.
"""

from __future__ import annotations

import hashlib
import html
import importlib.resources
import logging
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from .._concurrency import run_sync
from ..exceptions import ImproperlyConfiguredError
from ..request import Request  # noqa: TC001 - read by the route compiler at runtime
from ..responses import Response, error_response
from .generator import generate_openapi

if TYPE_CHECKING:
    from ..app import App
    from ..config import BaseConfig

__all__ = ("install_openapi", "openapi_enabled")

logger = logging.getLogger("ferrule.core.openapi")

SWAGGER_UI_VERSION = "5.35.0"
REDOC_VERSION = "2.5.4"

_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_TXT = "text/plain; charset=utf-8"
#: The only files the asset route serves (a fixed map: no path from the URL is opened).
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": _JS,
    "swagger-ui.css": _CSS,
    "swagger-init.js": _JS,
    "redoc.standalone.js": _JS,
    "swagger-ui.LICENSE": _TXT,
    "swagger-ui.NOTICE": _TXT,
    "swagger-ui-bundle.js.LICENSE.txt": _TXT,
    "redoc.LICENSE": _TXT,
    "redoc.standalone.js.LICENSE.txt": _TXT,
}
_ASSET_CACHE = "public, max-age=86400"

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="stylesheet" href="static/swagger-ui.css?v={sv}">
</head>
<body>
<div id="swagger-ui" data-spec-url="specs.json"></div>
<script src="static/swagger-ui-bundle.js?v={sv}"></script>
<script src="static/swagger-init.js?v={sv}"></script>
</body>
</html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - ReDoc</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="specs.json"></redoc>
<script src="static/redoc.standalone.js?v={rv}"></script>
</body>
</html>
"""


def openapi_enabled(config: BaseConfig) -> bool:
    """``OPEN_API``, or ``DEBUG`` when it is unset."""
    flag = config.get("OPEN_API")
    return bool(config.DEBUG if flag is None else flag)


def _check_url(url: Any) -> str:
    ok = (
        isinstance(url, str)
        and url.startswith("/")
        and not url.endswith("/")
        and not any(c in url for c in "<>?#{} ")
    )
    if not ok:
        raise ImproperlyConfiguredError(
            f"OPEN_API_URL must be a path that starts with '/' and does not end with '/' "
            f"(e.g. '/openapi'), got {url!r}."
        )
    return str(url)


def _read_asset(name: str) -> bytes:
    return (importlib.resources.files(__package__) / "static" / name).read_bytes()


class _OpenApiState:
    """Per-app cache: the document is generated once, assets read once."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.document: bytes | None = None
        self.assets: dict[str, tuple[bytes, str]] = {}

    def document_bytes(self) -> bytes:
        if self.document is None:
            self.document = to_json(generate_openapi(self.app))
        return self.document

    async def asset(self, name: str) -> tuple[bytes, str]:
        cached = self.assets.get(name)
        if cached is None:
            data = await run_sync(_read_asset, name)
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            cached = self.assets[name] = (data, etag)
        return cached


def install_openapi(app: App) -> None:
    """Add ``specs.json``, ``docs``, ``redoc`` and ``static/<asset>`` under ``OPEN_API_URL``."""
    cfg = app.config
    base = _check_url(cfg.get("OPEN_API_URL", "/openapi"))
    state = _OpenApiState(app)
    title = html.escape(cfg.APP_NAME)
    swagger_page = _SWAGGER_PAGE.format(title=title, sv=SWAGGER_UI_VERSION)
    redoc_page = _REDOC_PAGE.format(title=title, rv=REDOC_VERSION)

    async def specs() -> Response[Any]:
        return Response(state.document_bytes(), media_type="application/json")

    async def docs() -> Response[Any]:
        return Response(headers={"Cache-Control": "no-cache"}).html(swagger_page)

    async def redoc() -> Response[Any]:
        return Response(headers={"Cache-Control": "no-cache"}).html(redoc_page)

    async def asset(req: Request, name: str) -> Response[Any]:
        media_type = ASSETS.get(name)
        if media_type is None:
            return error_response(404, f"No OpenAPI asset named {name!r}.")
        data, etag = await state.asset(name)
        headers = {
            "ETag": etag,
            "Cache-Control": _ASSET_CACHE,
            "X-Content-Type-Options": "nosniff",
        }
        if etag in {t.strip() for t in req.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        return Response(data, headers=headers, media_type=media_type)

    def warm() -> None:
        # Generate at startup so a route the generator cannot describe is a startup
        # error, and the first request for the document does not pay for it.
        state.document_bytes()

    for fn, label in ((specs, "specs"), (docs, "docs"), (redoc, "redoc"), (asset, "asset")):
        fn.__qualname__ = f"OpenAPI.{label}"
    app.add_route(f"{base}/specs.json", specs, name="OpenAPI.specs", open_api_spec=False)
    app.add_route(f"{base}/docs", docs, name="OpenAPI.docs", open_api_spec=False)
    app.add_route(f"{base}/redoc", redoc, name="OpenAPI.redoc", open_api_spec=False)
    app.add_route(f"{base}/static/<name>", asset, name="OpenAPI.asset", open_api_spec=False)
    app.on_startup(warm)
