"""``ferrule new``, ``cli``, ``check``, ``shell`` and the ``run`` server options."""

from __future__ import annotations

import sys
import textwrap
import types
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from click.testing import CliRunner, Result

from ferrule.core import App
from ferrule.core.cli import main
from ferrule.core.cli.new import create_project

if TYPE_CHECKING:
    from pathlib import Path

CLI_APP = """
from ferrule.core import App, BaseConfig, CLIController, Extension, argument, command, on_startup
from ferrule.core.checks import CheckMessage

EVENTS: list[str] = []


class Tools(CLIController):
    @command("greet", help="Greet someone.")
    @argument("name", arg_type=str, description="Who to greet.")
    @argument("times", arg_type=int, default=1, description="How often.")
    @argument("loud", arg_type=bool, default=False)
    async def greet(self, name: str, times: int, loud: bool) -> None:
        text = " ".join([f"Hello, {name}!"] * times)
        print(text.upper() if loud else text)

    @command("add")
    @argument("a", arg_type=float)
    @argument("b", arg_type=float)
    async def add(self, a: float, b: float) -> None:
        print(a + b)

    @command("state")
    async def state(self) -> None:
        print("started" if self.app.state.ready else "not started", EVENTS)


class Audit(Extension):
    def checks(self, app):
        return [
            CheckMessage("audit.W001", "WARNING", "Audit log is not persisted.", "Set AUDIT_DIR.")
        ]


class Config(BaseConfig):
    APP_NAME: str = "Tools app"
    CLI_CONTROLLERS: list[str] = ["toolsapp:Tools"]


class Application(App):
    config_class = Config

    @on_startup
    async def ready(self) -> None:
        self.state.ready = True
        EVENTS.append("startup")


def with_audit() -> App:
    return App({"SECRET_KEY": "x" * 40}, extensions=[Audit()])


def broken_config() -> App:
    return App({"PORT": "not-a-port"})


def bad_logging() -> App:
    return App({"LOG_LEVEL": "LOUD", "PLUGINS": ["payments-not-installed"]})


class Cart:
    pass


def bad_route() -> App:
    from ferrule.core import Controller, get, path

    @path("/c")
    class Carts(Controller):
        @get("/")
        async def one(self, cart: Cart) -> None: ...

    return App(controllers=[Carts])
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "toolsapp.py").write_text(textwrap.dedent(CLI_APP))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("FERRULE_APP", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    sys.modules.pop("toolsapp", None)
    return tmp_path


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


# -- ferrule cli ------------------------------------------------------------------------


def test_cli_positional_and_options(project: Path) -> None:
    result = invoke("cli", "--app", "toolsapp:Application", "greet", "Ada", "--times", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Hello, Ada! Hello, Ada!"
    loud = invoke("cli", "--app", "toolsapp:Application", "greet", "Ada", "--loud", "true")
    assert loud.stdout.strip() == "HELLO, ADA!"
    summed = invoke("cli", "--app", "toolsapp:Application", "add", "1.5", "2")
    assert summed.stdout.strip() == "3.5"


def test_cli_runs_the_lifespan_around_the_command(project: Path) -> None:
    result = invoke("cli", "--app", "toolsapp:Application", "state")
    assert result.stdout.strip() == "started ['startup']"


def test_cli_type_conversion_error_is_usage_exit_2(project: Path) -> None:
    result = CliRunner().invoke(main, ["cli", "--app", "toolsapp:Application", "add", "x", "2"])
    assert result.exit_code == 2
    assert "Invalid value for 'A': 'x' is not a valid float." in result.output


def test_cli_missing_argument_and_help(project: Path) -> None:
    missing = CliRunner().invoke(main, ["cli", "--app", "toolsapp:Application", "greet"])
    assert missing.exit_code == 2
    assert "Missing argument 'NAME'" in missing.output
    listing = invoke("cli", "--app", "toolsapp:Application", "--help")
    assert "greet" in listing.stdout
    assert "Greet someone." in listing.stdout
    detail = invoke("cli", "--app", "toolsapp:Application", "greet", "--help")
    assert "--times INTEGER" in detail.stdout
    assert "How often." in detail.stdout


def test_cli_default_app_lookup(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRULE_APP", "toolsapp:Application")
    assert invoke("cli", "greet", "Bo").stdout.strip() == "Hello, Bo!"


def test_run_cli_seed_style(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import toolsapp

    app = toolsapp.Application()
    with pytest.raises(SystemExit) as exc:
        app.run_cli(["greet", "Cy", "--times", "3"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == "Hello, Cy! Hello, Cy! Hello, Cy!"
    with pytest.raises(SystemExit) as bad:
        app.run_cli(["add", "1", "nope"])
    assert bad.value.code == 2


def test_cli_controller_registration_errors() -> None:
    from ferrule.core import CLIController, ImproperlyConfiguredError, command
    from ferrule.core.cli_controller import build_cli_group

    class One(CLIController):
        @command("same")
        async def a(self) -> None: ...

    class Two(CLIController):
        @command("same")
        async def b(self) -> None: ...

    with pytest.raises(ImproperlyConfiguredError, match="'same'"):
        build_cli_group(App(cli_controllers=[One, Two]))
    with pytest.raises(ImproperlyConfiguredError, match="not a CLIController"):
        App(cli_controllers=[object])
    with pytest.raises(TypeError, match="async"):
        command("sync")(lambda self: None)


# -- ferrule check ----------------------------------------------------------------------


def test_check_clean_app(project: Path) -> None:
    result = invoke("check", "toolsapp:Application")
    assert result.exit_code == 0
    assert result.stdout.strip() == "System check identified no issues."


def test_check_deploy_reports_stable_ids_and_exits_1(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("ALLOWED_HOSTS", '["*"]')
    result = CliRunner().invoke(main, ["check", "--deploy", "toolsapp:Application"])
    assert result.exit_code == 1
    ids = [line.split()[0] for line in result.output.splitlines() if line.startswith("core.")]
    assert ids == ["core.E101", "core.E102", "core.W104"]
    assert "3 issue(s) (2 error(s))" in result.output


def test_check_deploy_refuses_the_env_example_placeholder(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``.env.example`` says "copy to .env": its SECRET_KEY must not pass --deploy."""
    create_project(tmp_path / "gen", "gen", [])
    example = (tmp_path / "gen" / ".env.example").read_text()
    placeholder = next(
        line.split("=", 1)[1] for line in example.splitlines() if line.startswith("SECRET_KEY=")
    )
    monkeypatch.setenv("SECRET_KEY", placeholder)
    result = CliRunner().invoke(main, ["check", "--deploy", "toolsapp:Application"])
    assert result.exit_code == 1
    assert "core.E103 (ERROR): SECRET_KEY is the placeholder from .env.example" in result.output


def test_check_extension_checks_and_warnings_exit_0(project: Path) -> None:
    result = invoke("check", "--deploy", "toolsapp:with_audit")
    assert result.exit_code == 0
    assert "audit.W001 (WARNING): Audit log is not persisted." in result.stdout
    assert "HINT: Set AUDIT_DIR." in result.stdout


def test_check_config_error_is_core_e001(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", "toolsapp:broken_config"])
    assert result.exit_code == 1
    assert "core.E001 (ERROR):" in result.output
    assert "PORT" in result.output


def test_wrong_app_is_one_error_line_exit_2(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", "toolsapp:nothing"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: Module 'toolsapp' has no attribute 'nothing'."
    ]


# -- ferrule shell ----------------------------------------------------------------------


def test_shell_command_runs_with_lifespan(project: Path) -> None:
    result = invoke(
        "shell", "toolsapp:Application", "-c", "print(app.config.APP_NAME, app.state.ready)"
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == "Tools app True"


def test_shell_interactive_reads_stdin(project: Path) -> None:
    result = invoke(
        "shell", "toolsapp:Application", input="print(40 + 2)\nprint(config.APP_NAME)\n"
    )
    assert result.exit_code == 0
    assert "42" in result.stdout
    assert "Tools app" in result.stdout


# -- ferrule run: server options ----------------------------------------------------------


def test_run_passes_graceful_timeout_and_leaves_logging_to_the_app(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    result = invoke("run", "toolsapp:Application", "--timeout-graceful-shutdown", "7")
    assert result.exit_code == 0
    target, kwargs = calls[0]
    assert isinstance(target, App)
    assert kwargs["timeout_graceful_shutdown"] == 7
    assert kwargs["log_config"] is None
    assert kwargs["access_log"] is False
    assert kwargs["log_level"] == "info"


def test_run_with_granian(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[dict[str, Any]] = []

    class FakeGranian:
        def __init__(self, target: str, **kwargs: Any) -> None:
            created.append({"target": target, **kwargs})

        def serve(self) -> None:
            created[-1]["served"] = True

    fake = types.ModuleType("granian")
    fake.Granian = FakeGranian  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "granian", fake)
    result = invoke(
        "run",
        "toolsapp:Application",
        "--server",
        "granian",
        "--workers",
        "2",
        "--timeout-graceful-shutdown",
        "9",
    )
    assert result.exit_code == 0
    assert created == [
        {
            "target": "toolsapp:Application",
            "address": "127.0.0.1",
            "port": 8000,
            "interface": "asgi",
            "workers": 2,
            "reload": False,
            "factory": True,
            "log_level": "info",
            "log_access": False,
            "workers_kill_timeout": 9,
            "served": True,
        }
    ]


def test_run_granian_missing_is_a_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "granian", None)
    result = CliRunner().invoke(main, ["run", "toolsapp:Application", "--server", "granian"])
    assert result.exit_code == 1
    assert "pip install granian" in result.output


# -- ferrule new ------------------------------------------------------------------------


def test_new_creates_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("new", "my-blog")
    assert result.exit_code == 0
    root = tmp_path / "my-blog"
    expected = {
        "pyproject.toml",
        "README.md",
        ".gitignore",
        ".env",
        ".env.example",
        "app/__init__.py",
        "app/configs.py",
        "app/api/__init__.py",
        "app/api/hello_api.py",
        "app/api/exceptions.py",
        "app/templates/index.html",
        "app/static/style.css",
        "tests/conftest.py",
        "tests/test_hello.py",
    }
    assert {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} == expected
    env = (root / ".env").read_text()
    secret = next(
        line.split("=", 1)[1] for line in env.splitlines() if line.startswith("SECRET_KEY=")
    )
    assert len(secret) >= 50
    assert secret not in (root / ".env.example").read_text()
    assert ".env" in (root / ".gitignore").read_text().splitlines()
    assert (root / ".env").stat().st_mode & 0o777 == 0o600
    assert 'name = "my-blog"' in (root / "pyproject.toml").read_text()
    assert 'APP_NAME: str = "My Blog"' in (root / "app/configs.py").read_text()
    other = create_project(tmp_path / "second", "second", [])
    assert secret not in (tmp_path / "second" / ".env").read_text()
    assert other


def test_new_refuses_a_non_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["new", "taken"])
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "1abc"], "not a valid project name"),
        (["new", "x", "--with", "kitchen"], "unknown batteries kitchen"),
    ],
)
def test_new_bad_input_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_new_with_database_adds_the_extension(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    create_project(root, "shop", ["database"])
    assert (
        'dependencies = ["ferrule-core[database]>=0.1,<0.2"]'
        in (root / "pyproject.toml").read_text()
    )
    assert 'EXTENSIONS: list[str] = ["app.extensions:db"]' in (root / "app/configs.py").read_text()
    assert "SqlDatabase(" in (root / "app/extensions.py").read_text()


def test_check_reports_logging_and_plugin_errors(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", "toolsapp:bad_logging"])
    assert result.exit_code == 1
    ids = [line.split()[0] for line in result.output.splitlines() if line.startswith("core.")]
    assert ids == ["core.E003", "core.E004"]
    assert "pip install 'ferrule-core[payments-not-installed]'" in result.output
    assert "unknown log level 'LOUD'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["routes", "toolsapp:bad_route"], "Cannot tell where parameter 'cart'"),
        (["shell", "toolsapp:bad_logging", "-c", "print(1)"], "unknown log level 'LOUD'"),
    ],
)
def test_startup_errors_are_one_error_line(project: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Error: ")
    assert message in result.output
    assert "Traceback" not in result.output
