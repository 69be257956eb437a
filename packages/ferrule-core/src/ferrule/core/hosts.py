"""Host header validation against ``ALLOWED_HOSTS``."""

from __future__ import annotations

import re

__all__ = ("HostValidator",)

# A host name or IPv4 with an optional port, or a bracketed IPv6 literal. No
# path, userinfo ("@"), spaces or other characters: those are injection attempts.
_HOST_RE = re.compile(
    rb"^(?:[a-z0-9](?:[a-z0-9\-.]*[a-z0-9])?\.?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$"
)
_CACHE_LIMIT = 1024


class HostValidator:
    """Decide whether a ``Host`` header is acceptable; results cached per value.

    Patterns: an exact name (``example.com``), a leading dot for a domain and
    its subdomains (``.example.com``), or ``*`` for any well-formed host.
    """

    __slots__ = ("_any", "_cache", "_exact", "_suffixes", "accepted")

    def __init__(self, allowed: list[str]) -> None:
        self._any = "*" in allowed
        self._exact = {h.lower() for h in allowed if not h.startswith(".") and h != "*"}
        self._suffixes = tuple(h.lower() for h in allowed if h.startswith("."))
        self._cache: dict[bytes, bool] = {}
        #: The values accepted so far (bounded like the cache): the kernel tests
        #: membership here before calling the validator.
        self.accepted: set[bytes | None] = set()

    def __call__(self, host: bytes | None) -> bool:
        if host is None:
            return False
        try:
            return self._cache[host]
        except KeyError:
            pass
        ok = self._check(host)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
            self.accepted.clear()
        self._cache[host] = ok
        if ok:
            self.accepted.add(host)
        return ok

    def _check(self, host: bytes) -> bool:
        value = host.lower()
        if not _HOST_RE.match(value):
            return False
        name = value.decode("ascii")
        if name.startswith("["):
            name = name[: name.index("]") + 1]
        else:
            name = name.rpartition(":")[0] if ":" in name else name
        name = name.rstrip(".")
        if self._any or name in self._exact:
            return True
        return any(name == s[1:] or name.endswith(s) for s in self._suffixes)
