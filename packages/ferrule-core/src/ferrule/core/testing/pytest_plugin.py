"""Pytest fixtures shipped with ferrule-core (loaded through ``pytest11``).

Kept light: nothing heavy is imported until a fixture is used.

* ``ferrule_client`` - a running :class:`~ferrule.core.testing.TestClient` for
  the ``app`` fixture your conftest defines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import pytest


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - fixtures need an async plugin
    HAVE_ASYNCIO_PLUGIN = False
else:
    HAVE_ASYNCIO_PLUGIN = True

if HAVE_ASYNCIO_PLUGIN:

    @pytest_asyncio.fixture
    async def ferrule_client(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
        """A started TestClient for the ``app`` fixture (define ``app`` in conftest)."""
        from .client import TestClient

        app = request.getfixturevalue("app")
        async with TestClient(app) as client:
            yield client
