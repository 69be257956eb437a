"""Real, tiny plugin distributions written into ``tmp_path`` for the tests.

Each distribution is a package plus a ``NAME-VERSION.dist-info`` folder with
``METADATA`` and ``entry_points.txt``: exactly what ``pip install`` leaves in
site-packages, so ``importlib.metadata`` discovers it once its folder is on
``sys.path``. The test modules load this file by path (the suite runs with
``--import-mode=importlib``, so sibling modules are not importable by name).

Discovery is also *isolated* to the folder (``plugin_site``): plugins that
happen to be installed in the environment (other batteries of the workspace)
must not change what these tests see.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from ferrule.core import plugins as plugins_module

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SAMPLE_GREETING = "hello from the sample plugin"

SAMPLE_SOURCE = f'''
"""A sample Ferrule plugin: contributes the ``ferrule sample`` command group."""

import click

from ferrule.core.plugins import Plugin


@click.group()
def sample() -> None:
    """Commands of the sample plugin."""


@sample.command()
@click.option("--name", default="world")
def hello(name: str) -> None:
    """Say hello."""
    click.echo(f"{SAMPLE_GREETING}, {{name}}!")


class SamplePlugin(Plugin):
    description = "A sample plugin used by the ferrule-core tests"

    def cli_commands(self):
        return [sample]
'''

BROKEN_SOURCE = """
raise RuntimeError("the broken plugin cannot be imported")
"""


@dataclass
class PluginSite:
    """A folder on ``sys.path`` that plugin distributions are written into."""

    root: Path
    modules: list[str] = field(default_factory=list)

    def add(
        self,
        *,
        dist: str,
        version: str,
        module: str,
        source: str,
        entry_points: dict[str, str],
    ) -> None:
        """Write ``module/__init__.py`` and ``dist-version.dist-info`` for it."""
        pkg = self.root / module
        pkg.mkdir()
        (pkg / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        eps = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[{plugins_module.GROUP}]\n{eps}", encoding="utf-8")
        (info / "RECORD").write_text("", encoding="utf-8")
        self.modules.append(module)
        importlib.invalidate_caches()

    def add_sample(self) -> None:
        self.add(
            dist="ferrule-sample-plugin",
            version="0.3.0",
            module="ferrule_sample_plugin",
            source=SAMPLE_SOURCE,
            entry_points={"sample": "ferrule_sample_plugin:SamplePlugin"},
        )

    def add_broken(self) -> None:
        self.add(
            dist="ferrule-broken-plugin",
            version="1.0.0",
            module="ferrule_broken_plugin",
            source=BROKEN_SOURCE,
            entry_points={"broken": "ferrule_broken_plugin:BrokenPlugin"},
        )


def _isolated_entry_points(root: Path) -> object:
    """``entry_points(group=...)`` restricted to the distributions under ``root``."""

    def entry_points(*, group: str) -> importlib.metadata.EntryPoints:
        found: list[importlib.metadata.EntryPoint] = []
        for dist in importlib.metadata.distributions(path=[str(root)]):
            found.extend(dist.entry_points.select(group=group))
        return importlib.metadata.EntryPoints(found)

    return entry_points


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    """An empty plugin folder on ``sys.path``; discovery sees only what is written here."""
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(plugins_module, "entry_points", _isolated_entry_points(root))
    monkeypatch.delenv("FERRULE_DISABLE_PLUGINS", raising=False)
    site = PluginSite(root)
    yield site
    for name in site.modules:
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]


@pytest.fixture
def sample_plugin(plugin_site: PluginSite) -> PluginSite:
    """The site with the working ``sample`` plugin installed."""
    plugin_site.add_sample()
    return plugin_site


@pytest.fixture
def broken_plugin(plugin_site: PluginSite) -> PluginSite:
    """The site with the ``broken`` plugin (its import raises) installed."""
    plugin_site.add_broken()
    return plugin_site
