"""Shared fixtures of the ferrule-core unit tests."""

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent


@pytest.fixture
def sample_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the tests directory on ``sys.path`` so ``ferrule_core_sample`` imports.

    The suite runs with ``--import-mode=importlib``, which does not add test
    directories to ``sys.path``; import strings in config need a real package.
    """
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    return "ferrule_core_sample"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's environment out of config defaults.

    Every ``BaseConfig`` key can come from an environment variable; a stray
    ``DEBUG=1`` in a shell must not change what the tests observe.
    """
    for key in (
        "APP_NAME",
        "VERSION",
        "DEBUG",
        "SECRET_KEY",
        "HOST",
        "PORT",
        "ALLOWED_HOSTS",
        "STRICT_SLASHES",
        "MAX_BODY_SIZE",
        "REQUEST_ID_HEADER",
        "CONTROLLERS",
        "EXTENSIONS",
        "MIDDLEWARE",
        "EXCEPTION_HANDLERS",
        "PLUGINS",
    ):
        monkeypatch.delenv(key, raising=False)
