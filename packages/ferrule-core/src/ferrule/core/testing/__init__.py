"""Testing helpers: an async test client that runs the app's lifespan."""

from .client import TestClient

__all__ = ("TestClient",)
