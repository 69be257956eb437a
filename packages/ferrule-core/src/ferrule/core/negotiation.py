"""Content negotiation of JSON results: JSON, MessagePack and YAML by ``Accept``.

The kernel calls :func:`negotiate` only when a request's ``Accept`` header is
present and is neither ``*/*`` nor ``application/json`` (one set lookup on the
raw header); everything else keeps the JSON fast paths. MessagePack
(``msgpack``) and YAML (``pyyaml``) are offered when installed.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python

from .responses import Response, error_response

if TYPE_CHECKING:
    from .request import Request
    from .routing.route import Route

__all__ = ("JSON_ACCEPTS", "negotiate", "parse_accept")

#: Raw Accept values that need no negotiation (the kernel's fast check).
JSON_ACCEPTS = frozenset({b"*/*", b"application/json"})

_JSON = "application/json"
_MSGPACK = ("application/msgpack", "application/x-msgpack")
_YAML = ("application/yaml", "text/yaml", "application/x-yaml")
_CACHE_SIZE = 256
_decisions: dict[bytes, str | None] = {}
_offered: tuple[str, ...] | None = None


def _available() -> tuple[str, ...]:
    """Media types this process can produce, in the server's order of preference."""
    global _offered
    if _offered is None:
        offered = [_JSON]
        if importlib.util.find_spec("msgpack") is not None:
            offered.extend(_MSGPACK)
        if importlib.util.find_spec("yaml") is not None:
            offered.extend(_YAML)
        _offered = tuple(offered)
    return _offered


def parse_accept(header: str) -> list[tuple[str, float]]:
    """``[(media range, q), ...]`` from an Accept header; malformed q counts as 0."""
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """q of ``offer``: the most specific matching range decides (RFC 9110 12.5.1)."""
    kind = offer.partition("/")[0]
    best, best_q = -1, 0.0
    for media, q in ranges:
        if media == offer or (offer == _JSON and media.endswith("+json")):
            rank = 3
        elif media == kind + "/*":
            rank = 2
        elif media == "*/*":
            rank = 1
        else:
            continue
        if rank > best:
            best, best_q = rank, q
    return best_q


def choose(accept: bytes) -> str | None:
    """The media type to send for this Accept value, or None (406); cached."""
    try:
        return _decisions[accept]
    except KeyError:
        pass
    ranges = parse_accept(accept.decode("latin-1"))
    chosen, chosen_q = None, 0.0
    for offer in _available():
        q = _quality(offer, ranges)
        if q > chosen_q:  # ties keep the earlier (server-preferred) offer
            chosen, chosen_q = offer, q
    if len(_decisions) < _CACHE_SIZE:
        _decisions[accept] = chosen
    return chosen


def _is_json_result(result: Any) -> bool:
    if isinstance(result, Response):
        return result.kind == "json" and not result.streaming
    return result is not None and not isinstance(result, str | bytes | bytearray | memoryview)


def negotiate(req: Request, route: Route, result: Any) -> Any:
    """Return ``result`` unchanged when JSON is acceptable, else a converted or 406 Response."""
    if result is None:
        result = req.response
    if not _is_json_result(result) or req._accept is None:
        return result
    chosen = choose(req._accept)
    if chosen == _JSON:
        return result
    if chosen is None:
        offered = ", ".join(_available())
        return error_response(
            406,
            f"None of the media types in Accept can be produced; available: {offered}",
            headers={"vary": "Accept"},
        )
    response = result if isinstance(result, Response) else Response(result, route.status_code)
    adapter = route.response_adapter
    if adapter is not None:
        data = adapter.dump_python(
            adapter.validate_python(response.content, from_attributes=True), mode="json"
        )
    else:
        data = to_jsonable_python(response.content)
    if chosen in _MSGPACK:
        body: bytes = importlib.import_module("msgpack").packb(data)
    else:
        yaml = importlib.import_module("yaml")
        body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    response.body(body, media_type=chosen)
    vary = response.headers.get("vary")
    response.headers["vary"] = f"{vary}, Accept" if vary else "Accept"
    return response
