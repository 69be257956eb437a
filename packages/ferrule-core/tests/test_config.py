"""Typed configuration: defaults, environment, .env, and errors that name the key."""

from pathlib import Path

import pytest

from ferrule.core import App, BaseConfig, ImproperlyConfiguredError
from ferrule.core.config import load_config


class Config(BaseConfig):
    APP_NAME: str = "Configured"
    WORKERS: int = 2


class NeedsKey(BaseConfig):
    API_TOKEN: str


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory so no stray ``.env`` is read."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_secure_defaults() -> None:
    config = BaseConfig()
    assert config.DEBUG is False
    assert config.SECRET_KEY is None
    assert config.MAX_BODY_SIZE == 10 * 1024 * 1024
    assert config.STRICT_SLASHES is True
    assert config.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]"]
    assert config.HOST == "127.0.0.1"
    assert config.PORT == 8000
    assert config.CONTROLLERS == []
    assert config.EXTENSIONS == []
    assert config.MIDDLEWARE == []
    assert config.EXCEPTION_HANDLERS == []
    assert isinstance(config.APP_NAME, str)
    assert isinstance(config.VERSION, str)


def test_app_without_config_uses_the_defaults() -> None:
    app = App()
    assert type(app.config) is BaseConfig
    assert app.debug is False
    assert app.config.SECRET_KEY is None


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("MAX_BODY_SIZE", "1234")
    monkeypatch.setenv("ALLOWED_HOSTS", '["Example.com", ".example.org"]')
    monkeypatch.setenv("WORKERS", "8")
    app = App(config=Config)
    assert app.config.DEBUG is True
    assert app.debug is True
    assert app.config.MAX_BODY_SIZE == 1234
    assert app.config.ALLOWED_HOSTS == ["example.com", ".example.org"]
    assert app.config.WORKERS == 8  # type: ignore[attr-defined]
    assert app.config.APP_NAME == "Configured"


def test_dotenv_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("APP_NAME=FromDotenv\nSECRET_KEY=s3cret\nPORT=9000\n")
    monkeypatch.setenv("PORT", "9100")
    config = load_config(Config)
    assert config.APP_NAME == "FromDotenv"
    assert config.SECRET_KEY == "s3cret"
    assert config.PORT == 9100


def test_mapping_config_and_extra_keys() -> None:
    app = App(config={"APP_NAME": "mapped", "MY_SECTION": {"A": 1}})
    assert app.config.APP_NAME == "mapped"
    assert app.get_conf("MY_SECTION") == {"A": 1}
    assert app.get_conf("NOT_SET", "fallback") == "fallback"
    assert app.config.get("APP_NAME") == "mapped"


def test_config_instance_is_used_as_is() -> None:
    config = Config(APP_NAME="instance")
    assert App(config=config).config is config


def test_config_class_attribute_of_an_app_subclass() -> None:
    class Application(App):
        config_class = Config

    assert Application().config.APP_NAME == "Configured"


def test_wrong_value_in_the_environment_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_SIZE", "lots")
    with pytest.raises(ImproperlyConfiguredError) as info:
        App(config=Config)
    message = str(info.value)
    assert "Invalid configuration in Config" in message
    assert "MAX_BODY_SIZE" in message
    assert "'lots'" in message
    assert "fix the value" in message


def test_wrong_value_in_a_mapping_names_the_key() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"PORT: .*\(got 70000\)"):
        App(config={"PORT": 70000})


def test_missing_required_key_says_how_to_set_it() -> None:
    with pytest.raises(ImproperlyConfiguredError) as info:
        App(config=NeedsKey)
    assert "API_TOKEN: required but not set" in str(info.value)
    assert "environment variable" in str(info.value)


def test_empty_allowed_hosts_is_refused_with_a_hint() -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"ALLOWED_HOSTS: .*at least one host"):
        App(config={"ALLOWED_HOSTS": []})


def test_config_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="DEBUG"):
        App(config={"DEBUG": "not-a-bool"})


def test_unsupported_config_source_is_refused() -> None:
    with pytest.raises(ImproperlyConfiguredError, match="App config must be a BaseConfig"):
        App(config="settings.py")  # type: ignore[arg-type]


def test_env_error_without_a_config_class_names_base_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ferrule.core import App, ImproperlyConfiguredError

    monkeypatch.setenv("PORT", "abc")
    with pytest.raises(ImproperlyConfiguredError) as exc:
        App()
    assert "Invalid configuration in BaseConfig (from the environment)" in str(exc.value)
    assert "PORT" in str(exc.value)
