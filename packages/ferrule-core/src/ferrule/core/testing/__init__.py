"""Testing helpers: an async test client that runs the app's lifespan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import TestClient

__all__ = ("TestClient",)


def __getattr__(name: str) -> Any:
    # Lazy, so that the pytest plugin in this package stays light to import.
    if name == "TestClient":
        from .client import TestClient

        return TestClient
    raise AttributeError(f"module 'ferrule.core.testing' has no attribute {name!r}")
