"""The ``NOSQL_DATABASE`` config section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ferrule.core.importing import import_string

from .backend import AsyncNoSqlBackendBase

__all__ = ("NoSqlDatabaseConfig",)

DEFAULT_BACKEND = "ferrule.database.nosql.mongo:MongoBackend"


class NoSqlDatabaseConfig(BaseModel):
    """Settings of one NoSQL database (section ``{variable_prefix}NOSQL_DATABASE``).

    ``BACKEND`` and ``CLIENT_FACTORY`` take a class/callable or an import string.
    ``CLIENT_FACTORY(DATABASE_URI, **CLIENT_OPTIONS)`` makes the driver client
    (default: ``pymongo.AsyncMongoClient``; ``motor.motor_asyncio:AsyncIOMotorClient``
    or ``mongomock_motor:AsyncMongoMockClient`` work too). ``TRANSACTIONS`` forces
    transaction support on or off (default: detected from the server).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, validate_default=True
    )

    BACKEND: Any = DEFAULT_BACKEND
    DATABASE_URI: str
    DATABASE: str | None = None
    DB_INJECT_NAME: str = "db"
    SESSION_NAME: str = "session"
    CLIENT_FACTORY: Any = None
    CLIENT_OPTIONS: dict[str, Any] = Field(default_factory=dict)
    TRANSACTIONS: bool | None = None

    @field_validator("BACKEND")
    @classmethod
    def _backend_class(cls, value: Any) -> type[AsyncNoSqlBackendBase]:
        if isinstance(value, str):
            value = import_string(value)
        if not (isinstance(value, type) and issubclass(value, AsyncNoSqlBackendBase)):
            raise ValueError(
                "must be a subclass of ferrule.database.nosql.AsyncNoSqlBackendBase "
                f"(or its import string), e.g. {DEFAULT_BACKEND!r}"
            )
        return value

    @field_validator("CLIENT_FACTORY")
    @classmethod
    def _factory(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = import_string(value)
        if value is not None and not callable(value):
            raise ValueError("must be a callable (or its import string) returning a client")
        return value

    @field_validator("DB_INJECT_NAME", "SESSION_NAME")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError("must be a valid Python parameter name")
        return value
