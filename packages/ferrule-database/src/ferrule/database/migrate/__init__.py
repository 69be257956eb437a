"""Migrations with Alembic on the async engine: ``Migrations`` and ``ferrule db``."""

from .commands import Migrations, find_database

__all__ = ("Migrations", "find_database")
