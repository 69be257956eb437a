"""Ferrule's database battery: SQL (SQLAlchemy async), migrations (Alembic), NoSQL."""

from .exceptions import DatabaseUnavailableError, ReadOnlySessionError
from .nosql import AsyncNoSqlBackendBase, NoSqlDatabase, plain_filter
from .sql import (
    AllowList,
    AsyncQuery,
    Page,
    QueryMixin,
    SqlDatabase,
    create_declarative_base,
)

__version__ = "0.1.0"

__all__ = (
    "AllowList",
    "AsyncNoSqlBackendBase",
    "AsyncQuery",
    "DatabaseUnavailableError",
    "NoSqlDatabase",
    "Page",
    "QueryMixin",
    "ReadOnlySessionError",
    "SqlDatabase",
    "create_declarative_base",
    "plain_filter",
)
