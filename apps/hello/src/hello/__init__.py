"""A small Ferrule app: a controller with path, query and body parameters.

Run it with ``uv run ferrule run hello:app``.
"""

from .app import Application, app

__all__ = ("Application", "app")
