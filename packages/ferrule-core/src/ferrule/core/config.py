"""Typed application configuration on pydantic-settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .exceptions import ImproperlyConfiguredError

__all__ = ("BaseConfig", "load_config")

_MIB = 1024 * 1024


class BaseConfig(BaseSettings):
    """Application settings, read from keyword values, the environment and ``.env``.

    Subclass it and declare your own keys; every key can be overridden by an
    environment variable of the same name. Extension sections (``SQL_DATABASE``
    ...) are extra keys validated by their extension at startup.

    Example:
        >>> class Config(BaseConfig):
        ...     APP_NAME: str = "Bookshelf"
        ...     CONTROLLERS: list[str] = ["app.api:BooksApi"]
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="allow",
        case_sensitive=True,
        validate_default=True,
    )

    APP_NAME: str = "Ferrule app"
    VERSION: str = "0.1.0"
    DEBUG: bool = False
    SECRET_KEY: str | None = None
    SECRET_KEY_FALLBACKS: list[str] = Field(default_factory=list)
    BASE_PATH: str | None = None
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=0, le=65535)
    ALLOWED_HOSTS: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
    )
    STRICT_SLASHES: bool = True
    MAX_BODY_SIZE: int = Field(default=10 * _MIB, ge=0)
    REQUEST_ID_HEADER: str | None = "X-Request-ID"
    # Uploads and forms (forms.py, uploads.py): each limit is a 413.
    FORM_MAX_PARTS: int = Field(default=1000, ge=1)
    FORM_MAX_FIELD_SIZE: int = Field(default=_MIB, ge=1)
    FORM_MAX_FILE_SIZE: int | None = Field(default=None, ge=1)
    FORM_MAX_PART_HEADER_SIZE: int = Field(default=16 * 1024, ge=64)
    FORM_SPOOL_MAX_SIZE: int = Field(default=_MIB, ge=0)

    CORS_ENABLED: bool = False
    CORS_ALLOW_ORIGINS: list[str] = Field(default_factory=list)
    CORS_ALLOW_METHODS: list[str] = Field(
        default_factory=lambda: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    )
    CORS_ALLOW_HEADERS: list[str] = Field(default_factory=lambda: ["Authorization", "Content-Type"])
    CORS_EXPOSE_HEADERS: list[str] = Field(default_factory=list)
    CORS_ALLOW_CREDENTIALS: bool = False
    CORS_MAX_AGE: int | None = Field(default=600, ge=0)

    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: Literal["text", "json"] = "text"
    DEFAULT_LOGGER: dict[str, Any] = Field(default_factory=dict)
    LOGGERS: list[str] = Field(default_factory=list)
    LOGGING_CONFIGURE: bool = True
    ACCESS_LOG: bool = True
    # Served under a server's ASGI lifespan: freeze the startup heap and raise the
    # young GC threshold to 2,000 while the app runs (_gc.py); False: leave gc alone.
    GC_TUNING: bool = True

    HEALTH_ENDPOINTS: bool = True
    LIVEZ_URL: str = "/livez"
    READYZ_URL: str = "/readyz"
    READINESS_TIMEOUT: float = Field(default=3.0, gt=0)

    # Sessions (sessions.py): None = off; "cookie" = signed cookie, "store" = id in app.stores.
    SESSION_BACKEND: Literal["cookie", "store"] | None = None
    SESSION_COOKIE_NAME: str = "session"
    SESSION_MAX_AGE: int = Field(default=14 * 24 * 3600, gt=0)
    SESSION_COOKIE_PATH: str = "/"
    SESSION_COOKIE_DOMAIN: str | None = None
    SESSION_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_SAMESITE: Literal["lax", "strict", "none"] = "lax"
    SESSION_STORE: str = "sessions"

    # Static files (staticfiles.py) and templates (templates.py); None = off.
    STATIC_DIR: str | None = None
    STATIC_URL: str = "/static"
    STATIC_MAX_AGE: int = Field(default=3600, ge=0)
    TEMPLATES_DIR: str | None = None
    TEMPLATES_STRICT: bool = True

    # OpenAPI document and docs UIs (openapi/); OPEN_API None = follow DEBUG.
    OPEN_API: bool | None = None
    OPEN_API_URL: str = "/openapi"
    OPEN_API_DESCRIPTION: str | None = None

    # WebSockets (websockets.py) and SSE (sse.py). Origins: [] = same-origin only.
    WEBSOCKET_ALLOWED_ORIGINS: list[str] = Field(default_factory=list)
    WEBSOCKET_SEND_QUEUE: int = Field(default=64, ge=1)
    WEBSOCKET_SEND_TIMEOUT: float = Field(default=10.0, gt=0)
    WEBSOCKET_DENIAL_RESPONSE: bool = False
    SSE_KEEPALIVE: float | None = Field(default=15.0, gt=0)

    CONTROLLERS: list[str] = Field(default_factory=list)
    EXTENSIONS: list[str] = Field(default_factory=list)
    MIDDLEWARE: list[str] = Field(default_factory=list)
    EXCEPTION_HANDLERS: list[str] = Field(default_factory=list)
    CLI_CONTROLLERS: list[str] = Field(default_factory=list)
    PLUGINS: list[str] = Field(default_factory=list)

    # Protective middleware (middleware/): security headers, compression, HTTPS.
    SECURITY_HEADERS_ENABLED: bool = True
    X_FRAME_OPTIONS: str | None = "DENY"
    REFERRER_POLICY: str | None = "strict-origin-when-cross-origin"
    HSTS_SECONDS: int = Field(default=31_536_000, ge=0)
    HSTS_INCLUDE_SUBDOMAINS: bool = False
    HSTS_PRELOAD: bool = False
    CONTENT_SECURITY_POLICY: str | None = None
    GZIP_ENABLED: bool = False
    GZIP_MIN_SIZE: int = Field(default=500, ge=0)
    HTTPS_REDIRECT: bool = False
    HTTPS_REDIRECT_EXEMPT: list[str] = Field(default_factory=list)
    # Trusted reverse proxies (proxies.py), shared by HTTPS redirect and rate limiting.
    TRUSTED_PROXIES: list[str] = Field(default_factory=list)

    # Composition (routing prefix): prefixes every route rule and url_for.
    URL_PREFIX: str = ""

    @field_validator("ALLOWED_HOSTS")
    @classmethod
    def _hosts_not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "must list at least one host name, e.g. ['example.com'] "
                "(use ['*'] only behind a proxy that checks Host)"
            )
        return [h.lower() for h in value]

    @model_validator(mode="after")
    def _cors_wildcard_with_credentials(self) -> BaseConfig:
        if self.CORS_ALLOW_CREDENTIALS and "*" in self.CORS_ALLOW_ORIGINS:
            raise ValueError(
                "CORS_ALLOW_ORIGINS contains '*' while CORS_ALLOW_CREDENTIALS is on: any site "
                "could make credentialed requests. List the trusted origins explicitly or "
                "turn CORS_ALLOW_CREDENTIALS off"
            )
        return self

    def get(self, key: str, default: Any = None) -> Any:
        """Return a config value (declared or extra) or ``default``."""
        return getattr(self, key, default)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


def load_config(
    source: BaseConfig | type[BaseConfig] | Mapping[str, Any] | None,
) -> BaseConfig:
    """Build the app's config, turning validation errors into startup errors.

    ``source`` is a config instance, a config class (instantiated, reading the
    environment), a mapping of overrides for :class:`BaseConfig`, or ``None``.
    """
    try:
        if source is None:
            return BaseConfig()
        if isinstance(source, BaseConfig):
            return source
        if isinstance(source, type) and issubclass(source, BaseConfig):
            return source()
        if isinstance(source, Mapping):
            return BaseConfig(**dict(source))
    except ValidationError as exc:
        raise config_error(exc, type_name=_name_of(source)) from None
    raise ImproperlyConfiguredError(
        f"App config must be a BaseConfig subclass, instance or a mapping, got {source!r}. "
        "Pass e.g. App(config=Config) where Config subclasses ferrule.core.BaseConfig."
    )


def _name_of(source: object) -> str:
    if source is None:
        return "BaseConfig (from the environment)"
    if isinstance(source, type):
        return source.__name__
    if isinstance(source, Mapping):
        return "the app config"
    return type(source).__name__


def config_error(
    exc: ValidationError, *, type_name: str, prefix: str = ""
) -> ImproperlyConfiguredError:
    """Turn a pydantic error into one message naming every bad key and its fix."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        value = err.get("input")
        hint = "set it in your config class or as an environment variable"
        if not key:
            lines.append(f"  {err['msg'].removeprefix('Value error, ')}.")
        elif err["type"] == "missing":
            lines.append(f"  {key}: required but not set; {hint}.")
        elif "SECRET" in key or "PASSWORD" in key:
            lines.append(f"  {key}: {err['msg']}; fix the value.")
        else:
            lines.append(f"  {key}: {err['msg']} (got {value!r}); fix the value.")
    return ImproperlyConfiguredError(f"Invalid configuration in {type_name}:\n" + "\n".join(lines))
