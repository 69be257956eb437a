"""SQL databases on SQLAlchemy 2 async: extension, models, queries, sessions."""

from .allowlist import AllowList
from .config import SqlDatabaseConfig
from .errors import is_unavailable
from .extension import SqlDatabase
from .guard import FerruleSession
from .models import QueryMixin, create_declarative_base
from .pagination import Page, page_number
from .query import AsyncQuery

__all__ = (
    "AllowList",
    "AsyncQuery",
    "FerruleSession",
    "Page",
    "QueryMixin",
    "SqlDatabase",
    "SqlDatabaseConfig",
    "create_declarative_base",
    "is_unavailable",
    "page_number",
)
