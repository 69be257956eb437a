"""The /db ceiling on ferrule-database: the peers' ORM read, Ferrule's engine, no framework.

Every other endpoint is ``raw_app``'s. ``/db`` runs the same query as
``raw_orm_app`` (an ``AsyncSession``, ``select(UserRow)``, ORM objects), but on
the engine and session class that ``SqlDatabase`` builds at startup: one driver
round trip per statement (D8), a SQLite pool that does not overflow (D9), no
pre-ping, the read-only guard's session class (D10). The session is closed as
ferrule-database's session scope closes it (``await session.close()``; ``async
with AsyncSession`` would close it in a new task). Nothing of the kernel runs, so
no framework reading through ferrule-database this way can be faster: the harness
measures it on ``/db`` only and reports Ferrule against it.
"""

from __future__ import annotations

from typing import Any

import raw_app
from _db import DB_URL, ROWS, UserRow
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from ferrule.database.sql.config import SqlDatabaseConfig
from ferrule.database.sql.engine import build_engine
from ferrule.database.sql.guard import FerruleSession

engine = build_engine(SqlDatabaseConfig(DATABASE_URI=DB_URL), "SQL_DATABASE")
sessions = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=FerruleSession)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/db" and scope["method"] == "GET":
        session = sessions()
        try:
            rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
        finally:
            await session.close()
        await raw_app._json(send, 200, [{"id": r.id, "name": r.name} for r in rows])
        return
    await raw_app.app(scope, receive, send)
