"""The ``ferrule`` console script: ``plugins``, plugin groups, ``routes`` and ``run``."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner, Result

from ferrule.core import App
from ferrule.core.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType


def _load_fixtures() -> ModuleType:
    name = "_ferrule_core_tests_plugin_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("plugin_fixtures.py")
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fx = _load_fixtures()
plugin_site = _fx.plugin_site
sample_plugin = _fx.sample_plugin
broken_plugin = _fx.broken_plugin
SAMPLE_GREETING: str = _fx.SAMPLE_GREETING

HEADER = ("METHODS", "RULE", "ENDPOINT", "HANDLER")
SHOP_ROWS = {
    ("GET", "/items", "ItemsApi.list_items", "shop.ItemsApi.list_items"),
    ("POST", "/items", "ItemsApi.create_item", "shop.ItemsApi.create_item"),
    ("GET", "/items/<int:item_id>", "ItemsApi.get_item", "shop.ItemsApi.get_item"),
    ("DELETE", "/items/<int:item_id>", "ItemsApi.delete_item", "shop.ItemsApi.delete_item"),
    ("GET", "/ping", "ping", "shop.ping"),
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FERRULE_APP", "FERRULE_DISABLE_PLUGINS", "PORT", "HOST"):
        monkeypatch.delenv(var, raising=False)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- a project directory holding the application modules ------------------------


@dataclass
class Project:
    """The current directory of a ``ferrule`` call, with app modules written into it."""

    root: Path
    modules: set[str] = field(default_factory=set)

    def write(self, relpath: str, source: str) -> None:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        self.modules.add(Path(relpath).parts[0].removesuffix(".py"))
        importlib.invalidate_caches()


def _forget(names: set[str]) -> None:
    for mod in [m for m in sys.modules if m.split(".")[0] in names]:
        del sys.modules[mod]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """An empty directory made current; ``sys.path`` and ``sys.modules`` restored after."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    saved_path = sys.path[:]
    proj = Project(root)
    _forget({"app"})  # a stale ``app`` module must not answer the default lookup
    yield proj
    sys.path[:] = saved_path
    _forget(proj.modules | {"app"})


# A self-contained application module (ferrule-core's tests run without apps/hello
# installed). Its config is a mapping, so ``$PORT`` reaches only the CLI, not the config.
SHOP_APP = """
    from ferrule.core import App, Controller, delete, get, path, post


    @path("/items")
    class ItemsApi(Controller):
        @get("/")
        async def list_items(self) -> list[int]:
            return []

        @post("/")
        async def create_item(self) -> dict[str, int]:
            return {"id": 1}

        @get("/<int:item_id>")
        async def get_item(self, item_id: int) -> dict[str, int]:
            return {"id": item_id}

        @delete("/<int:item_id>")
        async def delete_item(self, item_id: int) -> None:
            return None


    async def ping() -> dict[str, bool]:
        return {"pong": True}


    class Application(App):
        def __init__(self) -> None:
            super().__init__(config={"HOST": "0.0.0.0", "PORT": 5001}, controllers=[ItemsApi])
            self.add_route("/ping", ping, name="ping")


    def create_app() -> App:
        return Application()


    app = Application()
    not_an_app = 42


    def returns_something_else() -> str:
        return "nope"
"""

# An app whose config class reads the environment (``PORT`` included).
ENV_APP = """
    from ferrule.core import App, BaseConfig


    class Config(BaseConfig):
        APP_NAME: str = "env"


    def create_app() -> App:
        return App(config=Config)
"""


@pytest.fixture
def shop(project: Project) -> Project:
    """The project with ``shop.py`` (``shop:app``, ``shop:Application``, ``shop:create_app``)."""
    project.write("shop.py", SHOP_APP)
    return project


def route_rows(output: str) -> list[tuple[str, ...]]:
    return [tuple(line.split()) for line in output.splitlines() if line.strip()]


# -- ferrule plugins ---------------------------------------------------------------


def test_plugins_lists_the_sample_plugin_with_its_version(sample_plugin: Any) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    assert line.split() == ["sample", "ferrule-sample-plugin", "0.3.0", "ok"]
    assert result.stderr == ""


def test_plugins_when_none_installed(plugin_site: Any) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0
    assert result.stdout == "No ferrule plugins installed.\n"


def test_plugins_marks_disabled_ones(sample_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sample_plugin.add_broken()
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "sample")
    result = invoke("plugins")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["sample"].split() == ["sample", "ferrule-sample-plugin", "0.3.0", "disabled"]
    assert lines["broken"].split()[:3] == ["broken", "ferrule-broken-plugin", "1.0.0"]
    assert "error: RuntimeError: the broken plugin cannot be imported" in lines["broken"]


def test_plugins_does_not_import_disabled_ones(
    broken_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "broken")
    result = invoke("plugins")
    assert result.stdout.split() == ["broken", "ferrule-broken-plugin", "1.0.0", "disabled"]
    assert "RuntimeError" not in result.output


# -- plugin command groups ---------------------------------------------------------


def test_help_lists_the_plugin_group(sample_plugin: Any) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:", 1)[1]
    names = [line.split()[0] for line in commands.splitlines() if line.strip()]
    assert names == ["check", "cli", "new", "plugins", "routes", "run", "sample", "shell"]
    assert "Commands of the sample plugin." in commands


def test_plugin_command_runs(sample_plugin: Any) -> None:
    result = invoke("sample", "hello")
    assert result.exit_code == 0
    assert result.stdout == f"{SAMPLE_GREETING}, world!\n"
    result = invoke("sample", "hello", "--name", "Ferrule")
    assert result.stdout == f"{SAMPLE_GREETING}, Ferrule!\n"


def test_disabled_plugin_has_no_commands(
    sample_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "sample")
    assert "sample" not in invoke("--help").stdout
    result = CliRunner().invoke(main, ["sample", "hello"])
    assert result.exit_code == 2
    assert "No such command 'sample'" in result.stderr


def test_broken_plugin_prints_one_warning_line(sample_plugin: Any) -> None:
    sample_plugin.add_broken()
    result = invoke("--help")
    assert result.exit_code == 0
    assert "sample" in result.stdout  # the working plugin is still mounted
    assert result.stderr.splitlines() == [
        "warning: plugin 'broken' failed to load: "
        "RuntimeError: the broken plugin cannot be imported"
    ]
    assert "Traceback" not in result.output
    result = invoke("sample", "hello")
    assert result.exit_code == 0
    assert result.stdout == f"{SAMPLE_GREETING}, world!\n"
    assert len(result.stderr.splitlines()) == 1


def test_plugin_whose_cli_commands_raise_prints_one_warning_line(plugin_site: Any) -> None:
    plugin_site.add_sample()
    plugin_site.add(
        dist="ferrule-halfway-plugin",
        version="0.1.0",
        module="ferrule_halfway_plugin",
        source="""
            from ferrule.core.plugins import Plugin


            class HalfwayPlugin(Plugin):
                def cli_commands(self):
                    from .not_written_yet import group  # imports lazily, and fails

                    return [group]
        """,
        entry_points={"halfway": "ferrule_halfway_plugin:HalfwayPlugin"},
    )
    result = invoke("--help")
    assert result.exit_code == 0
    assert "sample" in result.stdout.split("Commands:", 1)[1]
    assert result.stderr.splitlines() == [
        "warning: plugin 'halfway' failed to load: ModuleNotFoundError: "
        "No module named 'ferrule_halfway_plugin.not_written_yet'"
    ]
    assert invoke("sample", "hello").stdout == f"{SAMPLE_GREETING}, world!\n"


def test_builtin_commands_do_not_load_plugins(broken_plugin: Any, shop: Project) -> None:
    # Plugins load only for names that are not built in (and for --help).
    result = invoke("routes", "--app", "shop:app")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_plugin_set_is_read_per_invocation(plugin_site: Any) -> None:
    assert "sample" not in invoke("--help").stdout
    plugin_site.add_sample()
    assert "sample" in invoke("--help").stdout


# -- ferrule routes ----------------------------------------------------------------


def test_routes_lists_every_route(shop: Project) -> None:
    result = invoke("routes", "--app", "shop:app")
    assert result.exit_code == 0
    header, *rows = route_rows(result.stdout)
    assert header == HEADER
    assert ("GET", "/items/<int:item_id>", "ItemsApi.get_item", "shop.ItemsApi.get_item") in rows
    assert set(rows) >= SHOP_ROWS
    # every route of the app (routes the kernel adds included), each once
    shop_app = sys.modules["shop"].app
    assert len(rows) == len(set(rows))
    assert set(rows) == {
        (",".join(r.methods), r.rule, r.endpoint, r.handler_name) for r in shop_app.routes
    }
    assert rows == sorted(rows, key=lambda r: (r[1], r[0]))


def test_routes_columns_are_aligned(shop: Project) -> None:
    lines = invoke("routes", "--app", "shop:app").stdout.splitlines()
    for column in HEADER[1:]:
        start = lines[0].index(column)
        assert all(line[start - 2 : start] == "  " for line in lines)
        assert all(line[start] != " " for line in lines)


@pytest.mark.parametrize("target", ["shop:Application", "shop:create_app"])
def test_routes_with_an_app_subclass_or_a_factory(shop: Project, target: str) -> None:
    result = invoke("routes", "--app", target)
    assert result.exit_code == 0
    assert set(route_rows(result.stdout)[1:]) >= SHOP_ROWS


def test_routes_missing_module_is_a_usage_error(project: Project) -> None:
    result = CliRunner().invoke(main, ["routes", "--app", "no_such_module_xyz:app"])
    assert result.exit_code == 2
    assert "Cannot import 'no_such_module_xyz'" in result.stderr
    assert "No module named 'no_such_module_xyz'" in result.stderr
    assert "Traceback" not in result.output


def test_routes_missing_attribute_is_a_usage_error(shop: Project) -> None:
    result = CliRunner().invoke(main, ["routes", "--app", "shop:nope"])
    assert result.exit_code == 2
    assert "Module 'shop' has no attribute 'nope'" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("shop", "expected 'module:attribute'"),
        (":app", "expected 'module:attribute'"),
        ("shop:", "expected 'module:attribute'"),
        ("shop:not_an_app", "is a int, not an App, an App subclass or a factory"),
        ("shop:returns_something_else", "returned str, not a ferrule App"),
    ],
)
def test_routes_invalid_app_is_a_usage_error(shop: Project, target: str, message: str) -> None:
    result = CliRunner().invoke(main, ["routes", "--app", target])
    assert result.exit_code == 2
    assert message in result.stderr


def test_module_with_a_missing_dependency_is_reported(project: Project) -> None:
    project.write("app/__init__.py", "import not_installed_dependency_xyz\n")
    # also via the default lookup: a broken app package is not "no app found"
    for args in (["routes", "--app", "app:app"], ["routes"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert "No module named 'not_installed_dependency_xyz'" in result.stderr
        assert f"failed at {project.root / 'app' / '__init__.py'}:1:" in result.stderr


@pytest.mark.parametrize(
    ("source", "error", "line"),
    [
        ("import os\nfrom os import no_such_name_xyz\n", "ImportError: cannot import name", 2),
        ("x = 1\nundefined_name_xyz + 1\n", "NameError: name 'undefined_name_xyz'", 2),
        ("def broken(:\n    pass\n", "SyntaxError", 1),
    ],
)
def test_a_broken_app_module_is_one_line_with_its_location(
    project: Project, source: str, error: str, line: int
) -> None:
    project.write("app/__init__.py", source)
    for args in (["routes", "--app", "app:app"], ["routes"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert "Importing 'app' for app 'app:" in result.stderr
        assert error in result.stderr
        assert f"{project.root / 'app' / '__init__.py'}:{line}" in result.stderr
        assert result.stderr.count("__init__.py") == 1  # the location once, not twice


def test_an_error_inside_a_library_names_the_line_of_the_app_that_called_it(
    project: Project,
) -> None:
    project.write("app/__init__.py", "import json\n\nSETTINGS = json.loads('{')\n")
    result = CliRunner().invoke(main, ["routes", "--app", "app:app"])
    assert result.exit_code == 2
    assert f"failed at {project.root / 'app' / '__init__.py'}:3: JSONDecodeError" in result.stderr
    assert "decoder.py" not in result.stderr


def test_a_project_path_with_importlib_in_it_is_still_named(project: Project) -> None:
    project.write("importlib_demo/__init__.py", "x = 1\nundefined_name_xyz + 1\n")
    result = CliRunner().invoke(main, ["routes", "--app", "importlib_demo:app"])
    assert result.exit_code == 2
    where = project.root / "importlib_demo" / "__init__.py"
    assert f"failed at {where}:2: NameError" in result.stderr
    assert "loader.py" not in result.stderr


def test_ferrule_app_env_is_honoured(shop: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRULE_APP", "shop:app")
    result = invoke("routes")
    assert result.exit_code == 0
    assert set(route_rows(result.stdout)[1:]) >= SHOP_ROWS


def test_app_option_beats_ferrule_app_env(shop: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.write("other.py", "from ferrule.core import App\n\napp = App()\n")
    monkeypatch.setenv("FERRULE_APP", "shop:app")
    result = invoke("routes", "--app", "other:app")
    assert result.exit_code == 0
    assert not SHOP_ROWS & set(route_rows(result.stdout))


def test_wrong_ferrule_app_env_is_a_usage_error(
    shop: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRULE_APP", "shop:missing_attr")
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 2
    assert "has no attribute 'missing_attr'" in result.stderr


def test_default_lookup_prefers_app_application(project: Project) -> None:
    project.write(
        "app/__init__.py",
        """
        from ferrule.core import App


        async def from_class() -> str:
            return "class"


        async def from_instance() -> str:
            return "instance"


        class Application(App):
            def __init__(self) -> None:
                super().__init__()
                self.add_route("/class", from_class)


        app = App()
        app.add_route("/instance", from_instance)
        """,
    )
    result = invoke("routes")
    assert result.exit_code == 0
    rows = route_rows(result.stdout)[1:]
    assert ("GET", "/class", "from_class", "app.from_class") in rows
    assert "/instance" not in [row[1] for row in rows]


def test_default_lookup_falls_back_to_app_app(project: Project) -> None:
    project.write(
        "app/__init__.py",
        """
        from ferrule.core import App


        async def from_instance() -> str:
            return "instance"


        app = App()
        app.add_route("/instance", from_instance)
        """,
    )
    result = invoke("routes")
    assert result.exit_code == 0
    rows = route_rows(result.stdout)[1:]
    assert ("GET", "/instance", "from_instance", "app.from_instance") in rows
    assert "/class" not in [row[1] for row in rows]


def test_default_lookup_without_an_app(project: Project) -> None:
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 2
    assert "No application found" in result.stderr
    assert "FERRULE_APP" in result.stderr


# -- ferrule run: option handling (uvicorn.run captured) ----------------------------


@dataclass
class UvicornCall:
    app: Any
    kwargs: dict[str, Any]


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[UvicornCall]:
    calls: list[UvicornCall] = []

    def fake_run(app: Any, **kwargs: Any) -> None:
        calls.append(UvicornCall(app, kwargs))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_run_serves_the_app_instance_with_host_and_port_from_config(
    shop: Project, uvicorn_calls: list[UvicornCall]
) -> None:
    result = invoke("run", "shop:app")
    assert result.exit_code == 0
    (call,) = uvicorn_calls
    assert call.app is sys.modules["shop"].app
    assert (call.kwargs["host"], call.kwargs["port"]) == ("0.0.0.0", 5001)
    assert call.kwargs["lifespan"] == "on"
    assert call.kwargs["log_level"] == "info"
    assert "reload" not in call.kwargs
    assert "workers" not in call.kwargs


def test_run_uses_the_config_defaults(project: Project, uvicorn_calls: list[UvicornCall]) -> None:
    project.write("plain.py", "from ferrule.core import App\n\napp = App()\n")
    invoke("run", "plain:app")
    (call,) = uvicorn_calls
    assert (call.kwargs["host"], call.kwargs["port"]) == ("127.0.0.1", 8000)


def test_run_options_override_config(shop: Project, uvicorn_calls: list[UvicornCall]) -> None:
    invoke("run", "shop:app", "--host", "127.0.0.2", "--port", "6002", "--log-level", "debug")
    (call,) = uvicorn_calls
    assert call.kwargs["host"] == "127.0.0.2"
    assert call.kwargs["port"] == 6002
    assert call.kwargs["log_level"] == "debug"


def test_run_honours_port_env(
    shop: Project, uvicorn_calls: list[UvicornCall], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "7003")
    invoke("run", "shop:app")
    invoke("run", "shop:app", "--port", "7004")  # the option wins over $PORT
    assert [c.kwargs["port"] for c in uvicorn_calls] == [7003, 7004]
    assert sys.modules["shop"].app.config.PORT == 5001  # $PORT went through the CLI


@pytest.mark.parametrize("value", ["eighty", "70000", "-1"])
def test_run_rejects_a_bad_port_env(
    shop: Project, uvicorn_calls: list[UvicornCall], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PORT", value)
    result = CliRunner().invoke(main, ["run", "shop:app"])
    assert result.exit_code == 2
    assert f"PORT={value!r} is not a port number" in result.stderr
    assert uvicorn_calls == []


def test_config_error_while_loading_the_app_is_reported_cleanly(
    project: Project, uvicorn_calls: list[UvicornCall], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write("envapp.py", ENV_APP)
    monkeypatch.setenv("PORT", "eighty")  # read by the app's Config when it is built
    for args in (["run", "envapp:create_app"], ["routes", "--app", "envapp:create_app"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1
        assert "PORT: Input should be a valid integer" in result.stderr
        assert "'eighty'" in result.stderr
        assert isinstance(result.exception, SystemExit)  # reported, not a traceback
    assert uvicorn_calls == []


@pytest.mark.parametrize("target", ["shop:Application", "shop:create_app"])
def test_run_instantiates_a_class_or_factory(
    shop: Project, uvicorn_calls: list[UvicornCall], target: str
) -> None:
    invoke("run", target)
    (call,) = uvicorn_calls
    assert isinstance(call.app, App)
    assert type(call.app).__name__ == "Application"
    assert call.app is not sys.modules["shop"].app  # a new instance
    assert call.kwargs["port"] == 5001  # the config of the instance it built


@pytest.mark.parametrize(
    ("args", "import_string", "factory", "reload", "workers"),
    [
        (["shop:app", "--reload"], "shop:app", False, True, 1),
        (["shop:app", "--workers", "3"], "shop:app", False, False, 3),
        (["shop:Application", "--workers", "2"], "shop:Application", True, False, 2),
        (["shop:create_app", "--reload"], "shop:create_app", True, True, 1),
    ],
)
def test_run_passes_an_import_string_for_reload_and_workers(
    shop: Project,
    uvicorn_calls: list[UvicornCall],
    args: list[str],
    import_string: str,
    factory: bool,
    reload: bool,
    workers: int,
) -> None:
    result = invoke("run", *args)
    assert result.exit_code == 0
    (call,) = uvicorn_calls
    assert call.app == import_string
    assert call.kwargs["factory"] is factory
    assert call.kwargs["reload"] is reload
    assert call.kwargs["workers"] == workers
    assert (call.kwargs["host"], call.kwargs["port"]) == ("0.0.0.0", 5001)


def test_run_default_lookup_gives_an_import_string(
    project: Project, uvicorn_calls: list[UvicornCall]
) -> None:
    project.write("app/__init__.py", SHOP_APP)
    invoke("run", "--workers", "2")
    (call,) = uvicorn_calls
    assert (call.app, call.kwargs["factory"]) == ("app:Application", True)
    # the reloader / worker processes must be able to import it from the cwd
    assert str(project.root) in sys.path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shop:app", "--reload", "--workers", "2"], "--reload and --workers > 1"),
        (["shop:app", "--workers", "0"], "Invalid value for '--workers'"),
        (["shop:app", "--port", "70000"], "Invalid value for '--port'"),
        (["shop:app", "--port", "http"], "Invalid value for '--port'"),
        (["no_such_module_xyz:app"], "Cannot import 'no_such_module_xyz'"),
        (["shop:nope"], "has no attribute 'nope'"),
    ],
)
def test_run_usage_errors(
    shop: Project, uvicorn_calls: list[UvicornCall], args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert uvicorn_calls == []


# -- the real console script ---------------------------------------------------------


def ferrule_script() -> str:
    candidate = Path(sys.executable).parent / "ferrule"
    found = str(candidate) if candidate.exists() else shutil.which("ferrule")
    assert found, "the ferrule console script is not installed next to the interpreter"
    return found


def script_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PORT", "HOST", "FERRULE_APP", "FERRULE_DISABLE_PLUGINS", "PYTHONPATH"}
    }
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(proc: subprocess.Popen[bytes], url: str, log: Path) -> httpx.Response:
    deadline = time.monotonic() + 20
    with httpx.Client(timeout=2) as client:
        while True:
            try:
                return client.get(url)
            except httpx.TransportError:
                if proc.poll() is not None:
                    pytest.fail(f"ferrule run exited with {proc.returncode}:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"ferrule run did not answer within 20 s:\n{log.read_text()}")
                time.sleep(0.1)


@pytest.mark.parametrize("how", ["option", "env"])
def test_ferrule_run_serves_the_app(shop: Project, how: str) -> None:
    port = free_port()
    args = [ferrule_script(), "run", "shop:app", "--host", "127.0.0.1"]
    env = script_env()
    if how == "option":
        args += ["--port", str(port)]
    else:
        env["PORT"] = str(port)
    log = shop.root.parent / "server.log"
    with log.open("wb") as out:
        # cwd is the project: the CLI imports ``shop`` from the current directory
        proc = subprocess.Popen(args, cwd=shop.root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        res = wait_until_serving(proc, f"http://127.0.0.1:{port}/ping", log)
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("application/json")
        assert res.json() == {"pong": True}
        with httpx.Client(timeout=5) as client:
            item = client.get(f"http://127.0.0.1:{port}/items/42")
        assert item.json() == {"id": 42}
    finally:
        proc.terminate()  # SIGTERM to this PID: uvicorn shuts down gracefully
        try:
            returncode = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail("ferrule run did not stop within 15 s of SIGTERM")
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert returncode in (0, -signal.SIGTERM)
    output = log.read_text()
    assert f"Uvicorn running on http://127.0.0.1:{port}" in output
    assert "Application startup complete" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_console_script_with_plugins(plugin_site: Any, tmp_path: Path) -> None:
    plugin_site.add_sample()
    plugin_site.add_broken()
    # plugins installed in this environment (other batteries) are switched off
    # with the very mechanism under test, so only ours are seen
    ours = {"ferrule-sample-plugin", "ferrule-broken-plugin"}
    others = {
        ep.name
        for ep in importlib.metadata.entry_points(group="ferrule.plugins")
        if ep.dist is None or ep.dist.name not in ours
    }
    env = script_env(
        PYTHONPATH=str(plugin_site.root), FERRULE_DISABLE_PLUGINS=",".join(sorted(others))
    )
    script = ferrule_script()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    helped = run("--help")
    assert helped.returncode == 0
    assert "sample" in helped.stdout.split("Commands:", 1)[1]
    # exactly one warning line for the broken plugin: no log record, no traceback
    assert helped.stderr.splitlines() == [
        "warning: plugin 'broken' failed to load: "
        "RuntimeError: the broken plugin cannot be imported"
    ]

    hello = run("sample", "hello", "--name", "console")
    assert hello.returncode == 0
    assert hello.stdout == f"{SAMPLE_GREETING}, console!\n"
    assert len(hello.stderr.splitlines()) == 1

    listed = run("plugins")
    assert listed.returncode == 0
    lines = {line.split()[0]: line.split() for line in listed.stdout.splitlines()}
    assert lines["sample"] == ["sample", "ferrule-sample-plugin", "0.3.0", "ok"]
    assert lines["broken"][:4] == ["broken", "ferrule-broken-plugin", "1.0.0", "error:"]
    assert listed.stderr == ""


def test_console_script_version(tmp_path: Path) -> None:
    done = subprocess.run(
        [ferrule_script(), "--version"],
        cwd=tmp_path,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"ferrule, version {importlib.metadata.version('ferrule-core')}"
