"""NoSQL databases: the ``NoSqlDatabase`` extension and its backends.

``MongoBackend`` lives in ``ferrule.database.nosql.mongo`` (needs the ``mongo``
extra: ``pip install 'ferrule-database[mongo]'``).
"""

from .backend import AsyncNoSqlBackendBase
from .config import NoSqlDatabaseConfig
from .extension import NoSqlDatabase
from .filters import plain_filter, plain_value

__all__ = (
    "AsyncNoSqlBackendBase",
    "NoSqlDatabase",
    "NoSqlDatabaseConfig",
    "plain_filter",
    "plain_value",
)
