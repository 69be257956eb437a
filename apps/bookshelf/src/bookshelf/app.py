"""The bookshelf application."""

from __future__ import annotations

from typing import Any

from ferrule.core import App, BaseConfig
from ferrule.database.migrate import Migrations

from .api import BooksApi, Conflicts
from .config import Config
from .extensions import db


class Application(App):
    config_class = Config

    def __init__(self, config: BaseConfig | dict[str, Any] | None = None) -> None:
        super().__init__(
            config, controllers=[BooksApi], extensions=[db], exception_handlers=[Conflicts]
        )
        # After the extensions started: the database engine exists by then.
        self.on_startup(self.migrate)

    async def migrate(self) -> None:
        """Create or upgrade the database to the latest migration (first run included)."""
        if self.config.get("MIGRATE_ON_STARTUP", True):
            await Migrations(self, db).upgrade_async()


app = Application()
