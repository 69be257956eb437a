"""Static files: lookup, validators, ranges, and traversal at the ASGI level."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import pytest

from ferrule.core import App, ImproperlyConfiguredError
from ferrule.core.staticfiles import MAX_RANGES, parse_range
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from pathlib import Path

CSS = b"body { color: red; }\n"
DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tmp/site/static (the root), a sibling static-secret, and a secret file outside."""
    root = tmp_path / "site" / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_bytes(CSS)
    (root / "data.bin").write_bytes(DATA)
    (root / "empty.txt").write_bytes(b"")
    (root / "page.html").write_text("<p>hi</p>")
    (root / "a\\b.txt").write_text("backslash")
    (root / "archive.tar.gz").write_bytes(b"\x1f\x8b")
    secret = tmp_path / "site" / "static-secret"
    secret.mkdir()
    (secret / "x.txt").write_text("sibling secret")
    (tmp_path / "site" / "secret.txt").write_text("outside secret")
    (root / "link_out.txt").symlink_to(tmp_path / "site" / "secret.txt")
    (root / "dir_out").symlink_to(secret, target_is_directory=True)
    (root / "link_in.css").symlink_to(root / "css" / "site.css")
    return root


def make_app(root: Path, **config: Any) -> App:
    return App({"STATIC_DIR": str(root), **config})


async def call(
    app: App, path: str, raw_path: bytes | None = None, headers: list[tuple[bytes, bytes]] = ()
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call the app with a hand-made ASGI scope (no client normalising the path)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("latin-1"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], dict(start["headers"]), body


# -- serving ---------------------------------------------------------------------


async def test_serves_a_file_with_type_validators_and_cache_headers(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/css/site.css")
    assert res.status_code == 200
    assert res.content == CSS
    assert res.headers["content-type"] == "text/css; charset=utf-8"
    assert res.headers["content-length"] == str(len(CSS))
    assert res.headers["accept-ranges"] == "bytes"
    assert res.headers["cache-control"] == "public, max-age=3600"
    st = (site / "css" / "site.css").stat()
    assert res.headers["etag"] == f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
    expected = format_datetime(datetime.fromtimestamp(int(st.st_mtime), UTC), usegmt=True)
    assert res.headers["last-modified"] == expected


async def test_content_types(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        html = await client.get("/static/page.html")
        binary = await client.get("/static/data.bin")
        gz = await client.get("/static/archive.tar.gz")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert binary.headers["content-type"] == "application/octet-stream"
    assert binary.content == DATA
    # A compressed file is the archive itself: no Content-Encoding.
    assert gz.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in gz.headers


async def test_empty_file(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/empty.txt")
    assert (res.status_code, res.content, res.headers["content-length"]) == (200, b"", "0")


async def test_max_age_config_and_no_cache_under_debug(site: Path) -> None:
    async with TestClient(make_app(site, STATIC_MAX_AGE=60)) as client:
        assert (await client.get("/static/empty.txt")).headers["cache-control"] == (
            "public, max-age=60"
        )
    async with TestClient(make_app(site, DEBUG=True)) as client:
        assert (await client.get("/static/empty.txt")).headers["cache-control"] == "no-cache"


async def test_head_sends_headers_without_body(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.head("/static/css/site.css")
    assert res.status_code == 200
    assert res.content == b""
    assert res.headers["content-length"] == str(len(CSS))
    assert "etag" in res.headers


async def test_post_is_405(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.post("/static/css/site.css")
    assert res.status_code == 405


async def test_large_file_is_streamed_in_chunks(site: Path) -> None:
    big = os.urandom(200 * 1024)
    (site / "big.bin").write_bytes(big)
    app = make_app(site)
    scope_messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        scope_messages.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/static/big.bin",
        "raw_path": b"/static/big.bin",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    await app(scope, receive, send)
    bodies = [m for m in scope_messages if m["type"] == "http.response.body"]
    assert len(bodies) == 4  # 64 KiB chunks
    assert all(m["more_body"] for m in bodies[:-1])
    assert not bodies[-1]["more_body"]
    assert b"".join(m["body"] for m in bodies) == big


async def test_url_for_static(site: Path) -> None:
    app = make_app(site)
    assert app.url_for("Static.get", filename="css/site.css") == "/static/css/site.css"
    app2 = make_app(site, STATIC_URL="/assets/")
    assert app2.url_for("Static.get", filename="a.js") == "/assets/a.js"


# -- configuration ---------------------------------------------------------------


def test_not_installed_without_static_dir() -> None:
    app = App()
    assert all(r.endpoint != "Static.get" for r in app.routes)


def test_relative_static_dir_starts_at_base_path(site: Path) -> None:
    app = App({"BASE_PATH": str(site.parent), "STATIC_DIR": "static"})
    assert any(r.endpoint == "Static.get" for r in app.routes)


def test_missing_static_dir_is_a_startup_error(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfiguredError, match="STATIC_DIR='nope'"):
        App({"BASE_PATH": str(tmp_path), "STATIC_DIR": "nope"})
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImproperlyConfiguredError, match="not an existing directory"):
        App({"STATIC_DIR": str(tmp_path / "file")})


@pytest.mark.parametrize("url", ["static", "/", ""])
def test_bad_static_url_is_a_startup_error(site: Path, url: str) -> None:
    with pytest.raises(ImproperlyConfiguredError, match="STATIC_URL"):
        make_app(site, STATIC_URL=url)


# -- conditional requests ----------------------------------------------------------


async def test_if_none_match_gives_304(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        first = await client.get("/static/css/site.css")
        etag = first.headers["etag"]
        same = await client.get("/static/css/site.css", headers={"If-None-Match": etag})
        weak = await client.get("/static/css/site.css", headers={"If-None-Match": f'"x", W/{etag}'})
        star = await client.get("/static/css/site.css", headers={"If-None-Match": "*"})
        other = await client.get("/static/css/site.css", headers={"If-None-Match": '"other"'})
    assert (same.status_code, same.content) == (304, b"")
    assert same.headers["etag"] == etag
    assert "content-length" not in same.headers
    assert weak.status_code == 304
    assert star.status_code == 304
    assert (other.status_code, other.content) == (200, CSS)


async def test_if_modified_since(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        modified = (await client.get("/static/css/site.css")).headers["last-modified"]
        same = await client.get("/static/css/site.css", headers={"If-Modified-Since": modified})
        old = await client.get(
            "/static/css/site.css", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        )
        bad = await client.get("/static/css/site.css", headers={"If-Modified-Since": "yesterday"})
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
        both = await client.get(
            "/static/css/site.css",
            headers={"If-Modified-Since": modified, "If-None-Match": '"other"'},
        )
    assert same.status_code == 304
    assert old.status_code == 200
    assert bad.status_code == 200
    assert both.status_code == 200


async def test_changed_file_gets_a_new_etag(site: Path) -> None:
    target = site / "css" / "site.css"
    async with TestClient(make_app(site)) as client:
        etag = (await client.get("/static/css/site.css")).headers["etag"]
        target.write_bytes(CSS + b"/* more */")
        res = await client.get("/static/css/site.css", headers={"If-None-Match": etag})
    assert res.status_code == 200
    assert res.headers["etag"] != etag


# -- ranges --------------------------------------------------------------------------


async def test_single_range(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/data.bin", headers={"Range": "bytes=10-19"})
        suffix = await client.get("/static/data.bin", headers={"Range": "bytes=-5"})
        open_end = await client.get("/static/data.bin", headers={"Range": "bytes=1020-"})
        clipped = await client.get("/static/data.bin", headers={"Range": "bytes=1000-5000"})
    assert res.status_code == 206
    assert res.content == DATA[10:20]
    assert res.headers["content-range"] == "bytes 10-19/1024"
    assert res.headers["content-length"] == "10"
    assert res.headers["content-type"] == "application/octet-stream"
    assert (suffix.content, suffix.headers["content-range"]) == (DATA[-5:], "bytes 1019-1023/1024")
    assert open_end.content == DATA[1020:]
    assert (clipped.content, clipped.headers["content-range"]) == (
        DATA[1000:],
        "bytes 1000-1023/1024",
    )


async def test_multiple_ranges_are_multipart_byteranges(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/data.bin", headers={"Range": "bytes=0-3, 100-101"})
    assert res.status_code == 206
    ctype = res.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    assert res.headers["content-length"] == str(len(res.content))
    expected = (
        b"--%s\r\ncontent-type: application/octet-stream\r\ncontent-range: bytes 0-3/1024\r\n\r\n"
        % boundary
        + DATA[0:4]
        + b"\r\n--%s\r\ncontent-type: application/octet-stream\r\n"
        b"content-range: bytes 100-101/1024\r\n\r\n"
        % boundary
        + DATA[100:102]
        + b"\r\n--%s--\r\n" % boundary
    )
    assert res.content == expected


async def test_overlapping_ranges_are_merged(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/data.bin", headers={"Range": "bytes=5-9,0-4,8-12"})
    assert res.status_code == 206
    assert res.headers["content-range"] == "bytes 0-12/1024"
    assert res.content == DATA[:13]


async def test_too_many_ranges_serve_the_whole_file(site: Path) -> None:
    spec = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES + 1))
    async with TestClient(make_app(site)) as client:
        many = await client.get("/static/data.bin", headers={"Range": f"bytes={spec}"})
        limit = await client.get(
            "/static/data.bin", headers={"Range": "bytes=" + spec.rsplit(",", 1)[0]}
        )
    assert (many.status_code, many.content) == (200, DATA)
    assert limit.status_code == 206


async def test_unsatisfiable_range_is_416(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/data.bin", headers={"Range": "bytes=2000-3000"})
        empty = await client.get("/static/empty.txt", headers={"Range": "bytes=0-"})
        zero_suffix = await client.get("/static/data.bin", headers={"Range": "bytes=-0"})
    assert res.status_code == 416
    assert res.headers["content-range"] == "bytes */1024"
    assert res.json()["status"] == "error"
    assert (empty.status_code, empty.headers["content-range"]) == (416, "bytes */0")
    assert zero_suffix.status_code == 416


@pytest.mark.parametrize("header", ["items=0-1", "bytes=a-b", "bytes=5-1", "bytes=", "bytes=-"])
async def test_malformed_range_is_ignored(site: Path, header: str) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/data.bin", headers={"Range": header})
    assert (res.status_code, res.content) == (200, DATA)


async def test_if_range(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        first = await client.get("/static/data.bin")
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        current = await client.get(
            "/static/data.bin", headers={"Range": "bytes=0-1", "If-Range": etag}
        )
        by_date = await client.get(
            "/static/data.bin", headers={"Range": "bytes=0-1", "If-Range": modified}
        )
        stale = await client.get(
            "/static/data.bin", headers={"Range": "bytes=0-1", "If-Range": '"old"'}
        )
    assert current.status_code == 206
    assert by_date.status_code == 206
    assert (stale.status_code, stale.content) == (200, DATA)


async def test_head_with_range(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.head("/static/data.bin", headers={"Range": "bytes=0-9"})
    assert (res.status_code, res.content, res.headers["content-length"]) == (206, b"", "10")


@pytest.mark.parametrize(
    "headers",
    [
        # "\xb2" (superscript two, valid latin-1) passes str.isdigit() but not int().
        [(b"range", b"bytes=\xb2-")],
        [(b"range", b"bytes=0-\xb9")],
        # More digits than int() converts (sys.get_int_max_str_digits, 4300).
        [(b"range", b"bytes=" + b"9" * 5000 + b"-")],
        [(b"range", b"bytes=-" + b"9" * 5000)],
        # Date fields too large for datetime raise OverflowError, not ValueError.
        [(b"if-modified-since", b"Mon, 01 Jan 2020 00:00:00 +" + b"9" * 30)],
        [(b"if-modified-since", b"Mon, 01 Jan " + b"9" * 30 + b" 00:00:00 GMT")],
    ],
)
async def test_crafted_range_and_date_headers_are_ignored_not_500(
    site: Path, headers: list[tuple[bytes, bytes]]
) -> None:
    status, _, body = await call(make_app(site), "/static/data.bin", headers=headers)
    assert (status, body) == (200, DATA)


def test_parse_range_unit() -> None:
    assert parse_range("bytes=0-0", 10) == [(0, 0)]
    assert parse_range("BYTES = 0-1", 10) == [(0, 1)]  # lenient about case and spaces
    assert parse_range("bytes=0-1,3-4", 10) == [(0, 1), (3, 4)]
    assert parse_range("bytes=0-1,2-4", 10) == [(0, 4)]  # adjacent ranges merge
    assert parse_range("bytes=20-30", 10) == []
    assert parse_range("bytes=-20", 10) == [(0, 9)]


# -- traversal (ASGI level, mandatory) ----------------------------------------------


async def test_asgi_call_serves_a_good_path(site: Path) -> None:
    status, headers, body = await call(make_app(site), "/static/css/site.css")
    assert (status, body) == (200, CSS)
    assert headers[b"content-type"] == b"text/css; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "raw_path"),
    [
        # decoded forms, as a server hands them over after percent-decoding
        ("/static/../secret.txt", b"/static/%2e%2e/secret.txt"),
        ("/static/../secret.txt", b"/static/..%2fsecret.txt"),
        ("/static/css/../../secret.txt", b"/static/css/..%2f..%2fsecret.txt"),
        ("/static/../static-secret/x.txt", b"/static/../static-secret/x.txt"),
        ("/static/css/../../static-secret/x.txt", b"/static/css/%2e%2e/%2e%2e/static-secret/x.txt"),
        ("/static/./css/site.css", b"/static/./css/site.css"),
        ("/static/..", b"/static/.."),
        # raw forms, as a server that does not decode would pass them
        ("/static/%2e%2e/secret.txt", b"/static/%2e%2e/secret.txt"),
        ("/static/..%2fsecret.txt", b"/static/..%2fsecret.txt"),
        ("/static/%2e%2e%2fsecret.txt", b"/static/%2e%2e%2fsecret.txt"),
        # absolute paths, empty segments
        ("/static//etc/passwd", b"/static//etc/passwd"),
        ("/static/css//site.css", b"/static/css//site.css"),
        # NUL bytes
        ("/static/css/site.css\x00.png", b"/static/css/site.css%00.png"),
        ("/static/\x00", b"/static/%00"),
        # symlinks out of the root (a file, and a directory)
        ("/static/link_out.txt", b"/static/link_out.txt"),
        ("/static/dir_out/x.txt", b"/static/dir_out/x.txt"),
        # directories are never listed
        ("/static/css", b"/static/css"),
        ("/static/css/", b"/static/css/"),
        # backslashes are literal on POSIX: no such file
        ("/static/..\\secret.txt", b"/static/..%5csecret.txt"),
        ("/static/css\\..\\..\\secret.txt", b"/static/css%5c..%5c..%5csecret.txt"),
    ],
)
async def test_traversal_is_refused(site: Path, path: str, raw_path: bytes) -> None:
    status, _, body = await call(make_app(site), path, raw_path)
    assert status == 404
    assert b"outside secret" not in body
    assert b"sibling secret" not in body
    assert b"color: red" not in body


async def test_sibling_prefix_directory_is_refused(site: Path) -> None:
    # Even a root given without resolving (and a trailing slash) must not match
    # /.../static-secret by string prefix.
    app = App({"STATIC_DIR": str(site) + "/"})
    status, _, body = await call(app, "/static/../static-secret/x.txt")
    assert status == 404
    assert b"sibling" not in body


async def test_symlink_inside_the_root_is_served(site: Path) -> None:
    status, _, body = await call(make_app(site), "/static/link_in.css")
    assert (status, body) == (200, CSS)


async def test_root_behind_a_symlink_still_works(site: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(site, target_is_directory=True)
    status, _, body = await call(App({"STATIC_DIR": str(alias)}), "/static/css/site.css")
    assert (status, body) == (200, CSS)


async def test_backslash_is_a_literal_file_name_on_posix(site: Path) -> None:
    status, _, body = await call(make_app(site), "/static/a\\b.txt", b"/static/a%5cb.txt")
    assert (status, body) == (200, b"backslash")


async def test_not_found_is_the_error_shape(site: Path) -> None:
    async with TestClient(make_app(site)) as client:
        res = await client.get("/static/missing.css")
    assert res.status_code == 404
    assert res.json()["status"] == "error"
