"""Sessions: ``req.session``, kept in a signed cookie or in a store behind a signed id.

Off unless ``SESSION_BACKEND`` is set. ``"cookie"`` keeps the data in the cookie,
signed (not encrypted) with ``SECRET_KEY`` by itsdangerous, with a timestamp
checked against ``SESSION_MAX_AGE``. ``"store"`` keeps only a signed random id in
the cookie and the data in ``app.stores.get(SESSION_STORE)``. Keys in
``SECRET_KEY_FALLBACKS`` still verify old cookies; new ones are signed with
``SECRET_KEY``.

A thin ASGI layer puts a lazy state object in the scope and adds ``Set-Cookie``
to the response only when the session was modified. Apps without sessions do
not have the layer; requests that never touch ``req.session`` do no decoding
(the store backend reads the store when the cookie is present).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from pydantic_core import from_json, to_json

from .exceptions import FerruleError, HTTPException, ImproperlyConfiguredError
from .request import parse_cookies
from .responses import _format_cookie

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .app import App
    from .request import Request
    from .stores import Store
    from .types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("Session", "SessionError", "SessionMiddleware", "install_sessions")

logger = logging.getLogger("ferrule.core.sessions")

_SCOPE_KEY = "ferrule.session"
_SALT = "ferrule.session"
_STORE_PREFIX = "session:"
#: Browsers keep about 4096 bytes per cookie; beyond that they drop it silently.
MAX_COOKIE_SIZE = 4093


class SessionError(FerruleError):
    """The session cannot be saved (too large for a cookie, not JSON-serializable)."""


class Session(MutableMapping[str, Any]):
    """The dict-like session of one request (``req.session``).

    Values must be JSON-serializable. Assigning or deleting keys marks it
    modified; mutating a nested value in place does not, set ``modified = True``
    then. Only a modified session is written back (a ``Set-Cookie``).
    """

    __slots__ = ("_data", "modified", "regenerated")

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = data or {}
        self.modified = False
        self.regenerated = False

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Empty the session (logout); a store session also gets a new id."""
        self._data.clear()
        self.modified = True
        self.regenerated = True

    def regenerate(self) -> None:
        """Keep the data under a new session id (call it after login).

        This defeats session fixation: an id planted before login is dropped,
        and with the store backend its entry is deleted.
        """
        self.modified = True
        self.regenerated = True

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"Session({self._data!r})"


class SessionBackend:
    """The validated session settings of one app, and how to load and save."""

    def __init__(self, app: App) -> None:
        cfg = app.config
        secret = cfg.SECRET_KEY
        if not secret:
            raise ImproperlyConfiguredError(
                f"SESSION_BACKEND = {cfg.SESSION_BACKEND!r} signs the session cookie and needs "
                "SECRET_KEY, which is not set. Set SECRET_KEY to a long random value (e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))') in your config "
                "or environment; there is no default key."
            )
        if cfg.SESSION_COOKIE_SAMESITE == "none" and cfg.SESSION_COOKIE_SECURE is False:
            raise ImproperlyConfiguredError(
                "SESSION_COOKIE_SAMESITE = 'none' needs a Secure cookie (browsers drop it "
                "otherwise); remove SESSION_COOKIE_SECURE = False or use 'lax'."
            )
        # itsdangerous signs with the last key and verifies with all of them.
        keys = [*reversed(cfg.SECRET_KEY_FALLBACKS), secret]
        self.app = app
        self.kind = cfg.SESSION_BACKEND
        self.cookie_name = cfg.SESSION_COOKIE_NAME
        self.max_age = cfg.SESSION_MAX_AGE
        self.path = cfg.SESSION_COOKIE_PATH
        self.domain = cfg.SESSION_COOKIE_DOMAIN
        self.secure = cfg.SESSION_COOKIE_SECURE
        self.samesite = cfg.SESSION_COOKIE_SAMESITE
        self.store_name = cfg.SESSION_STORE
        self.serializer = URLSafeTimedSerializer(keys, salt=_SALT)
        self.signer = TimestampSigner(keys, salt=_SALT + ".id")
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        # Resolved on first use: extensions register stores after sessions install.
        store = self._store
        if store is None:
            store = self._store = self.app.stores.get(self.store_name)
        return store

    def cookie_header(self, value: str, https: bool, *, delete: bool = False) -> bytes:
        cookie = _format_cookie(
            {
                "key": self.cookie_name,
                "value": value,
                "max_age": 0 if delete else self.max_age,
                "expires": None,
                "path": self.path,
                "domain": self.domain,
                "secure": self.secure,
                "http_only": True,
                "samesite": self.samesite,
            },
            https,
        )
        if len(cookie) > MAX_COOKIE_SIZE:
            raise SessionError(
                f"The session cookie {self.cookie_name!r} would be {len(cookie)} bytes, over the "
                f"{MAX_COOKIE_SIZE} browsers keep (they would drop it silently). Store less in "
                "req.session, or set SESSION_BACKEND = 'store' so the cookie holds only an id."
            )
        return cookie.encode("latin-1")

    def load_cookie(self, raw: str | None) -> Session:
        """Verify and decode a ``cookie`` session; bad or expired -> empty session."""
        if not raw:
            return Session()
        try:
            data = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return Session()
        return Session(data if isinstance(data, dict) else None)

    def session_id(self, raw: str | None) -> str | None:
        """The session id from a ``store`` cookie, or None when missing/bad/expired."""
        if not raw:
            return None
        try:
            return self.signer.unsign(raw, max_age=self.max_age).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None


class _SessionState:
    """Per-request session state kept in the ASGI scope."""

    __slots__ = ("backend", "cookie", "session", "session_id")

    def __init__(self, backend: SessionBackend, cookie: str | None) -> None:
        self.backend = backend
        self.cookie = cookie
        self.session: Session | None = None
        self.session_id: str | None = None

    async def load_from_store(self) -> None:
        sid = self.backend.session_id(self.cookie)
        data: Any = None
        if sid is not None:
            try:
                raw = await self.backend.store.get(_STORE_PREFIX + sid)
            except Exception as exc:
                logger.error("Session store failed on read: %r", exc)
                raise HTTPException(
                    503, "The session store is unavailable", {"Retry-After": "5"}
                ) from exc
            if raw is not None:
                try:
                    data = from_json(raw)
                except ValueError:
                    data = None
                self.session_id = sid
        self.session = Session(data if isinstance(data, dict) else None)

    async def save(self, https: bool) -> list[tuple[bytes, bytes]]:
        """The headers to add to the response (empty when nothing changed)."""
        session, backend = self.session, self.backend
        if session is None:
            return []
        headers: list[tuple[bytes, bytes]] = [(b"vary", b"Cookie")]
        if not session.modified:
            return headers
        if backend.kind == "cookie":
            if not session:
                if self.cookie:
                    headers.append((b"set-cookie", backend.cookie_header("", https, delete=True)))
                return headers
            try:
                value = backend.serializer.dumps(session.to_dict())
            except TypeError as exc:
                raise _not_serializable(exc) from exc
            headers.append((b"set-cookie", backend.cookie_header(value, https)))
            return headers
        return headers + await self._save_to_store(session, https)

    async def _save_to_store(self, session: Session, https: bool) -> list[tuple[bytes, bytes]]:
        backend = self.backend
        store = backend.store
        old = self.session_id
        try:
            if not session:
                if old is not None:
                    await store.delete(_STORE_PREFIX + old)
                if self.cookie:
                    return [(b"set-cookie", backend.cookie_header("", https, delete=True))]
                return []
            try:
                payload = to_json(session.to_dict())
            except ValueError as exc:
                raise _not_serializable(exc) from exc
            sid = old
            if sid is None or session.regenerated:
                if old is not None:
                    await store.delete(_STORE_PREFIX + old)
                sid = secrets.token_urlsafe(32)
            await store.set(_STORE_PREFIX + sid, payload, expires_in=backend.max_age)
        except (SessionError, HTTPException):
            raise
        except Exception as exc:
            # No silent data loss: the client must not get a 2xx for a lost write.
            logger.error("Session store failed on write: %r", exc)
            raise HTTPException(
                503, "The session store is unavailable", {"Retry-After": "5"}
            ) from exc
        value = backend.signer.sign(sid).decode("ascii")
        return [(b"set-cookie", backend.cookie_header(value, https))]


def _not_serializable(exc: Exception) -> SessionError:
    return SessionError(
        f"The session holds a value that is not JSON-serializable ({exc}); store only str, "
        "int, float, bool, None, lists and dicts in req.session."
    )


def _cookie_of(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            found = parse_cookies(value.decode("latin-1")).get(name)
            if found is not None:
                return found
    return None


class SessionMiddleware:
    """The ASGI layer behind ``req.session``; installed by the app from config."""

    def __init__(self, app: ASGIApp, *, backend: SessionBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        backend = self.backend
        state = _SessionState(backend, _cookie_of(scope, backend.cookie_name))
        scope[_SCOPE_KEY] = state
        if backend.kind == "store" and state.cookie is not None:
            await state.load_from_store()

        async def send_with_session(message: Message) -> None:
            # A server error does not commit the session changes it made (Django does the same).
            if (
                message["type"] == "http.response.start"
                and state.session is not None
                and message["status"] < 500
            ):
                extra = await state.save(scope.get("scheme") == "https")
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_session)


def session_of(req: Request) -> Session:
    """``req.session``: the request's session, loaded on first access."""
    state: _SessionState | None = req.scope.get(_SCOPE_KEY)
    if state is None:
        raise ImproperlyConfiguredError(
            "req.session is not available: sessions are off. Set SESSION_BACKEND = 'cookie' "
            "(data in a signed cookie) or 'store' (data in app.stores) and SECRET_KEY in your "
            "config."
        )
    session = state.session
    if session is None:
        # Only the cookie backend gets here lazily; the store backend loaded
        # (or found no cookie) before the handler ran.
        if state.backend.kind == "cookie":
            session = state.backend.load_cookie(state.cookie)
        else:
            session = Session()
        state.session = session
    return session


def install_sessions(app: App) -> None:
    """Validate the session settings (fail closed) and add the session layer."""
    app.add_middleware(SessionMiddleware, backend=SessionBackend(app))
