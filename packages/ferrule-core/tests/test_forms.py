"""Forms and uploads: urlencoded and multipart parsing, binding, limits, spooling, safety."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pytest
from pydantic import BaseModel, Field

from ferrule.core import (
    App,
    Controller,
    Depends,
    FilePart,
    Form,
    ImproperlyConfiguredError,
    Request,
    UploadFile,
    path,
    post,
    secure_filename,
)
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

BOUNDARY = "XyZbOuNdArY"
MULTIPART_CT = f"multipart/form-data; boundary={BOUNDARY}"

# Objects handed to handlers, kept so tests can inspect them after the response.
SEEN: list[Any] = []


def part(
    name: str,
    data: bytes | str,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    extra: str = "",
) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    head += extra
    body = data.encode() if isinstance(data, str) else data
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + body + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


class Signup(BaseModel):
    email: str = Field(min_length=3)
    age: int = Field(ge=18)
    roles: list[str] = Field(default_factory=list)


@path("/forms")
class FormsApi(Controller):
    @post("/login")
    async def login(
        self,
        username: Annotated[str, Form()],
        age: Annotated[int, Form()],
        tags: Annotated[list[str], Form()],
        nick: Annotated[str | None, Form(alias="nick-name")] = None,
    ) -> dict[str, Any]:
        return {"username": username, "age": age, "tags": tags, "nick": nick}

    @post("/upload")
    async def upload(
        self, document: UploadFile, note: Annotated[str, Form()] = ""
    ) -> dict[str, Any]:
        SEEN.append(document)
        return {
            "filename": document.filename,
            "raw_filename": document.raw_filename,
            "content_type": document.content_type,
            "size": document.size,
            "content": (await document.read()).decode(),
            "in_memory": document.in_memory,
            "note": note,
        }

    @post("/many")
    async def many(
        self, files: list[UploadFile], avatar: UploadFile | None = None
    ) -> dict[str, Any]:
        return {
            "names": [f.filename for f in files],
            "bodies": [(await f.read()).decode() for f in files],
            "avatar": avatar.filename if avatar is not None else None,
        }

    @post("/signup")
    async def signup(self, data: Annotated[Signup, Form()]) -> dict[str, Any]:
        return data.model_dump()

    @post("/raw")
    async def raw(self, req: Request) -> dict[str, Any]:
        form = await req.form()
        again = await req.form()
        out: dict[str, Any] = {"same": form is again, "keys": sorted(form)}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                SEEN.append(value)
                out.setdefault(name, []).append({"file": value.filename, "size": value.size})
            else:
                out.setdefault(name, []).append(value)
        return out

    @post("/explode")
    async def explode(self, document: UploadFile) -> None:
        SEEN.append(document)
        raise RuntimeError("handler failed after receiving the upload")

    @post("/stream")
    async def stream(self, req: Request) -> dict[str, Any]:
        out: list[Any] = []
        async for name, value in req.form_iter():
            if isinstance(value, FilePart):
                sizes = [len(chunk) async for chunk in value]
                out.append([name, value.filename, value.content_type, sizes])
            else:
                out.append([name, value])
        return {"items": out}

    @post("/stream-peek")
    async def stream_peek(self, req: Request) -> list[Any]:
        # Reading only the start of a file and breaking out is fine too.
        out: list[Any] = []
        async for name, value in req.form_iter():
            if isinstance(value, FilePart):
                async for chunk in value:
                    out.append([name, len(chunk)])
                    break
            else:
                out.append([name, value])
        return out

    @post("/stream-skip")
    async def stream_skip(self, req: Request) -> list[str]:
        # Files that are not read are skipped; the following fields still arrive.
        return [name async for name, value in req.form_iter() if isinstance(value, str)]


def make_app(**config: Any) -> App:
    return App(config or None, controllers=[FormsApi])


@pytest.fixture(autouse=True)
def _clear_seen() -> Iterator[None]:
    SEEN.clear()
    yield
    SEEN.clear()


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files go to an empty directory the test can inspect."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    return spool


def entries(directory: Path, *, deep: bool = False) -> list[Path]:
    return list(directory.rglob("*") if deep else directory.iterdir())


def assert_413(res: Any, key: str) -> None:
    assert res.status_code == 413
    body = res.json()
    assert body["status"] == "error"
    assert key in body["message"]


# -- urlencoded and multipart fields -------------------------------------------------


async def test_urlencoded_fields_repeated_values_and_alias() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/login",
            content=b"username=ann+b%C3%A9&age=42&tags=a&tags=b%26c&nick-name=zed",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert res.status_code == 200
    assert res.json() == {"username": "ann bé", "age": 42, "tags": ["a", "b&c"], "nick": "zed"}


async def test_multipart_fields_repeated_values() -> None:
    body = multipart(
        part("username", "ann"),
        part("age", "42"),
        part("tags", "a"),
        part("tags", "b"),
    )
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/login", content=body, headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 200
    assert res.json() == {"username": "ann", "age": 42, "tags": ["a", "b"], "nick": None}


async def test_missing_and_invalid_fields_are_422_with_form_loc() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/login", data={"age": "old", "tags": ["x"]})
    assert res.status_code == 422
    assert res.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": [
            {"loc": ["form", "username"], "msg": "Field required", "type": "missing"},
            {
                "loc": ["form", "age"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            },
        ],
    }


async def test_json_sent_to_a_form_endpoint_is_415() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/login", json={"username": "ann"})
    assert res.status_code == 415
    assert "application/x-www-form-urlencoded" in res.json()["message"]


async def test_no_body_at_all_is_an_empty_form() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/login")
    assert res.status_code == 422
    assert [e["loc"] for e in res.json()["errors"]] == [
        ["form", "username"],
        ["form", "age"],
        ["form", "tags"],
    ]


async def test_file_where_a_text_field_is_expected_is_422() -> None:
    body = multipart(
        part("username", "x", filename="u.txt"),
        part("age", "20"),
        part("tags", "t"),
    )
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/login", content=body, headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 422
    assert res.json()["errors"] == [
        {"loc": ["form", "username"], "msg": "Expected a text field", "type": "string_type"}
    ]


async def test_malformed_multipart_bodies_are_400() -> None:
    truncated = part("a", "1")  # no closing boundary
    async with TestClient(make_app()) as client:
        no_boundary = await client.post(
            "/forms/raw", content=b"x", headers={"content-type": "multipart/form-data"}
        )
        cut = await client.post(
            "/forms/raw", content=truncated, headers={"content-type": MULTIPART_CT}
        )
        no_name = await client.post(
            "/forms/raw",
            content=multipart(f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n".encode()),
            headers={"content-type": MULTIPART_CT},
        )
    assert no_boundary.status_code == 400
    assert "boundary" in no_boundary.json()["message"]
    assert cut.status_code == 400
    assert "closing boundary" in cut.json()["message"]
    assert no_name.status_code == 400
    assert "Content-Disposition" in no_name.json()["message"]


# -- uploads -------------------------------------------------------------------------


async def test_upload_file_attributes_and_content() -> None:
    body = multipart(
        part("document", "hello world", filename="report.txt", content_type="text/plain"),
        part("note", "n1"),
    )
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/upload", content=body, headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 200
    assert res.json() == {
        "filename": "report.txt",
        "raw_filename": "report.txt",
        "content_type": "text/plain",
        "size": 11,
        "content": "hello world",
        "in_memory": True,
        "note": "n1",
    }
    (upload,) = SEEN
    assert upload.headers["content-type"] == "text/plain"
    assert upload.closed  # closed by the kernel after the response


async def test_upload_list_and_optional_upload() -> None:
    files = [
        ("files", ("a.txt", b"A", "text/plain")),
        ("files", ("b.txt", b"BB", "text/plain")),
    ]
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/many", files=files)
        with_avatar = await client.post(
            "/forms/many", files=[*files, ("avatar", ("me.png", b"\x89PNG", "image/png"))]
        )
    assert res.status_code == 200
    assert res.json() == {"names": ["a.txt", "b.txt"], "bodies": ["A", "BB"], "avatar": None}
    assert with_avatar.json()["avatar"] == "me.png"


async def test_text_field_where_a_file_is_expected_is_422() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/upload", data={"document": "not a file"}, files={"x": b"1"})
        missing = await client.post("/forms/upload", data={"note": "n"}, files={"x": b"1"})
    assert res.status_code == 422
    assert res.json()["errors"] == [
        {"loc": ["form", "document"], "msg": "Expected a file upload", "type": "file_type"}
    ]
    assert missing.json()["errors"] == [
        {"loc": ["form", "document"], "msg": "Field required", "type": "missing"}
    ]


async def test_upload_save_needs_an_explicit_destination(tmp_path: Path) -> None:
    upload = UploadFile(filename="../../x.txt", content_type="text/plain", max_memory=4)
    await upload.write(b"0123456789")
    assert not upload.in_memory
    target = tmp_path / "stored.bin"
    assert await upload.save(target) == 10
    assert target.read_bytes() == b"0123456789"
    assert await upload.read() == b"0123456789"  # save() leaves the position at the start
    assert [c async for c in upload.chunks(4)] == [b"0123", b"4567", b"89"]
    with pytest.raises(TypeError):
        await upload.save(None)  # type: ignore[arg-type]
    await upload.close()
    assert upload.closed
    assert not (tmp_path / "x.txt").exists()


# -- models from form data -----------------------------------------------------------


async def test_model_from_form_data() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/signup", data={"email": "a@b.c", "age": "30", "roles": ["x", "y"]}
        )
        one_role = await client.post(
            "/forms/signup", data={"email": "a@b.c", "age": "30", "roles": "x"}
        )
    assert res.status_code == 200
    assert res.json() == {"email": "a@b.c", "age": 30, "roles": ["x", "y"]}
    assert one_role.json()["roles"] == ["x"]


async def test_model_from_form_data_invalid_is_422() -> None:
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/signup", data={"age": "12"})
    assert res.status_code == 422
    assert res.json()["errors"] == [
        {"loc": ["form", "email"], "msg": "Field required", "type": "missing"},
        {
            "loc": ["form", "age"],
            "msg": "Input should be greater than or equal to 18",
            "type": "greater_than_equal",
        },
    ]


# -- req.form() ----------------------------------------------------------------------


async def test_req_form_is_a_cached_multidict() -> None:
    body = multipart(
        part("a", "1"),
        part("a", "2"),
        part("f", b"xyz", filename="f.bin"),
    )
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/raw", content=body, headers={"content-type": MULTIPART_CT})
    assert res.status_code == 200
    assert res.json() == {
        "same": True,
        "keys": ["a", "f"],
        "a": ["1", "2"],
        "f": [{"file": "f.bin", "size": 3}],
    }


# -- limits: each one is a 413 in the error shape ------------------------------------


async def test_total_body_limit_is_413() -> None:
    body = multipart(part("document", b"x" * 5000, filename="big.bin"))
    async with TestClient(make_app(MAX_BODY_SIZE=1000)) as client:
        res = await client.post(
            "/forms/upload", content=body, headers={"content-type": MULTIPART_CT}
        )

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted on arrival
            for i in range(0, len(body), 512):
                yield body[i : i + 512]

        streamed = await client.post(
            "/forms/upload", content=chunks(), headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 413
    assert res.json()["status"] == "error"
    assert streamed.status_code == 413


async def test_part_count_bomb_is_413() -> None:
    body = multipart(*(part(f"p{i}", "") for i in range(1001)))
    async with TestClient(make_app()) as client:
        res = await client.post("/forms/raw", content=body, headers={"content-type": MULTIPART_CT})
        ok = await client.post(
            "/forms/raw",
            content=multipart(*(part("p", "") for i in range(1000))),
            headers={"content-type": MULTIPART_CT},
        )
        urlencoded = await client.post(
            "/forms/raw",
            content=b"&".join(b"k=v" for _ in range(1001)),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert_413(res, "FORM_MAX_PARTS")
    assert ok.status_code == 200
    assert len(ok.json()["p"]) == 1000
    assert_413(urlencoded, "FORM_MAX_PARTS")


async def test_field_size_limit_is_413() -> None:
    app = make_app(FORM_MAX_FIELD_SIZE=100)
    async with TestClient(app) as client:
        res = await client.post(
            "/forms/raw",
            content=multipart(part("a", "x" * 101)),
            headers={"content-type": MULTIPART_CT},
        )
        fits = await client.post(
            "/forms/raw",
            content=multipart(part("a", "x" * 100)),
            headers={"content-type": MULTIPART_CT},
        )
        urlencoded = await client.post("/forms/raw", data={"a": "y" * 200})
    assert_413(res, "FORM_MAX_FIELD_SIZE")
    assert fits.status_code == 200
    assert_413(urlencoded, "FORM_MAX_FIELD_SIZE")


async def test_file_size_limit_is_413() -> None:
    app = make_app(FORM_MAX_FILE_SIZE=1000)
    async with TestClient(app) as client:
        res = await client.post(
            "/forms/upload",
            content=multipart(part("document", b"z" * 1001, filename="f.bin")),
            headers={"content-type": MULTIPART_CT},
        )
        fits = await client.post(
            "/forms/upload",
            content=multipart(part("document", b"z" * 1000, filename="f.bin")),
            headers={"content-type": MULTIPART_CT},
        )
        streamed = await client.post(
            "/forms/stream",
            content=multipart(part("document", b"z" * 1001, filename="f.bin")),
            headers={"content-type": MULTIPART_CT},
        )
    assert_413(res, "FORM_MAX_FILE_SIZE")
    assert fits.status_code == 200
    assert_413(streamed, "FORM_MAX_FILE_SIZE")


async def test_huge_part_header_is_413() -> None:
    huge = f"X-Padding: {'h' * 20_000}\r\n"
    many = "".join(f"X-H{i}: {'v' * 600}\r\n" for i in range(30))  # 30 lines, ~18 KiB in total
    async with TestClient(make_app()) as client:
        one_line = await client.post(
            "/forms/raw",
            content=multipart(part("a", "1", extra=huge)),
            headers={"content-type": MULTIPART_CT},
        )
        total = await client.post(
            "/forms/raw",
            content=multipart(part("a", "1", extra=many)),
            headers={"content-type": MULTIPART_CT},
        )
        fine = await client.post(
            "/forms/raw",
            content=multipart(part("a", "1", extra=f"X-Padding: {'h' * 1000}\r\n")),
            headers={"content-type": MULTIPART_CT},
        )
    assert_413(one_line, "FORM_MAX_PART_HEADER_SIZE")
    assert_413(total, "FORM_MAX_PART_HEADER_SIZE")
    assert fine.status_code == 200


async def test_bad_limit_config_is_a_startup_error() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="FORM_MAX_PARTS"):
        make_app(FORM_MAX_PARTS=0)


# -- spooling, temporary files and file names ----------------------------------------


@pytest.mark.parametrize("evil", ["../../etc/passwd", "C:\\x\\evil.exe", "..\\..\\win.ini"])
async def test_client_file_names_never_touch_the_filesystem(
    evil: str, spool_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work" / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    opened: list[str] = []
    real_os_open, real_open = os.open, open

    def spy_os_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.fsdecode(file))
        return real_os_open(file, *args, **kwargs)

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(file, int):
            opened.append(os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr("builtins.open", spy_open)
    body = multipart(part("document", b"payload", filename=evil))
    async with TestClient(make_app(FORM_SPOOL_MAX_SIZE=0)) as client:  # always on disk
        res = await client.post(
            "/forms/upload", content=body, headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 200
    data = res.json()
    # python-multipart already drops a Windows full path (an old IE habit).
    assert data["raw_filename"] in (evil, "evil.exe")
    assert data["filename"] == secure_filename(evil)
    assert "/" not in data["filename"]
    assert "\\" not in data["filename"]
    assert not data["filename"].startswith(".")
    assert data["in_memory"] is False
    # The only path opened is the anonymous spool file, inside the spool directory,
    # under a name that has nothing to do with the client's.
    monkeypatch.undo()
    assert opened
    for name in opened:
        assert Path(name) == spool_dir or Path(name).parent == spool_dir
        assert secure_filename(evil) not in name
    assert entries(spool_dir) == []  # deleted after the request
    everything = sorted(p.relative_to(tmp_path) for p in entries(tmp_path, deep=True))
    assert everything == [Path("spool"), Path("work"), Path("work/a"), Path("work/a/b")]


async def test_temp_files_are_removed_after_the_request(spool_dir: Path) -> None:
    body = multipart(
        part("f", b"1" * 3000, filename="one.bin"),
        part("f", b"2" * 10, filename="two.bin"),
    )
    async with TestClient(make_app(FORM_SPOOL_MAX_SIZE=1024)) as client:
        res = await client.post("/forms/raw", content=body, headers={"content-type": MULTIPART_CT})
    assert res.status_code == 200
    big, small = SEEN
    assert not big.in_memory
    assert small.in_memory
    assert big.closed
    assert small.closed
    assert entries(spool_dir) == []


async def test_temp_files_are_removed_when_the_handler_raises(spool_dir: Path) -> None:
    body = multipart(part("document", b"x" * 5000, filename="one.bin"))
    async with TestClient(make_app(FORM_SPOOL_MAX_SIZE=1024), raise_server_exceptions=False) as c:
        res = await c.post("/forms/explode", content=body, headers={"content-type": MULTIPART_CT})
    assert res.status_code == 500
    (upload,) = SEEN
    assert not upload.in_memory
    assert upload.closed
    assert entries(spool_dir) == []


async def test_uploads_are_closed_when_a_limit_stops_parsing(spool_dir: Path) -> None:
    created: list[Any] = []
    real = tempfile.SpooledTemporaryFile

    def track(*args: Any, **kwargs: Any) -> Any:
        f = real(*args, **kwargs)
        created.append(f)
        return f

    mp = pytest.MonkeyPatch()
    mp.setattr(tempfile, "SpooledTemporaryFile", track)
    try:
        body = multipart(
            part("f", b"1" * 3000, filename="ok.bin"),
            part("g", b"2" * 6000, filename="too-big.bin"),
        )
        app = make_app(FORM_SPOOL_MAX_SIZE=1024, FORM_MAX_FILE_SIZE=5000)
        async with TestClient(app) as client:
            res = await client.post(
                "/forms/raw", content=body, headers={"content-type": MULTIPART_CT}
            )
    finally:
        mp.undo()
    assert_413(res, "FORM_MAX_FILE_SIZE")
    assert len(created) == 2
    assert all(f.closed for f in created)
    assert entries(spool_dir) == []


async def test_rollover_and_disk_writes_run_in_a_worker_thread(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    rollover_threads: list[int] = []
    disk_write_threads: list[int] = []

    class Observed(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def rollover(self) -> None:
            rollover_threads.append(threading.get_ident())
            super().rollover()

        def write(self, s: Any) -> int:
            if self._rolled:  # type: ignore[attr-defined]
                disk_write_threads.append(threading.get_ident())
            return super().write(s)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Observed)

    async def chunks() -> AsyncIterator[bytes]:
        body = multipart(part("document", b"q" * 8192, filename="big.bin"))
        for i in range(0, len(body), 1024):
            yield body[i : i + 1024]

    async with TestClient(make_app(FORM_SPOOL_MAX_SIZE=2048)) as client:
        res = await client.post(
            "/forms/upload", content=chunks(), headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 200
    assert res.json()["size"] == 8192
    assert res.json()["in_memory"] is False
    assert len(rollover_threads) == 1
    assert rollover_threads[0] != loop_thread
    assert disk_write_threads
    assert loop_thread not in disk_write_threads


# -- streaming with form_iter --------------------------------------------------------


async def test_form_iter_streams_a_large_file_without_spooling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_spool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("form_iter must not spool")

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", no_spool)
    size = 4 * 1024 * 1024
    chunk = 64 * 1024
    head = (
        part("title", "holiday")
        + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="video"; filename="v.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
    )
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(size // chunk):
            yield b"v" * chunk
        yield tail

    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/stream", content=body(), headers={"content-type": MULTIPART_CT}
        )
    assert res.status_code == 200
    (title, video) = res.json()["items"]
    assert title == ["title", "holiday"]
    name, filename, ctype, sizes = video
    assert (name, filename, ctype) == ("video", "v.mp4", "video/mp4")
    assert sum(sizes) == size
    assert max(sizes) <= chunk < size  # memory bound: never the whole file at once
    assert len(sizes) >= size // chunk


async def test_form_iter_skips_unread_files_and_handles_urlencoded() -> None:
    body = multipart(
        part("a", "1"),
        part("f", b"x" * 10_000, filename="f.bin"),
        part("b", "2"),
    )
    async with TestClient(make_app()) as client:
        res = await client.post(
            "/forms/stream-skip", content=body, headers={"content-type": MULTIPART_CT}
        )
        chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]

        async def pieces() -> AsyncIterator[bytes]:
            for piece in chunks:
                yield piece

        peek = await client.post(
            "/forms/stream-peek", content=pieces(), headers={"content-type": MULTIPART_CT}
        )
        urlenc = await client.post("/forms/stream", data={"x": "1", "y": ["2", "3"]})
        wrong = await client.post("/forms/stream", json=[1])
    assert res.json() == ["a", "b"]
    first, (file_name, first_chunk), last = peek.json()
    assert (first, file_name, last) == (["a", "1"], "f", ["b", "2"])
    assert 0 < first_chunk <= 1000  # one network piece, not the 10 000-byte file
    assert urlenc.json() == {"items": [["x", "1"], ["y", "2"], ["y", "3"]]}
    assert wrong.status_code == 415


# -- startup errors ------------------------------------------------------------------


class Payload(BaseModel):
    x: int


async def test_form_and_json_body_on_one_handler_is_a_startup_error() -> None:
    @path("/mixed")
    class Mixed(Controller):
        @post("/")
        async def mixed(self, name: Annotated[str, Form()], payload: Payload) -> None: ...

    app = App(controllers=[Mixed])
    with pytest.raises(ImproperlyConfiguredError, match="mixes form parameters"):
        async with TestClient(app):
            pass


def current_user(user: Annotated[str, Form()]) -> str:
    return user.upper()


def json_payload(payload: Payload) -> int:
    return payload.x


async def test_dependencies_share_the_parsed_form() -> None:
    parsed: list[int] = []

    @path("/dep")
    class WithDependency(Controller):
        @post("/")
        async def handler(
            self,
            req: Request,
            who: Annotated[str, Depends(current_user)],
            comment: Annotated[str, Form()],
        ) -> dict[str, Any]:
            parsed.append(id(await req.form()))
            return {"who": who, "comment": comment}

    async with TestClient(App(controllers=[WithDependency])) as client:
        res = await client.post("/dep", data={"user": "ann", "comment": "hi"})
        missing = await client.post("/dep", data={"comment": "hi"})
    assert res.status_code == 200
    assert res.json() == {"who": "ANN", "comment": "hi"}
    assert len(parsed) == 1
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"loc": ["form", "user"], "msg": "Field required", "type": "missing"}
    ]


async def test_json_body_in_a_dependency_and_form_in_the_handler_is_a_startup_error() -> None:
    @path("/mixed-dep")
    class MixedDep(Controller):
        @post("/")
        async def mixed(
            self, x: Annotated[int, Depends(json_payload)], name: Annotated[str, Form()]
        ) -> None: ...

    with pytest.raises(ImproperlyConfiguredError, match="json_payload"):
        async with TestClient(App(controllers=[MixedDep])):
            pass


async def test_unsupported_upload_annotation_is_a_startup_error() -> None:
    @path("/odd")
    class Odd(Controller):
        @post("/")
        async def odd(self, files: Annotated[dict[str, UploadFile], Form()]) -> None: ...

    with pytest.raises(ImproperlyConfiguredError, match="list\\[UploadFile\\]"):
        async with TestClient(App(controllers=[Odd])):
            pass


# -- secure_filename -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\evil.exe", "evil.exe"),
        ("..", ""),
        ("...", ""),
        (".bashrc", "bashrc"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ("/abs/path/", ""),
        ("CON.txt", ""),
        ('we<ir>d:"na|me?*.txt', "we_ir_d__na_me__.txt"),
        ("  spaced name.txt  ", "spaced name.txt"),
        ("", ""),
        (None, ""),
    ],
)
def test_secure_filename(raw: str | None, expected: str) -> None:
    assert secure_filename(raw) == expected


def test_secure_filename_default_and_length() -> None:
    assert secure_filename("../", default="upload") == "upload"
    long = "a" * 300 + ".txt"
    cleaned = secure_filename(long)
    assert len(cleaned) == 255
    assert cleaned.endswith(".txt")
    assert os.sep not in secure_filename("x/y/z")
