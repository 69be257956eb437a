"""Security headers, added by the kernel's send path (``SECURITY_HEADERS_ENABLED``).

Not an ASGI middleware on purpose: the headers are encoded once at startup and
appended to the header list the kernel builds anyway, so the default-on
feature costs no extra call on the fast paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import ImproperlyConfiguredError

if TYPE_CHECKING:
    from ..config import BaseConfig
    from ..responses import Response

__all__ = ("add_missing", "security_headers")

RawHeaders = tuple[tuple[bytes, bytes], ...]


def _encode(key: str, value: str) -> bytes:
    if "\r" in value or "\n" in value:
        raise ImproperlyConfiguredError(
            f"{key} must be a single header line, got {value!r}; remove the line breaks."
        )
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        raise ImproperlyConfiguredError(
            f"{key} {value!r} has characters a header cannot carry; use ASCII."
        ) from None


def security_headers(config: BaseConfig) -> tuple[RawHeaders, RawHeaders]:
    """The encoded headers for http and for https requests (both empty when disabled)."""
    if not config.SECURITY_HEADERS_ENABLED:
        return (), ()
    headers: list[tuple[bytes, bytes]] = [(b"x-content-type-options", b"nosniff")]
    if config.X_FRAME_OPTIONS:
        headers.append((b"x-frame-options", _encode("X_FRAME_OPTIONS", config.X_FRAME_OPTIONS)))
    if config.REFERRER_POLICY:
        headers.append((b"referrer-policy", _encode("REFERRER_POLICY", config.REFERRER_POLICY)))
    if config.CONTENT_SECURITY_POLICY:
        csp = _encode("CONTENT_SECURITY_POLICY", config.CONTENT_SECURITY_POLICY)
        headers.append((b"content-security-policy", csp))
    plain = tuple(headers)
    if config.HSTS_SECONDS <= 0:
        if config.HSTS_INCLUDE_SUBDOMAINS or config.HSTS_PRELOAD:
            raise ImproperlyConfiguredError(
                "HSTS_INCLUDE_SUBDOMAINS/HSTS_PRELOAD are set but HSTS_SECONDS is 0, so no "
                "Strict-Transport-Security header is sent; set HSTS_SECONDS (e.g. 31536000)."
            )
        return plain, plain
    hsts = f"max-age={config.HSTS_SECONDS}"
    if config.HSTS_INCLUDE_SUBDOMAINS:
        hsts += "; includeSubDomains"
    if config.HSTS_PRELOAD:
        hsts += "; preload"
    return plain, (*plain, (b"strict-transport-security", hsts.encode()))


def add_missing(
    headers: list[tuple[bytes, bytes]], extra: RawHeaders, response: Response[Any]
) -> None:
    """Append ``extra`` headers the response does not set itself."""
    own = response._headers
    if own is None:
        headers.extend(extra)
        return
    for name, value in extra:
        if name.decode("latin-1") not in own:
            headers.append((name, value))
