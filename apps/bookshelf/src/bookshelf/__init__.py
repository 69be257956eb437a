"""Bookshelf: Ferrule's reference application, a books API on SQL.

Run it with ``uv run ferrule run bookshelf:app``: the SQLite database
(``./bookshelf.db``) is created and migrated on first start.
"""

from .app import Application, app

__all__ = ("Application", "app")
