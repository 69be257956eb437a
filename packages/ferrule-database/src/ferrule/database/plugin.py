"""The ``database`` plugin: mounts ``ferrule db ...`` on the ferrule CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferrule.core import Plugin

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("DatabasePlugin",)


class DatabasePlugin(Plugin):
    """SQLAlchemy async databases, Alembic migrations and NoSQL backends."""

    description = "SQL (SQLAlchemy async), migrations (Alembic) and NoSQL databases"

    def cli_commands(self) -> Sequence[Any]:
        # Imported here: plugins are loaded by every CLI call, keep that cheap.
        from .migrate.cli import db

        return (db,)
