"""Import strings: what they resolve to, and errors that say what went wrong."""

import json
import os.path

import pytest

from ferrule.core import App, ImproperlyConfiguredError
from ferrule.core.importing import import_string


def test_colon_and_dotted_forms() -> None:
    assert import_string("json:dumps") is json.dumps
    assert import_string("json.dumps") is json.dumps
    assert import_string("os.path:join") is os.path.join
    assert import_string("os:path.join") is os.path.join


def test_sample_package_objects(sample_path: str) -> None:
    from ferrule_core_sample.controllers import UsersApi

    assert import_string(f"{sample_path}.controllers:UsersApi") is UsersApi


def test_missing_module_is_named() -> None:
    with pytest.raises(ImproperlyConfiguredError) as info:
        import_string("ferrule_no_such_pkg.mod:Thing", setting="CONTROLLERS")
    message = str(info.value)
    assert "'ferrule_no_such_pkg.mod:Thing' in CONTROLLERS" in message
    assert "module 'ferrule_no_such_pkg.mod' was not found" in message


def test_missing_attribute_is_named_with_the_available_names(sample_path: str) -> None:
    with pytest.raises(ImproperlyConfiguredError) as info:
        import_string(f"{sample_path}.controllers:UserApi", setting="CONTROLLERS")
    message = str(info.value)
    assert f"'{sample_path}.controllers:UserApi' in CONTROLLERS" in message
    assert "has no attribute 'UserApi'" in message
    assert "UsersApi" in message  # the list of names points at the typo


def test_module_failing_its_own_import_is_told_apart(sample_path: str) -> None:
    with pytest.raises(ImproperlyConfiguredError) as info:
        import_string(f"{sample_path}.broken:anything", setting="EXTENSIONS")
    message = str(info.value)
    assert f"module '{sample_path}.broken' failed to import" in message
    assert "'ferrule_core_sample_missing_dependency'" in message
    assert "was not found" not in message


@pytest.mark.parametrize("target", ["", "   ", "nodots", ":Name", "module:"])
def test_malformed_strings(target: str) -> None:
    with pytest.raises(ImproperlyConfiguredError, match=r"expected 'package\.module:Name'"):
        import_string(target)


@pytest.mark.parametrize(
    "setting", ["CONTROLLERS", "EXTENSIONS", "EXCEPTION_HANDLERS", "MIDDLEWARE"]
)
def test_bad_module_in_any_config_list_is_a_startup_error(setting: str) -> None:
    target = "ferrule_no_such_pkg.things:Thing"
    with pytest.raises(ImproperlyConfiguredError) as info:
        App(config={setting: [target]})
    message = str(info.value)
    assert f"{target!r} in {setting}" in message
    assert "module 'ferrule_no_such_pkg.things' was not found" in message


@pytest.mark.parametrize(
    ("setting", "module"),
    [
        ("CONTROLLERS", "controllers"),
        ("EXTENSIONS", "extensions"),
        ("EXCEPTION_HANDLERS", "errors"),
        ("MIDDLEWARE", "middleware"),
    ],
)
def test_bad_attribute_in_any_config_list_is_a_startup_error(
    sample_path: str, setting: str, module: str
) -> None:
    target = f"{sample_path}.{module}:DoesNotExist"
    with pytest.raises(ImproperlyConfiguredError) as info:
        App(config={setting: [target]})
    message = str(info.value)
    assert f"{target!r} in {setting}" in message
    assert "has no attribute 'DoesNotExist'" in message


@pytest.mark.parametrize(
    ("setting", "target", "expected"),
    [
        ("CONTROLLERS", "controllers:NOT_A_CONTROLLER", "is not a Controller subclass"),
        ("EXTENSIONS", "extensions:Counter", "is a class; list an instance instead"),
        ("EXCEPTION_HANDLERS", "errors:NotAHandler", "is not an ExceptionHandler subclass"),
    ],
)
def test_import_strings_to_the_wrong_kind_of_object(
    sample_path: str, setting: str, target: str, expected: str
) -> None:
    with pytest.raises(ImproperlyConfiguredError, match=expected):
        App(config={setting: [f"{sample_path}.{target}"]})
