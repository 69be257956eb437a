"""Trusted reverse proxies: who really sent a request, and over which scheme.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are plain request headers that any
client can send. They are believed only when the peer that connected to us is
listed in ``TRUSTED_PROXIES`` (IP addresses or CIDR networks); otherwise the
socket's own address and scheme are used. Shared by the HTTPS redirect and rate
limiting.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from .exceptions import ImproperlyConfiguredError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .types import Scope

__all__ = ("TrustedProxies",)

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Answers "is this peer a trusted proxy?" and reads forwarded headers from one.

    Args:
        proxies: IP addresses or CIDR networks (``["10.0.0.0/8", "127.0.0.1"]``).

    Raises:
        ImproperlyConfiguredError: an entry is not an address or network.
    """

    __slots__ = ("_cache", "_networks")

    def __init__(self, proxies: Iterable[str]) -> None:
        networks: list[_Network] = []
        for entry in proxies:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfiguredError(
                    f"TRUSTED_PROXIES entry {entry!r} is not an IP address or CIDR network; "
                    "use e.g. '10.0.0.1' or '10.0.0.0/8'."
                ) from None
        self._networks = tuple(networks)
        self._cache: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._networks)

    def is_trusted(self, host: str | None) -> bool:
        """Whether ``host`` (a peer address) is one of the trusted proxies."""
        if not host or not self._networks:
            return False
        known = self._cache.get(host)
        if known is not None:
            return known
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            trusted = False
        else:
            trusted = any(address in net for net in self._networks)
        if len(self._cache) < 1024:
            self._cache[host] = trusted
        return trusted

    def _peer(self, scope: Scope) -> str | None:
        client = scope.get("client")
        return str(client[0]) if client else None

    def _header(self, scope: Scope, name: bytes) -> str | None:
        values = [v for k, v in scope.get("headers", ()) if k == name]
        if not values:
            return None
        return b",".join(values).decode("latin-1")

    def client_host(self, scope: Scope) -> str | None:
        """The client's address: the peer, or from ``X-Forwarded-For`` via trusted proxies.

        The header is read right to left, skipping trusted proxies; the first
        untrusted address is the client (entries to its left may be forged).
        """
        peer = self._peer(scope)
        if not self.is_trusted(peer):
            return peer
        forwarded = self._header(scope, b"x-forwarded-for")
        if forwarded is None:
            return peer
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    def scheme(self, scope: Scope) -> str:
        """``https``/``http`` (``wss``/``ws``): ``X-Forwarded-Proto`` only from a trusted peer.

        The rightmost value counts: it was set by the proxy that connected to us.
        """
        scheme = str(scope.get("scheme", "http"))
        if not self.is_trusted(self._peer(scope)):
            return scheme
        forwarded = self._header(scope, b"x-forwarded-proto")
        if forwarded is None:
            return scheme
        proto = forwarded.rsplit(",", 1)[-1].strip().lower()
        if proto not in ("http", "https"):
            return scheme
        if scope.get("type") == "websocket":
            return "wss" if proto == "https" else "ws"
        return proto
