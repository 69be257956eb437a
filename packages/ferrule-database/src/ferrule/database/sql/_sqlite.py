"""SQLite through aiosqlite: one trip to the driver's thread per statement.

aiosqlite runs each connection in its own thread and every awaited call is a
round trip: the call is queued to that thread, the thread wakes, runs it, and
hands the result back through the event loop. SQLAlchemy's adapter awaits four
such calls for every statement (``cursor()``, ``execute()``, ``fetchall()``,
``close()``). :class:`OneHopCursor` sends one function instead, which opens a
``sqlite3`` cursor, executes, fetches every row (as SQLAlchemy's buffered adapter
does), reads ``description``, ``rowcount`` and ``lastrowid`` and closes the
cursor, all in the connection's thread. Server-side (streaming) cursors keep
SQLAlchemy's implementation, which fetches in batches as the result is read.

:func:`one_hop` upgrades the connection the dialect opened; a connection of an
unexpected shape (another driver, an aiosqlite without its internal
``_execute``) is returned unchanged, keeping SQLAlchemy's path.

:func:`skip_idle_rollbacks` answers a ROLLBACK with no open transaction without
the round trip at all.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import TYPE_CHECKING, Any

from sqlalchemy.util.concurrency import await_only

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

__all__ = ("OneHopCursor", "one_hop", "skip_idle_rollbacks")

# aiosqlite connection adapter class -> its one-hop subclass.
_UPGRADED: dict[type[Any], type[Any]] = {}

_Outcome = tuple[Any, list[Any], int, int | None]


class OneHopCursor:
    """A DBAPI cursor over an aiosqlite connection: one thread hop per ``execute``."""

    server_side = False
    __slots__ = ("_adapt", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt = adapt_connection
        self._rows: collections.deque[Any] = collections.deque()
        self.arraysize = 1
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    # -- in the connection's thread ------------------------------------------------

    @staticmethod
    def _run(driver: Any, operation: str, parameters: Any, many: bool) -> _Outcome:
        cursor: sqlite3.Cursor = driver._conn.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            elif parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            description = cursor.description
            rows = cursor.fetchall() if description else []
            return description, rows, cursor.rowcount, cursor.lastrowid
        finally:
            cursor.close()

    # -- DBAPI -----------------------------------------------------------------------

    def _call(self, operation: str, parameters: Any, many: bool) -> None:
        driver = self._adapt._connection
        # SQLAlchemy 2.0 adapters carry their own await_ (await_fallback with
        # async_fallback=True); 2.1 has one module-level function.
        wait = getattr(self._adapt, "await_", await_only)
        try:
            outcome: _Outcome = wait(
                driver._execute(self._run, driver, operation, parameters, many)
            )
        except Exception as error:
            self._adapt._handle_exception(error)  # re-raises, translated like the stock path
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: str, parameters: Any = None) -> OneHopCursor:
        self._call(operation, parameters, False)
        return self

    def executemany(self, operation: str, seq_of_parameters: Any) -> OneHopCursor:
        self._call(operation, seq_of_parameters, True)
        return self

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows
        count = min(self.arraysize if size is None else size, len(rows))
        return [rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Any:
        rows = self._rows
        while rows:
            yield rows.popleft()

    def close(self) -> None:
        self._rows.clear()  # the sqlite3 cursor was closed in the thread already

    async def _async_soft_close(self) -> None:
        """SQLAlchemy >= 2.0.44 closes buffered cursors early: nothing is left open."""

    def nextset(self) -> None:
        """SQLite returns one result set per statement."""

    def __enter__(self) -> OneHopCursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def setinputsizes(self, *sizes: Any) -> None:
        """Ignored, as by ``sqlite3``."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """Ignored, as by ``sqlite3``."""


def one_hop(connection: Any) -> Any:
    """``connection`` (an aiosqlite adapter from the dialect), now with one-hop cursors.

    The object keeps its state; only its class becomes a subclass whose
    ``cursor()`` returns :class:`OneHopCursor` for buffered cursors. A connection
    this module does not know how to drive is returned untouched.
    """
    driver = getattr(connection, "_connection", None)
    if driver is None or not callable(getattr(driver, "_execute", None)):
        return connection
    if not isinstance(getattr(type(driver), "_conn", None), property):
        return connection
    base = type(connection)
    upgraded = _UPGRADED.get(base)
    if upgraded is None:
        stock_cursor = base.cursor

        def cursor(self: Any, server_side: bool = False) -> Any:
            if server_side:
                return stock_cursor(self, server_side=True)
            return OneHopCursor(self)

        upgraded = type(
            f"OneHop{base.__name__}",
            (base,),
            {"__slots__": (), "cursor": cursor, "__module__": __name__},
        )
        _UPGRADED[base] = upgraded
    connection.__class__ = upgraded
    return connection


def skip_idle_rollbacks(dialect: Dialect) -> None:
    """SQLite: no driver round trip for a ROLLBACK when no transaction is open.

    Every session end and every pool check-in rolls back. With an async SQLite
    driver that is a hop to the driver's thread, where ``sqlite3`` finds no open
    transaction (reads in its default mode open none; a commit closes it) and
    returns without running any SQL. ``in_transaction`` is the same flag read in
    this thread (SQLAlchemy never uses a connection from two places at once), so
    the outcome is identical and a read-only request saves a round trip, about
    a sixth of a small read with aiosqlite. Anything unexpected (another driver,
    a closed connection) takes the dialect's own path.
    """
    original = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            raw = dbapi_connection.driver_connection._conn  # aiosqlite -> sqlite3
            idle = isinstance(raw, sqlite3.Connection) and not raw.in_transaction
        except Exception:
            idle = False
        if not idle:
            original(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
