"""The session class behind every ``AsyncSession``, with the read-only guard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..exceptions import ReadOnlySessionError

if TYPE_CHECKING:
    from sqlalchemy.orm import ORMExecuteState, UOWTransaction

__all__ = ("READONLY", "FerruleSession")

#: ``session.info`` key marking a read-only session.
READONLY = "ferrule.readonly"


class FerruleSession(Session):
    """SQLAlchemy's ``Session``; read-only sessions refuse writes.

    A read-only session raises :class:`ReadOnlySessionError` when it would flush
    pending changes (added, modified or deleted objects) or execute an ORM
    ``insert()``/``update()``/``delete()``. Textual SQL is not inspected: use a
    read-only database role where that matters.
    """


@event.listens_for(FerruleSession, "before_flush")
def _refuse_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    if session.info.get(READONLY) and (session.new or session.dirty or session.deleted):
        pending = [*session.new, *session.dirty, *session.deleted]
        raise ReadOnlySessionError(
            f"Refusing to flush {len(pending)} pending change(s) ({pending[0]!r}...) in a "
            "read-only session. Use @db.managed_session (or Depends(db.session)) for "
            "handlers that write."
        )


@event.listens_for(FerruleSession, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.session.info.get(READONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlySessionError(
            f"Refusing to execute {state.statement!s:.60} in a read-only session. Use "
            "@db.managed_session (or Depends(db.session)) for handlers that write."
        )
