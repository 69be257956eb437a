"""The shared SQLite file of the ``/db`` scenario: 100 users, read 10 at a time.

Created once at import (synchronously, before the server serves anything); every
app then reads it through SQLAlchemy's asyncio extension with aiosqlite.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DB_PATH = Path(os.environ.get("FERRULE_BENCH_DB", Path(__file__).parent / "bench.db"))
DB_URL = f"sqlite+aiosqlite:///{DB_PATH}"
ROWS = 10


def ensure_db() -> None:
    if DB_PATH.exists():
        return
    tmp = DB_PATH.with_suffix(f".{os.getpid()}.tmp")
    with sqlite3.connect(tmp) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.executemany(
            "INSERT INTO users (id, name) VALUES (?, ?)", [(i, f"user{i}") for i in range(1, 101)]
        )
    os.replace(tmp, DB_PATH)  # atomic: several servers may start at once


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)


ensure_db()
