"""Content negotiation of JSON results: JSON, MessagePack, YAML by Accept; 406."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
import yaml
from pydantic import BaseModel

from ferrule.core import App, Controller, MiddlewareBase, Request, Response, get, path
from ferrule.core import negotiation as neg
from ferrule.core.testing import TestClient


class User(BaseModel):
    id: int
    name: str


@path("/n")
class NegApi(Controller):
    @get("/dict")
    async def as_dict(self) -> dict[str, Any]:
        return {"a": 1, "b": [1, 2]}

    @get("/model")
    async def model(self) -> User:
        return User(id=1, name="ann")

    @get("/filtered")
    async def filtered(self) -> User:
        return {"id": 2, "name": "bob", "password": "secret"}  # type: ignore[return-value]

    @get("/response")
    async def response(self, req: Request) -> Response[Any]:
        return req.response.json({"made": True}).status(201).set_header("x-own", "1")

    @get("/invalid")
    async def invalid(self) -> User:
        return {"id": "not a number", "name": "x"}  # type: ignore[return-value]

    @get("/text")
    async def text(self) -> str:
        return "plain"


class Noop(MiddlewareBase):
    pass


async def fetch(url: str, accept: str | None, app: App | None = None) -> Any:
    app = app or App(controllers=[NegApi])
    headers = {"accept": accept} if accept is not None else {}
    async with TestClient(app) as client:
        if accept is None:
            client._client.headers.pop("accept", None)
        return await client.get(url, headers=headers)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "application/*",
        "application/json; charset=utf-8",
        "application/problem+json",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/msgpack;q=0.5, application/json",
    ],
)
async def test_json_when_acceptable(accept: str | None) -> None:
    res = await fetch("/n/dict", accept)
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/json"
    assert res.json() == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize("accept", ["application/msgpack", "application/x-msgpack"])
async def test_msgpack(accept: str) -> None:
    res = await fetch("/n/dict", accept)
    assert res.status_code == 200
    assert res.headers["content-type"] == accept
    assert res.headers["vary"] == "Accept"
    assert msgpack.unpackb(res.content) == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize("accept", ["application/yaml", "text/yaml"])
async def test_yaml(accept: str) -> None:
    res = await fetch("/n/model", accept)
    assert res.status_code == 200
    assert res.headers["content-type"].startswith(accept)
    assert yaml.safe_load(res.text) == {"id": 1, "name": "ann"}


async def test_q_values_pick_the_preferred_type() -> None:
    res = await fetch("/n/dict", "application/json;q=0.4, application/msgpack;q=0.9")
    assert res.headers["content-type"] == "application/msgpack"
    res = await fetch("/n/dict", "application/yaml;q=0.1, application/json;q=0.2")
    assert res.headers["content-type"] == "application/json"


async def test_response_model_filters_msgpack_too() -> None:
    res = await fetch("/n/filtered", "application/msgpack")
    assert msgpack.unpackb(res.content) == {"id": 2, "name": "bob"}


async def test_response_objects_keep_status_and_headers() -> None:
    res = await fetch("/n/response", "application/msgpack")
    assert res.status_code == 201
    assert res.headers["x-own"] == "1"
    assert msgpack.unpackb(res.content) == {"made": True}


@pytest.mark.parametrize("accept", ["text/html", "image/png", "application/json;q=0"])
async def test_406_in_the_error_shape_when_nothing_is_acceptable(accept: str) -> None:
    res = await fetch("/n/dict", accept)
    assert res.status_code == 406
    body = res.json()
    assert body["status"] == "error"
    assert "application/json" in body["message"]
    assert res.headers["vary"] == "Accept"


async def test_non_json_results_are_not_negotiated() -> None:
    res = await fetch("/n/text", "application/msgpack")
    assert res.status_code == 200
    assert res.text == "plain"


async def test_negotiation_behind_middleware_base() -> None:
    app = App(controllers=[NegApi], middleware=[Noop])
    res = await fetch("/n/dict", "application/msgpack", app)
    assert msgpack.unpackb(res.content) == {"a": 1, "b": [1, 2]}
    refused = await fetch("/n/dict", "text/html", App(controllers=[NegApi], middleware=[Noop]))
    assert refused.status_code == 406


async def test_without_msgpack_and_yaml_only_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neg, "_offered", ("application/json",))
    monkeypatch.setattr(neg, "_decisions", {})
    res = await fetch("/n/dict", "application/msgpack")
    assert res.status_code == 406
    assert res.json()["message"].endswith("available: application/json")


def test_parse_accept_tolerates_garbage() -> None:
    assert neg.parse_accept("a/b;q=x, , c/d;q=2, e/f;level=1") == [
        ("a/b", 0.0),
        ("c/d", 1.0),
        ("e/f", 1.0),
    ]


@pytest.mark.parametrize("middleware", [(), (Noop,)])
async def test_body_failing_its_model_is_a_500_in_every_format(middleware: Any) -> None:
    app = App(controllers=[NegApi], middleware=middleware)
    res = await fetch("/n/invalid", "application/msgpack", app)
    assert res.status_code == 500
    assert res.json()["status"] == "error"
