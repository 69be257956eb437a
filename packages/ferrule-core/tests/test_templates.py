"""Jinja2 templates: rendering, autoescape, strictness, url_for, html_abort, loading."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import pytest

from ferrule.core import (
    App,
    Controller,
    Extension,
    ImproperlyConfiguredError,
    Request,
    Response,
    get,
    path,
)
from ferrule.core.templates import (
    HtmlAbortError,
    TemplateResponse,
    Templates,
    _Loader,
    html_abort,
    is_template_name,
)
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """An app package dir with templates/ and static/."""
    tpl = tmp_path / "templates"
    (tpl / "errors").mkdir(parents=True)
    (tmp_path / "static").mkdir()
    (tpl / "page.html").write_text("<h1>{{ title }}</h1>")
    (tpl / "links.html").write_text(
        "{{ url_for('Pages.user', user_id=7) }} {{ static('css/site.css') }}"
    )
    (tpl / "strict.html").write_text("[{{ missing }}]")
    (tpl / "note.txt").write_text("{{ text }}")
    (tpl / "page.j2").write_text("j2 {{ 1 + 1 }}")
    (tpl / "layout.html").write_text("<main>{% block body %}{% endblock %}</main>")
    (tpl / "child.html").write_text(
        '{% extends "layout.html" %}{% block body %}{% include "part.html" %}{% endblock %}'
    )
    (tpl / "part.html").write_text("<i>{{ title }}</i>")
    (tpl / "broken_include.html").write_text('{% include "nope.html" %}')
    (tpl / "errors" / "400.html").write_text("<p>{{ status_code }}: {{ reason }}</p>")
    (tpl / "req.html").write_text("{{ request.path }}")
    return tmp_path


@path("/")
class Pages(Controller):
    @get("/page")
    async def page(self, req: Request) -> Response[Any]:
        return req.response.html("page.html", {"title": req.query_params.get("t", "Home")})

    @get("/page-j2")
    async def page_j2(self, req: Request) -> Response[Any]:
        return req.response.html("page.j2")

    @get("/literal")
    async def literal(self, req: Request) -> Response[Any]:
        return req.response.html("<b>page.html</b>")

    @get("/literal-name")
    async def literal_name(self, req: Request) -> Response[Any]:
        return req.response.html("index.xml")

    @get("/no-return")
    async def no_return(self, req: Request) -> None:
        req.response.html("page.html", {"title": "implicit"}).status(202)

    @get("/links")
    async def links(self, req: Request) -> Response[Any]:
        return req.response.html("links.html", {})

    @get("/users/<int:user_id>")
    async def user(self, user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @get("/strict")
    async def strict(self, req: Request) -> Response[Any]:
        return req.response.html("strict.html", {})

    @get("/text")
    async def text(self, req: Request) -> Response[Any]:
        return req.response.html("note.txt", {"text": "<b>"})

    @get("/child")
    async def child(self, req: Request) -> Response[Any]:
        return req.response.html("child.html", {"title": "<x>"})

    @get("/from-string")
    async def from_string(self, req: Request) -> Response[Any]:
        return req.response.html_from_string("<p>{{ v }}</p>", {"v": "<script>1</script>"})

    @get("/missing")
    async def missing(self, req: Request) -> Response[Any]:
        return req.response.html("nope.html", {}).set_header("X-Kept", "no")

    @get("/broken-include")
    async def broken_include(self, req: Request) -> Response[Any]:
        return req.response.html("broken_include.html", {})

    @get("/abort")
    async def abort_page(self) -> None:
        html_abort("errors/400.html", 409, {"reason": "<taken>"})

    @get("/abort-missing")
    async def abort_missing(self) -> None:
        html_abort("errors/nope.html", 404)

    @get("/direct")
    async def direct(self) -> TemplateResponse:
        return TemplateResponse("page.html", {"title": "direct"}, status_code=201)

    @get("/req")
    async def req_path(self, req: Request) -> Response[Any]:
        return req.response.html("req.html", {})

    @get("/inject")
    async def inject(self, templates: Templates) -> str:
        return await templates.render("note.txt", {"text": "mail <body>"})


def make_app(base: Path, **config: Any) -> App:
    cfg = {"BASE_PATH": str(base), "TEMPLATES_DIR": "templates", "STATIC_DIR": "static"}
    return App({**cfg, **config}, controllers=[Pages])


async def test_renders_a_template_with_context(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/page", params={"t": "Hello"})
    assert res.status_code == 200
    assert res.text == "<h1>Hello</h1>"
    assert res.headers["content-type"] == "text/html; charset=utf-8"


async def test_autoescape_escapes_script_in_context(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/page", params={"t": "<script>alert(1)</script>"})
        string = await client.get("/from-string")
        child = await client.get("/child")
    assert res.text == "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"
    assert string.text == "<p>&lt;script&gt;1&lt;/script&gt;</p>"
    # extends + include: both loaded from memory, escaped too
    assert child.text == "<main><i>&lt;x&gt;</i></main>"


async def test_plain_text_templates_are_not_escaped(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/text")
        injected = await client.get("/inject")
    assert res.text == "<b>"
    assert injected.text == "mail <body>"


async def test_lone_argument_disambiguation(base: Path) -> None:
    assert is_template_name("page.html")
    assert is_template_name("a/b.j2")
    assert not is_template_name("<b>page.html</b>")
    assert not is_template_name("index.xml")
    async with TestClient(make_app(base)) as client:
        j2 = await client.get("/page-j2")
        literal = await client.get("/literal")
        literal_name = await client.get("/literal-name")
    assert (j2.status_code, j2.text) == (200, "j2 2")
    assert literal.text == "<b>page.html</b>"
    assert literal_name.text == "index.xml"


async def test_req_response_without_return(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/no-return")
    assert (res.status_code, res.text) == (202, "<h1>implicit</h1>")


async def test_template_response_and_request_in_context(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        direct = await client.get("/direct")
        req = await client.get("/req")
    assert (direct.status_code, direct.text) == (201, "<h1>direct</h1>")
    assert req.text == "/req"


async def test_url_for_and_static_in_templates(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/links")
    assert res.text == "/users/7 /static/css/site.css"


async def test_strict_undefined_is_a_500(base: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ferrule.core.errors"):
        async with TestClient(make_app(base)) as client:
            res = await client.get("/strict")
    assert res.status_code == 500
    assert res.json()["message"] == "Internal server error"
    assert "missing" not in res.text  # no details to the client without DEBUG
    assert "'missing' is undefined" in caplog.text


async def test_lenient_undefined_when_not_strict(base: Path) -> None:
    async with TestClient(make_app(base, TEMPLATES_STRICT=False)) as client:
        res = await client.get("/strict")
    assert (res.status_code, res.text) == (200, "[]")


async def test_missing_template_is_a_logged_500(
    base: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ferrule.core.errors"):
        async with TestClient(make_app(base)) as client:
            res = await client.get("/missing")
            include = await client.get("/broken-include")
    assert res.status_code == 500
    body = res.json()
    assert body["message"] == "Internal server error"
    assert "nope.html" not in res.text
    assert "x-kept" not in res.headers
    assert "Template 'nope.html' not found" in caplog.text
    assert str(base / "templates") in caplog.text
    assert include.status_code == 500
    assert "included from 'broken_include.html'" in caplog.text


async def test_missing_template_details_under_debug(base: Path) -> None:
    async with TestClient(make_app(base, DEBUG=True)) as client:
        res = await client.get("/missing")
    assert res.status_code == 500
    assert (
        "TemplateNotFoundError: Template 'nope.html' not found" in res.json()["data"]["exception"]
    )


async def test_html_abort_renders_the_template_with_status(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/abort")
    assert res.status_code == 409
    assert res.headers["content-type"] == "text/html; charset=utf-8"
    assert res.text == "<p>409: &lt;taken&gt;</p>"


async def test_html_abort_with_a_missing_template_is_a_500(base: Path) -> None:
    async with TestClient(make_app(base)) as client:
        res = await client.get("/abort-missing")
    assert res.status_code == 500
    assert res.json()["message"] == "Internal server error"


async def test_html_abort_without_templates_is_the_json_error_shape() -> None:
    async def view() -> None:
        html_abort("x.html", 403, {"a": 1})

    app = App()
    app.add_route("/x", view)
    async with TestClient(app) as client:
        res = await client.get("/x")
    assert res.status_code == 403
    assert res.json() == {"status": "error", "message": "Forbidden", "errors": [], "data": {"a": 1}}
    assert issubclass(HtmlAbortError, Exception)


async def test_rendering_a_template_without_templates_configured_is_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def view(req: Request) -> Response[Any]:
        return req.response.html("page.html", {})

    app = App()
    app.add_route("/x", view)
    async with TestClient(app) as client:
        res = await client.get("/x")
    assert res.status_code == 500
    assert "Templates are not configured: set TEMPLATES_DIR" in caplog.text


class Admin(Extension):
    def init_app(self, app: App) -> None:
        super().init_app(app)
        app.template_dirs.append(str(self.directory))

    directory: Path


async def test_template_dir_from_an_extension(base: Path, tmp_path: Path) -> None:
    ext_dir = tmp_path / "ext_templates"
    ext_dir.mkdir()
    (ext_dir / "admin.html").write_text("admin {{ v }}")
    (ext_dir / "page.html").write_text("the extension's page")  # the app's one wins
    admin = Admin()
    admin.directory = ext_dir

    async def view(req: Request) -> Response[Any]:
        return req.response.html("admin.html", {"v": "<ok>"})

    async def page(req: Request) -> Response[Any]:
        return req.response.html("page.html", {"title": "app"})

    app = App({"BASE_PATH": str(base), "TEMPLATES_DIR": "templates"}, extensions=[admin])
    app.add_route("/admin", view)
    app.add_route("/p", page)
    async with TestClient(app) as client:
        res = await client.get("/admin")
        own = await client.get("/p")
    assert res.text == "admin &lt;ok&gt;"
    assert own.text == "<h1>app</h1>"


async def test_extension_template_dirs_alone_configure_templates(tmp_path: Path) -> None:
    (tmp_path / "only.html").write_text("only {{ x }}")
    admin = Admin()
    admin.directory = tmp_path

    async def view(req: Request) -> Response[Any]:
        return req.response.html("only.html", {"x": 1})

    app = App(extensions=[admin])
    app.add_route("/", view)
    async with TestClient(app) as client:
        assert (await client.get("/")).text == "only 1"


async def test_files_are_read_in_a_worker_thread(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    reads: list[tuple[str, int]] = []
    original = _Loader._read

    def spy(self: _Loader, file: str) -> str:
        reads.append((file, threading.get_ident()))
        return original(self, file)

    monkeypatch.setattr(_Loader, "_read", spy)
    async with TestClient(make_app(base)) as client:
        res = await client.get("/child")
        again = await client.get("/child")
    assert res.text == again.text == "<main><i>&lt;x&gt;</i></main>"
    assert any(f.endswith("layout.html") for f, _ in reads)
    assert any(f.endswith("part.html") for f, _ in reads)
    assert all(ident != loop_thread for _, ident in reads)
    assert len(reads) == len({f for f, _ in reads})  # read once, then cached


async def test_debug_reloads_changed_templates(base: Path) -> None:
    async with TestClient(make_app(base, DEBUG=True)) as client:
        first = await client.get("/page", params={"t": "a"})
        (base / "templates" / "page.html").write_text("<h2>{{ title }}</h2>!")
        second = await client.get("/page", params={"t": "a"})
    assert first.text == "<h1>a</h1>"
    assert second.text == "<h2>a</h2>!"


def test_missing_templates_dir_is_a_startup_error(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfiguredError, match="TEMPLATES_DIR='nope'"):
        App({"BASE_PATH": str(tmp_path), "TEMPLATES_DIR": "nope"})


async def test_plain_responses_do_not_need_prepare() -> None:
    assert Response.needs_prepare is False
    resp: Response[Any] = Response()
    resp.html("<p>x</p>")
    assert type(resp) is Response
    resp.html("x.html", {})
    assert type(resp) is TemplateResponse
    assert TemplateResponse.needs_prepare is True


async def test_template_names_cannot_leave_the_template_dirs(base: Path) -> None:
    (base / "secret.html").write_text("outside secret")

    async def view(req: Request) -> Response[Any]:
        return req.response.html(req.query_params["name"], {})

    app = make_app(base)
    app.add_route("/by-name", view)
    async with TestClient(app) as client:
        for name in ("../secret.html", "/etc/passwd.html", "errors/../../secret.html"):
            res = await client.get("/by-name", params={"name": name})
            assert res.status_code == 500
            assert "outside secret" not in res.text


async def test_exception_handler_can_answer_with_a_template(base: Path) -> None:
    from ferrule.core import NotFoundError

    (base / "templates" / "404.html").write_text("<p>no {{ request.path }}</p>")

    async def not_found(req: Request, exc: BaseException) -> Response[Any]:
        return req.response.html("404.html", {}).status(404)

    app = make_app(base)
    app.add_exception_handler(NotFoundError, not_found)
    async with TestClient(app) as client:
        res = await client.get("/nowhere")
    assert (res.status_code, res.text) == (404, "<p>no /nowhere</p>")
