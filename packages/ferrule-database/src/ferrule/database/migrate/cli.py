"""``ferrule db ...``: the migration commands, mounted by the ``database`` plugin."""

from __future__ import annotations

import functools
import logging
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from .commands import Migrations

__all__ = ("db",)


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--app`` and ``--db`` on every command; passes a ready ``Migrations``."""

    @click.option(
        "--app",
        "app_path",
        default=None,
        metavar="MODULE:ATTR",
        help="The application. Default: $FERRULE_APP, then app:Application, then app:app.",
    )
    @click.option(
        "--db",
        "db_name",
        default=None,
        metavar="NAME",
        help="Which database (its SqlDatabase db_name); default: the app's only one, or 'db'.",
    )
    @functools.wraps(fn)
    def command(app_path: str | None, db_name: str | None, **kwargs: Any) -> None:
        from alembic.util import CommandError

        from ferrule.core import FerruleError
        from ferrule.core.cli.loader import load_app

        from .commands import Migrations

        _log_alembic()
        app = load_app(app_path)
        try:
            migrations = Migrations(app, db_name, stdout=sys.stdout)
            fn(migrations, **kwargs)
        except (CommandError, FerruleError) as exc:
            raise click.ClickException(str(exc)) from exc

    return command


def _log_alembic() -> None:
    """Show Alembic's progress lines ("Running upgrade a -> b") on stderr."""
    logger = logging.getLogger("alembic")
    for handler in logger.handlers:
        if getattr(handler, "_ferrule", False):
            # sys.stderr may have been replaced since (tests, nested CLIs).
            handler.setStream(sys.stderr)  # type: ignore[attr-defined]
            break
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._ferrule = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@click.group(name="db")
def db() -> None:
    """Database migrations (Alembic, run on the app's async engine)."""


@db.command()
@_common
def init(migrations: Migrations) -> None:
    """Create the migration directory (ALEMBIC_MIGRATION_DIR)."""
    path = migrations.init()
    click.echo(
        f"Created the migration directory {str(path)!r} for database {migrations.db.name!r}."
    )


@db.command()
@click.option("-m", "--message", default=None, help="The revision's message.")
@click.option("--empty", is_flag=True, help="Write an empty script instead of autogenerating.")
@_common
def migrate(migrations: Migrations, message: str | None, empty: bool) -> None:
    """Autogenerate a revision script from the models."""
    for path in migrations.migrate(message, autogenerate=not empty):
        click.echo(f"Generated {path}")


@db.command()
@click.argument("revision", default="head")
@_common
def upgrade(migrations: Migrations, revision: str) -> None:
    """Upgrade to REVISION (default: head)."""
    migrations.upgrade(revision)


@db.command()
@click.argument("revision", default="-1")
@_common
def downgrade(migrations: Migrations, revision: str) -> None:
    """Downgrade to REVISION (default: -1, the previous one)."""
    migrations.downgrade(revision)


@db.command()
@click.option("-v", "--verbose", is_flag=True, help="Show each revision in full.")
@click.option("-i", "--indicate-current", is_flag=True, help="Mark the current revision.")
@_common
def history(migrations: Migrations, verbose: bool, indicate_current: bool) -> None:
    """List the revisions, newest first."""
    migrations.history(verbose=verbose, indicate_current=indicate_current)


@db.command()
@click.option("-v", "--verbose", is_flag=True)
@_common
def current(migrations: Migrations, verbose: bool) -> None:
    """Show the database's current revision."""
    migrations.current(verbose=verbose)


@db.command()
@click.option("-v", "--verbose", is_flag=True)
@_common
def heads(migrations: Migrations, verbose: bool) -> None:
    """Show the head revision(s) of the scripts."""
    migrations.heads(verbose=verbose)


@db.command()
@click.argument("revision")
@_common
def show(migrations: Migrations, revision: str) -> None:
    """Show one revision."""
    migrations.show(revision)


@db.command()
@click.argument("revision")
@_common
def stamp(migrations: Migrations, revision: str) -> None:
    """Record REVISION as current without running migrations."""
    migrations.stamp(revision)
