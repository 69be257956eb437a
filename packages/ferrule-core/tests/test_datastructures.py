"""Headers, query parameters and state containers."""

import pytest

from ferrule.core import Headers, MutableHeaders, QueryParams, State


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    headers = Headers(
        [(b"content-type", b"text/plain"), (b"x-multi", b"one"), (b"X-Multi", b"two")]
    )
    assert headers["Content-Type"] == "text/plain"
    assert headers["x-multi"] == "one"
    assert headers.getlist("X-MULTI") == ["one", "two"]
    assert "CONTENT-TYPE" in headers
    assert "missing" not in headers
    assert 1 not in headers  # type: ignore[comparison-overlap]
    assert headers.get("missing", "default") == "default"
    assert len(headers) == 2
    assert list(headers) == ["content-type", "x-multi"]
    assert headers.getlist("missing") == []
    with pytest.raises(KeyError):
        _ = headers["missing"]


def test_headers_decode_latin1_and_keep_raw_pairs() -> None:
    raw = [(b"x-name", "café".encode("latin-1"))]
    headers = Headers(raw)
    assert headers["x-name"] == "café"
    assert headers.raw() == raw


def test_headers_from_mapping() -> None:
    headers = Headers.from_mapping({"X-Token": "abc"})
    assert headers["x-token"] == "abc"
    assert headers.raw() == [(b"x-token", b"abc")]


def test_mutable_headers_set_replaces_add_appends() -> None:
    headers = MutableHeaders()
    headers["Set-Cookie"] = "a=1"
    headers.add("set-cookie", "b=2")
    assert headers.getlist("SET-COOKIE") == ["a=1", "b=2"]
    assert len(headers) == 1
    headers["set-cookie"] = "c=3"
    assert headers.getlist("set-cookie") == ["c=3"]
    headers["X-Other"] = "x"
    assert list(headers) == ["set-cookie", "x-other"]
    assert headers.encoded() == [(b"set-cookie", b"c=3"), (b"x-other", b"x")]
    assert headers.items_list() == [("set-cookie", "c=3"), ("x-other", "x")]
    del headers["SET-COOKIE"]
    assert "set-cookie" not in headers
    with pytest.raises(KeyError):
        del headers["set-cookie"]
    with pytest.raises(KeyError):
        _ = headers["set-cookie"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("X-Evil", "a\r\nSet-Cookie: x=1"), ("X-Evil", "a\nb"), ("X-Evil\r\nX", "v"), ("a:b", "v")],
)
def test_mutable_headers_refuse_header_injection(name: str, value: str) -> None:
    headers = MutableHeaders()
    with pytest.raises(ValueError, match="Invalid character in header"):
        headers[name] = value
    with pytest.raises(ValueError, match="Invalid character in header"):
        headers.add(name, value)


def test_mutable_headers_constructor_refuses_header_injection() -> None:
    with pytest.raises(ValueError, match="Invalid character in header"):
        MutableHeaders([("X-Evil", "a\r\nSet-Cookie: x=1")])


def test_query_params_are_multi_valued() -> None:
    params = QueryParams(b"a=1&b=2&a=3&empty=&plus=a+b&enc=%C3%A9")
    assert params["a"] == "3"
    assert params.getlist("a") == ["1", "3"]
    assert params["empty"] == ""
    assert params["plus"] == "a b"
    assert params.getlist("missing") == []
    assert params.get("missing") is None
    assert set(params) == {"a", "b", "empty", "plus", "enc"}
    assert len(params) == 5
    assert params.multi_items()[:3] == [("a", "1"), ("b", "2"), ("a", "3")]


def test_query_params_decode_utf8() -> None:
    assert QueryParams("name=%C3%A9t%C3%A9")["name"] == "été"


def test_state_is_an_attribute_bag() -> None:
    state = State({"user": "ada"})
    assert state.user == "ada"
    state.role = "admin"
    assert state.role == "admin"
    with pytest.raises(AttributeError):
        _ = state.missing
