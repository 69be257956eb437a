"""The session class behind every ``AsyncSession``, with the read-only guard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..exceptions import ReadOnlySessionError

if TYPE_CHECKING:
    from sqlalchemy.orm import UOWTransaction

__all__ = ("FerruleSession",)


class FerruleSession(Session):
    """SQLAlchemy's ``Session``; read-only sessions refuse writes.

    A read-only session raises :class:`ReadOnlySessionError` when it would flush
    pending changes (added, modified or deleted objects) or execute an ORM or Core
    ``insert()``/``update()``/``delete()``. Textual SQL is not inspected: use a
    read-only database role where that matters.

    The statement check lives in ``execute``/``scalars``/``scalar`` (one attribute
    test) rather than in a ``do_orm_execute`` listener: a listener makes SQLAlchemy
    build an ``ORMExecuteState`` for every statement of every session.
    """

    #: Set on the instance by ``session_scope(readonly=True)``.
    readonly: bool = False

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_writable(statement)
        return super().execute(statement, *args, **kwargs)

    def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_writable(statement)
        return super().scalars(statement, *args, **kwargs)

    def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_writable(statement)
        return super().scalar(statement, *args, **kwargs)

    def _check_writable(self, statement: Any) -> None:
        if self.readonly and getattr(statement, "is_dml", False):
            raise ReadOnlySessionError(
                f"Refusing to execute {statement!s:.60} in a read-only session. Use "
                "@db.managed_session (or Depends(db.session)) for handlers that write."
            )


@event.listens_for(FerruleSession, "before_flush")
def _refuse_flush(session: FerruleSession, flush_context: UOWTransaction, instances: Any) -> None:
    if session.readonly and (session.new or session.dirty or session.deleted):
        pending = [*session.new, *session.dirty, *session.deleted]
        raise ReadOnlySessionError(
            f"Refusing to flush {len(pending)} pending change(s) ({pending[0]!r}...) in a "
            "read-only session. Use @db.managed_session (or Depends(db.session)) for "
            "handlers that write."
        )
