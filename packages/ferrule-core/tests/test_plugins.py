"""Plugin discovery (``ferrule.plugins`` entry points) and the pytest11 fixtures."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pytest

from ferrule.core import App, PluginError
from ferrule.core import plugins as plugins_module
from ferrule.core.plugins import Plugin, discover_plugins, load_plugin
from ferrule.core.testing import TestClient

if TYPE_CHECKING:
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
PluginSite = _fx.PluginSite

INSTALL_HINT = "pip install 'ferrule-core[{}]'"


# -- discovery -----------------------------------------------------------------


def test_discover_lists_the_plugin_with_distribution_and_version(sample_plugin: Any) -> None:
    (info,) = discover_plugins()
    assert info.name == "sample"
    assert info.value == "ferrule_sample_plugin:SamplePlugin"
    assert info.distribution == "ferrule-sample-plugin"
    assert info.version == "0.3.0"
    assert info.ok
    assert not info.disabled
    assert isinstance(info.plugin, Plugin)
    assert type(info.plugin).__name__ == "SamplePlugin"  # the class was instantiated
    assert info.description == "A sample plugin used by the ferrule-core tests"
    (group,) = info.plugin.cli_commands()
    assert isinstance(group, click.Group)
    assert group.name == "sample"
    assert "hello" in group.commands


def test_discovery_through_the_real_sys_path(
    sample_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No isolation: the stock importlib.metadata.entry_points scans sys.path,
    # where the fixture prepended the folder holding the .dist-info.
    monkeypatch.setattr(plugins_module, "entry_points", importlib.metadata.entry_points)
    found = {p.name: p for p in discover_plugins()}
    assert found["sample"].distribution == "ferrule-sample-plugin"
    assert found["sample"].version == "0.3.0"
    assert found["sample"].ok


def test_no_plugins_installed(plugin_site: Any) -> None:
    assert discover_plugins() == []
    assert discover_plugins(include_disabled=True) == []


def test_plugins_are_sorted_by_name(plugin_site: Any) -> None:
    plugin_site.add_sample()
    plugin_site.add_broken()
    assert [p.name for p in discover_plugins()] == ["broken", "sample"]


def test_broken_plugin_is_logged_and_skipped_not_raised(
    sample_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sample_plugin.add_broken()
    with caplog.at_level(logging.WARNING, logger="ferrule.core.plugins"):
        found = {p.name: p for p in discover_plugins()}
    # the good plugin still loads
    assert found["sample"].ok
    broken = found["broken"]
    assert not broken.ok
    assert broken.plugin is None
    assert broken.error == "RuntimeError: the broken plugin cannot be imported"
    records = [r for r in caplog.records if r.name == "ferrule.core.plugins"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert "'broken'" in message
    assert "ferrule_broken_plugin:BrokenPlugin" in message
    assert "the broken plugin cannot be imported" in message


def test_broken_plugin_without_logging_for_callers_that_report(
    broken_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        (info,) = discover_plugins(log_errors=False)
    assert not info.ok
    assert caplog.records == []


def test_plugin_whose_constructor_raises_is_skipped(
    plugin_site: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugin_site.add(
        dist="ferrule-fussy-plugin",
        version="2.0",
        module="ferrule_fussy_plugin",
        source="""
            class FussyPlugin:
                def __init__(self):
                    raise ValueError("needs arguments")
        """,
        entry_points={"fussy": "ferrule_fussy_plugin:FussyPlugin"},
    )
    with caplog.at_level(logging.WARNING, logger="ferrule.core.plugins"):
        (info,) = discover_plugins()
    assert info.error == "ValueError: needs arguments"
    assert "needs arguments" in caplog.text


def test_missing_attribute_is_a_broken_plugin(plugin_site: Any) -> None:
    plugin_site.add(
        dist="ferrule-typo-plugin",
        version="1.0",
        module="ferrule_typo_plugin",
        source="class Plugin: ...\n",
        entry_points={"typo": "ferrule_typo_plugin:Plugn"},
    )
    (info,) = discover_plugins(log_errors=False)
    assert info.error is not None
    assert info.error.startswith("AttributeError")
    with pytest.raises(PluginError, match=r"pip install 'ferrule-core\[typo\]'"):
        load_plugin("typo")


def test_disable_plugins_hides_it(sample_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "other, sample")
    assert discover_plugins() == []


def test_disabled_plugin_is_listed_unloaded_on_request(
    sample_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample_plugin.add_broken()
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "broken")
    found = {p.name: p for p in discover_plugins(include_disabled=True)}
    assert found["broken"].disabled
    assert found["broken"].version == "1.0.0"
    # never imported: a disabled plugin cannot break anything
    assert found["broken"].plugin is None
    assert found["broken"].error is None
    assert "ferrule_broken_plugin" not in sys.modules
    assert found["sample"].ok
    assert not found["sample"].disabled


def test_disabling_a_broken_plugin_silences_it(
    broken_plugin: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "broken")
    with caplog.at_level(logging.WARNING):
        assert discover_plugins() == []
    assert caplog.records == []


# -- load_plugin: the application asked for it by name -------------------------


def test_load_plugin(sample_plugin: Any) -> None:
    info = load_plugin("sample")
    assert info.ok
    assert info.distribution == "ferrule-sample-plugin"
    assert info.version == "0.3.0"
    assert isinstance(info.plugin, Plugin)


def test_load_missing_plugin_raises_with_install_line(sample_plugin: Any) -> None:
    with pytest.raises(PluginError) as excinfo:
        load_plugin("missing")
    message = str(excinfo.value)
    assert INSTALL_HINT.format("missing") in message
    assert "not installed" in message


def test_load_broken_plugin_raises_with_install_line(broken_plugin: Any) -> None:
    with pytest.raises(PluginError) as excinfo:
        load_plugin("broken")
    message = str(excinfo.value)
    assert INSTALL_HINT.format("broken") in message
    assert "the broken plugin cannot be imported" in message


def test_load_disabled_plugin_raises(sample_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRULE_DISABLE_PLUGINS", "sample")
    with pytest.raises(PluginError, match="FERRULE_DISABLE_PLUGINS"):
        load_plugin("sample")


def test_plugin_error_is_a_ferrule_error() -> None:
    from ferrule.core.exceptions import FerruleError

    assert issubclass(PluginError, FerruleError)


# -- App config PLUGINS ----------------------------------------------------------


async def test_app_requiring_a_missing_plugin_fails_at_startup(plugin_site: Any) -> None:
    app = App({"PLUGINS": ["missing"]})
    with pytest.raises(PluginError, match=r"pip install 'ferrule-core\[missing\]'"):
        await app.startup()


async def test_app_requiring_a_missing_plugin_fails_in_the_test_client(plugin_site: Any) -> None:
    app = App({"PLUGINS": ["missing"]})
    with pytest.raises(PluginError, match="missing"):
        async with TestClient(app):
            pass


async def test_app_requiring_a_broken_plugin_fails_at_startup(broken_plugin: Any) -> None:
    app = App({"PLUGINS": ["broken"]})
    with pytest.raises(PluginError, match=r"pip install 'ferrule-core\[broken\]'"):
        await app.startup()


async def test_app_requiring_an_installed_plugin_starts(sample_plugin: Any) -> None:
    app = App({"PLUGINS": ["sample"]})

    async def index() -> dict[str, bool]:
        return {"ok": True}

    app.add_route("/", index)
    async with TestClient(app) as client:
        res = await client.get("/")
    assert res.status_code == 200
    assert res.json() == {"ok": True}


# -- the pytest11 entry point ------------------------------------------------------


def test_pytest11_plugin_is_registered(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("ferrule")
    assert plugin is not None
    assert plugin.__name__ == "ferrule.core.testing.pytest_plugin"
    dists = {
        dist.project_name
        for module, dist in request.config.pluginmanager.list_plugin_distinfo()
        if module is plugin
    }
    assert dists == {"ferrule-core"}


def test_pytest11_entry_point_is_declared() -> None:
    eps = importlib.metadata.entry_points(group="pytest11")
    (ep,) = [ep for ep in eps if ep.name == "ferrule"]
    assert ep.value == "ferrule.core.testing.pytest_plugin"
    assert ep.dist is not None
    assert ep.dist.name == "ferrule-core"


@pytest.fixture
def app() -> App:
    """The ``app`` fixture that ``ferrule_client`` drives."""
    application = App()
    events: list[str] = []

    async def started() -> None:
        events.append("startup")

    async def stopped() -> None:
        events.append("shutdown")

    application.on_startup(started)
    application.on_shutdown(stopped)

    async def ping() -> dict[str, Any]:
        return {"pong": True, "events": list(events)}

    application.add_route("/ping", ping)
    return application


async def test_ferrule_client_fixture(ferrule_client: TestClient, app: App) -> None:
    assert isinstance(ferrule_client, TestClient)
    assert ferrule_client.app is app
    res = await ferrule_client.get("/ping")
    assert res.status_code == 200
    # the lifespan ran before the first request
    assert res.json() == {"pong": True, "events": ["startup"]}
