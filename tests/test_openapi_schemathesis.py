"""Schemathesis against apps/hello in-process: no generated request is a server error.

The app is built from hello's controllers with ``OPEN_API`` on and the host
schemathesis sends (``testserver``) allowed; the schema is the one the app
serves at ``/openapi/specs.json``, so a wrong document fails here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import hypothesis
import schemathesis
from hello.app import Config, HelloApi, ItemsApi
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error

from ferrule.core import App

if TYPE_CHECKING:
    from schemathesis import Case


class FuzzConfig(Config):
    OPEN_API: bool | None = True
    ALLOWED_HOSTS: list[str] = ["testserver"]
    ACCESS_LOG: bool = False
    LOGGING_CONFIGURE: bool = False


app = App(FuzzConfig(), controllers=[HelloApi, ItemsApi])
schema = schemathesis.openapi.from_asgi("/openapi/specs.json", app)


def test_every_hello_operation_is_in_the_schema() -> None:
    operations = {
        (op.method.upper(), op.path)
        for op in (result.ok() for result in schema.get_all_operations())
    }
    assert operations == {
        ("GET", "/"),
        ("GET", "/hello/{name}"),
        ("GET", "/items"),
        ("POST", "/items"),
        ("GET", "/items/{item_id}"),
    }


@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case: Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
