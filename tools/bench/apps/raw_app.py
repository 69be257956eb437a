"""The practical limit: a hand-written ASGI 3 app, no framework.

It still does the work every framework has to do: route on method and path,
parse the int path parameter and the typed query ints, parse the JSON body and
validate it by hand, answer 404/405/422 in the same JSON error shape as the
other bench apps. Nothing is cached between requests.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from _db import DB_URL, ROWS, UserRow
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON_CT = (b"content-type", b"application/json")
_PLAINTEXT = b"Hello, World!"
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _headers(body: bytes, ctype: tuple[bytes, bytes] = _JSON_CT) -> list[tuple[bytes, bytes]]:
    return [ctype, (b"content-length", str(len(body)).encode())]


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Any, status: int, data: Any) -> None:
    body = _dumps(data).encode()
    await _send(send, status, body, _headers(body))


async def _error(send: Any, status: int, message: str, errors: list[Any] | None = None) -> None:
    await _json(send, status, {"status": "error", "message": message, "errors": errors or []})


def _err(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def _parse_int(raw: str) -> int | None:
    raw = raw.strip()
    body = raw[1:] if raw[:1] in ("-", "+") else raw
    if not body.isdigit() or not body.isascii():
        return None
    return int(raw)


def _query(query_string: bytes) -> dict[str, str]:
    values: dict[str, str] = {}
    if not query_string:
        return values
    for pair in query_string.decode("latin-1").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            key, value = unquote_plus(key), unquote_plus(value)
        values.setdefault(key, value)
    return values


def _validate_item(data: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    if not isinstance(data, dict):
        return None, [_err(["body"], "Input should be a valid dictionary", "model_type")]
    errors: list[dict[str, Any]] = []
    name = data.get("name")
    if "name" not in data:
        errors.append(_err(["body", "name"], "Field required", "missing"))
    elif not isinstance(name, str):
        errors.append(_err(["body", "name"], "Input should be a valid string", "string_type"))
    price: Any = data.get("price")
    if "price" not in data:
        errors.append(_err(["body", "price"], "Field required", "missing"))
    elif isinstance(price, bool) or not isinstance(price, int | float | str):
        errors.append(_err(["body", "price"], "Input should be a valid number", "float_type"))
    else:
        try:
            price = float(price)
        except ValueError:
            errors.append(
                _err(
                    ["body", "price"],
                    "Input should be a valid number, unable to parse string as a number",
                    "float_parsing",
                )
            )
    tags = data.get("tags")
    if "tags" not in data:
        errors.append(_err(["body", "tags"], "Field required", "missing"))
    elif not isinstance(tags, list):
        errors.append(_err(["body", "tags"], "Input should be a valid list", "list_type"))
    else:
        for i, tag in enumerate(tags):
            if not isinstance(tag, str):
                errors.append(
                    _err(["body", "tags", i], "Input should be a valid string", "string_type")
                )
    if errors:
        return None, errors
    return {"name": name, "price": price, "tags": tags}, errors


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _items(receive: Any, send: Any) -> None:
    body = await _read_body(receive)
    try:
        data = json.loads(body)
    except ValueError:
        await _error(send, 400, "Malformed JSON body")
        return
    item, errors = _validate_item(data)
    if item is None:
        await _error(send, 422, "Validation failed", errors)
        return
    await _json(send, 201, item)


engine = create_async_engine(DB_URL)
_DB_QUERY = select(UserRow.id, UserRow.name).order_by(UserRow.id).limit(ROWS)


async def _db(send: Any) -> None:
    async with engine.connect() as conn:
        rows = (await conn.execute(_DB_QUERY)).all()
    await _json(send, 200, [{"id": r[0], "name": r[1]} for r in rows])


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if kind != "http":
        return
    path: str = scope["path"]
    method: str = scope["method"]
    if path == "/plaintext":
        if method == "GET":
            await _send(send, 200, _PLAINTEXT, _headers(_PLAINTEXT, _TEXT[0]))
            return
    elif path == "/json":
        if method == "GET":
            await _json(send, 200, {"message": "Hello, World!"})
            return
    elif path == "/db":
        if method == "GET":
            await _db(send)
            return
    elif path == "/items":
        if method == "POST":
            await _items(receive, send)
            return
    elif path == "/query":
        if method == "GET":
            query = _query(scope["query_string"])
            out: dict[str, int] = {}
            errors = []
            for key, default in (("limit", 10), ("offset", 0)):
                raw = query.get(key)
                value = default if raw is None else _parse_int(raw)
                if value is None:
                    errors.append(
                        _err(
                            ["query", key],
                            "Input should be a valid integer, unable to parse string as an integer",
                            "int_parsing",
                        )
                    )
                else:
                    out[key] = value
            if errors:
                await _error(send, 422, "Validation failed", errors)
            else:
                await _json(send, 200, out)
            return
    elif path.startswith("/users/"):
        tail = path[7:]
        if not (tail.isdigit() and tail.isascii()):
            await _error(send, 404, f"Not found: {path}")
            return
        if method == "GET":
            user_id = int(tail)
            await _json(send, 200, {"id": user_id, "name": f"user{user_id}"})
            return
    else:
        await _error(send, 404, f"Not found: {path}")
        return
    await _error(send, 405, f"Method {method} not allowed")
