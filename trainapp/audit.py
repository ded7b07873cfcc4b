"""One audit trail for every change that matters: who, when, what, old -> new."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from trainapp.db import UTCDateTime, utcnow
from trainapp.extensions import Model, db


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80))
    entity_type: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)

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
    )
    db.session.add(event)
    return event


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
