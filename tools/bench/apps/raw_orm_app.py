"""The /db limit of an ORM read: the raw ASGI app with the peers' ``/db``.

Every other endpoint is ``raw_app``'s. ``/db`` reads the 10 rows the way every
peer's app does, through an ``AsyncSession`` on a stock ``create_async_engine``
(``select(UserRow)``, ORM objects), with no framework around it. The harness
measures this app on ``/db`` only: what any framework doing the same ORM read on
the same driver could at best reach.
"""

from __future__ import annotations

from typing import Any

import raw_app
from _db import DB_URL, ROWS, UserRow
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine(DB_URL)
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/db" and scope["method"] == "GET":
        async with sessions() as session:
            rows = (await session.scalars(select(UserRow).order_by(UserRow.id).limit(ROWS))).all()
        await raw_app._json(send, 200, [{"id": r.id, "name": r.name} for r in rows])
        return
    await raw_app.app(scope, receive, send)
