"""One audit trail for every change that matters: who, when, what, old -> new, and from where.

The trail is append-only. The application refuses to change or delete a row (the guards at
the end of this module), and on PostgreSQL a trigger refuses UPDATE and DELETE as well, so
not even a query typed into a database console rewrites history.
"""

import ipaddress
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, joinedload, mapped_column, relationship

from trainapp.db import UTCDateTime, utcnow
from trainapp.extensions import Model, db


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when anything tries to change or delete an audit row."""


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # Where the request came from (after PROXY_HOPS); empty for jobs and commands.
    client_address: Mapped[str | None] = mapped_column(sa.String(64))

    # By name: the audit trail sits below every feature and imports none of them.
    actor = relationship("User", lazy="raise")

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)


def record(
    actor,
    action: str,
    entity,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit row to the caller's transaction (the caller commits).

    ``at`` is the moment the service acted on, where it was given one, so the trail and the
    rule it applied (a register's edit window, say) agree on when it happened."""
    if entity is not None and getattr(entity, "id", None) is None:
        db.session.flush()
    event = AuditEvent(
        occurred_at=at or utcnow(),
        actor_id=getattr(actor, "id", None),
        action=action,
        entity_type=type(entity).__tablename__ if entity is not None else "system",
        entity_id=getattr(entity, "id", None),
        before=before,
        after=after,
        reason=reason,
        client_address=client_address(),
    )
    db.session.add(event)
    return event


def client_address() -> str | None:
    """The address of the person making this request, or None outside a request.

    ``remote_addr`` is the connection's own address, or, with PROXY_HOPS set, the one the
    trusted proxies reported (create_app installs ProxyFix). Anything that is not an address
    is not stored: the column is evidence, not a place for a forged header's text.
    """
    if not has_request_context() or not request.remote_addr:
        return None
    try:
        return str(ipaddress.ip_address(request.remote_addr))
    except ValueError:
        return None


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (old, new)."""
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in changed}, {key: after.get(key) for key in changed}


# Reading the trail --------------------------------------------------------------------------


def about(entity) -> sa.ColumnElement[bool]:
    """Events recorded against this one row."""
    return sa.and_(AuditEvent.entity_type == entity.__tablename__, AuditEvent.entity_id == entity.id)


def about_any(table_name: str, ids: sa.Select) -> sa.ColumnElement[bool]:
    """Events recorded against any row of a table whose id the ``ids`` query selects."""
    return sa.and_(AuditEvent.entity_type == table_name, AuditEvent.entity_id.in_(ids))


def history_where(*conditions: sa.ColumnElement[bool]) -> sa.Select:
    """Events matching any condition, newest first, each with who did it loaded alongside."""
    return (
        sa.select(AuditEvent)
        .where(sa.or_(*conditions))
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )


def history_for(entity) -> sa.Select:
    """The history of one row (a booking, a person, a session), newest first."""
    return history_where(about(entity))


# Append-only --------------------------------------------------------------------------------


@sa.event.listens_for(AuditEvent, "before_update")
@sa.event.listens_for(AuditEvent, "before_delete")
def _refuse_changing_a_row(_mapper, _connection, event: AuditEvent) -> None:
    raise AuditTrailIsAppendOnly(f"Audit row {event.id} cannot be changed or deleted: the audit trail is append-only")


@sa.event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    # sa.update(AuditEvent) and sa.delete(AuditEvent) skip the per-row events above.
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise AuditTrailIsAppendOnly("Audit rows cannot be changed or deleted: the audit trail is append-only")


# The same function and trigger as the migration that added them, for databases built from the
# models (the test suite); the migration keeps its own copy, as migrations are frozen in time.
_REFUSE_CHANGES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql
"""
_REFUSE_CHANGES_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
"""
for _statement in (_REFUSE_CHANGES_FUNCTION, _REFUSE_CHANGES_TRIGGER):
    sa.event.listen(AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
sa.event.listen(
    AuditEvent.__table__,
    "after_drop",
    sa.DDL("DROP FUNCTION IF EXISTS audit_events_refuse_change()").execute_if(dialect="postgresql"),
)
