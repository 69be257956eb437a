"""The ``database`` plugin: entry point, CLI group, discovery by the kernel."""

from __future__ import annotations

from importlib.metadata import entry_points

import click
from click.testing import CliRunner

from ferrule.core.cli import main
from ferrule.core.plugins import load_plugin
from ferrule.database.plugin import DatabasePlugin


def test_entry_point_is_declared() -> None:
    found = {ep.name: ep for ep in entry_points(group="ferrule.plugins")}
    assert found["database"].value == "ferrule.database.plugin:DatabasePlugin"
    assert found["database"].load() is DatabasePlugin


def test_plugin_loads_and_contributes_db_group() -> None:
    info = load_plugin("database")
    assert info.ok
    assert info.distribution == "ferrule-database"
    commands = list(info.plugin.cli_commands())
    assert [c.name for c in commands] == ["db"]
    group = commands[0]
    assert isinstance(group, click.Group)
    assert set(group.commands) == {
        "init",
        "migrate",
        "upgrade",
        "downgrade",
        "history",
        "current",
        "heads",
        "show",
        "stamp",
    }


def test_ferrule_cli_lists_plugin_and_db() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["plugins"])
    assert listing.exit_code == 0
    assert "database" in listing.output
    assert "ferrule-database" in listing.output
    help_text = runner.invoke(main, ["db", "--help"])
    assert help_text.exit_code == 0
    assert "upgrade" in help_text.output
    upgrade_help = runner.invoke(main, ["db", "upgrade", "--help"])
    assert "--db NAME" in upgrade_help.output
    assert "--app MODULE:ATTR" in upgrade_help.output
