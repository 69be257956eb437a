"""Bookshelf settings: every key can be overridden by an environment variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from ferrule.core import BaseConfig

MIGRATIONS = Path(__file__).parent / "migrations"


class Config(BaseConfig):
    APP_NAME: str = "Bookshelf"
    #: The database; e.g. DATABASE_URI=postgresql+asyncpg://app@localhost/bookshelf
    DATABASE_URI: str = "sqlite+aiosqlite:///./bookshelf.db"
    #: Apply pending migrations at startup (one-process deployments and development;
    #: with several hosts run `ferrule db upgrade --app bookshelf:app` once instead).
    MIGRATE_ON_STARTUP: bool = True
    #: Extra SqlDatabase settings merged over the defaults below.
    SQL_DATABASE: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _database_section(self) -> Config:
        self.SQL_DATABASE = {
            "DATABASE_URI": self.DATABASE_URI,
            "ALEMBIC_MIGRATION_DIR": str(MIGRATIONS),
            "MODELS": ["bookshelf.models:Base"],
            **self.SQL_DATABASE,
        }
        return self
