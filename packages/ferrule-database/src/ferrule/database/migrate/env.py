"""Helpers for the ``env.py`` of Ferrule migration directories."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from collections.abc import Callable

    from alembic.config import Config
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection

__all__ = ("METADATA", "configure_options", "metadata_from_config", "run_async")

#: ``Config.attributes`` key holding the models' metadata (set by ``Migrations``).
METADATA = "ferrule.metadata"


def metadata_from_config(config: Config) -> MetaData | list[MetaData] | None:
    """The target metadata Ferrule collected for this database (None if none)."""
    found: list[MetaData] = list(config.attributes.get(METADATA) or ())
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def configure_options(config: Config, connection: Connection) -> dict[str, Any]:
    """Extra ``context.configure`` options: SQLite batch mode, no empty revisions."""
    return {
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        "render_as_batch": connection.dialect.name == "sqlite",
        "compare_type": True,
        "process_revision_directives": _skip_empty(config),
    }


def _skip_empty(config: Config) -> Callable[..., None]:
    def process(
        context: MigrationContext, revision: Any, directives: list[MigrationScript]
    ) -> None:
        cmd_opts = config.cmd_opts
        autogenerate = bool(getattr(cmd_opts, "autogenerate", False)) or bool(
            config.attributes.get("ferrule.autogenerate")
        )
        if not autogenerate or not directives:
            return
        script = directives[0]
        if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
            directives[:] = []
            config.print_stdout("No changes in the schema detected; no migration written.")

    return process


def run_async(config: Config, run: Callable[[Connection], None]) -> None:
    """Run ``run(connection)`` on an async engine made from ``sqlalchemy.url``."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "No database URL: run migrations with `ferrule db ...` (or set sqlalchemy.url)."
        )

    async def go() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(go())
