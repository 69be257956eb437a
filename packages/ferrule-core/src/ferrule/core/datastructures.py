"""Small containers: headers, query parameters, request state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

__all__ = ("Headers", "MutableHeaders", "QueryParams", "State")


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only request headers.

    ``headers["content-type"]`` gives the first value; ``getlist`` gives all.
    Built from the ASGI ``(name, value)`` byte pairs, decoded as latin-1.
    """

    __slots__ = ("_dict", "_raw")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._raw = list(raw)
        self._dict: dict[str, str] | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Headers:
        return cls((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in values.items())

    def _index(self) -> dict[str, str]:
        d = self._dict
        if d is None:
            d = {}
            for k, v in self._raw:
                key = k.decode("latin-1").lower()
                if key not in d:
                    d[key] = v.decode("latin-1")
            self._dict = d
        return d

    def __getitem__(self, key: str) -> str:
        return self._index()[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def getlist(self, key: str) -> list[str]:
        """Return every value sent for ``key``, in order."""
        k = key.lower().encode("latin-1")
        return [v.decode("latin-1") for n, v in self._raw if n.lower() == k]

    def raw(self) -> list[tuple[bytes, bytes]]:
        """Return the raw ASGI header pairs."""
        return list(self._raw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({[(k.decode(), v.decode()) for k, v in self._raw]!r})"


class MutableHeaders(MutableMapping[str, str]):
    """Case-insensitive response headers that keep repeated names (``Set-Cookie``).

    Setting a key replaces every value of that name; ``add`` appends one more.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        for key, value in items:
            self.add(key, value)

    def __getitem__(self, key: str) -> str:
        k = key.lower()
        for n, v in self._items:
            if n == k:
                return v
        raise KeyError(key)

    def __setitem__(self, key: str, value: str) -> None:
        k = key.lower()
        _check_header(k, value)
        items = [(n, v) for n, v in self._items if n != k]
        items.append((k, value))
        self._items = items

    def __delitem__(self, key: str) -> None:
        k = key.lower()
        before = len(self._items)
        self._items = [(n, v) for n, v in self._items if n != k]
        if len(self._items) == before:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        k = key.lower()
        return any(n == k for n, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for n, _ in self._items:
            seen.setdefault(n, None)
        return iter(seen)

    def __len__(self) -> int:
        return len({n for n, _ in self._items})

    def add(self, key: str, value: str) -> None:
        """Append a header without replacing existing values of that name."""
        k = key.lower()
        _check_header(k, value)
        self._items.append((k, value))

    def getlist(self, key: str) -> list[str]:
        k = key.lower()
        return [v for n, v in self._items if n == k]

    def items_list(self) -> list[tuple[str, str]]:
        """Return all ``(name, value)`` pairs, repeated names included."""
        return list(self._items)

    def encoded(self) -> list[tuple[bytes, bytes]]:
        return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in self._items]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


def _check_header(name: str, value: str) -> None:
    # Header injection: a CR or LF in a name or value would let a caller smuggle
    # a second header or a response body.
    if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
        raise ValueError(f"Invalid character in header {name!r}: {value!r}")


class QueryParams(Mapping[str, str]):
    """Multi-valued query string parameters; ``params["a"]`` is the last value."""

    __slots__ = ("_dict", "_list")

    def __init__(self, query_string: bytes | str = b"") -> None:
        qs = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        self._list: list[tuple[str, str]] = _parse_query(qs)
        self._dict: dict[str, str] = dict(self._list)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[str]:
        """Return every value given for ``key``, in order."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


def _parse_query(qs: str) -> list[tuple[str, str]]:
    if not qs:
        return []
    if "%" in qs or "+" in qs or ";" in qs:
        return parse_qsl(qs, keep_blank_values=True)
    # Fast path for the common case: nothing to unescape.
    out: list[tuple[str, str]] = []
    for pair in qs.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            out.append((key, value))
    return out


class State:
    """A free-form attribute bag (``req.state.user = ...``)."""

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        if initial:
            self.__dict__.update(initial)

    def __repr__(self) -> str:
        return f"State({self.__dict__!r})"
