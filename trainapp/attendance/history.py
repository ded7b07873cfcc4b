"""The audit trail in plain words: the history of a booking, of a register and of a person.

The trail itself (``trainapp.audit``) sits below every feature; this is where the bookings'
and registers' own words for what happened are put back on it.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainapp import audit
from trainapp.accounts.models import User
from trainapp.audit import AuditEvent
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import TrainingSession
from trainapp.extensions import db

ACTIONS = {
    "booking.created": "Place booked",
    "booking.cancelled": "Booking cancelled",
    "booking.late_cancelled": "Booking cancelled late",
    "booking.transferred": "Place passed to a colleague",
    "booking.approved": "Booking approved",
    "booking.declined": "Booking declined",
    "booking.expired": "Request expired without a decision",
    "booking.promoted": "Given a place from the waiting list",
    "booking.moved_on_waiting_list": "Moved on the waiting list",
    "attendance.marked": "Attendance marked",
    "attendance.walk_in": "Added as a walk-in",
    "register.submitted": "Register submitted",
    "user.created": "Account created",
    "user.updated": "Details changed",
    "user.deactivated": "Account deactivated",
    "user.reactivated": "Account reactivated",
    "user.anonymised": "Details removed when the retention period ended",
    "user.password_changed": "Password changed",
    "user.password_reset": "Password reset by email link",
}

FIELDS = {
    "status": "Status",
    "attendance": "Attendance",
    "minutes_missed": "Minutes missed",
    "queue_position": "Place on the waiting list",
    "agency_id": "Agency",
    "job_title": "Job title",
}

STATUSES: dict[str, type[BookingStatus] | type[AttendanceStatus]] = {
    "status": BookingStatus,
    "attendance": AttendanceStatus,
}

REGISTER_ACTIONS = ("attendance.marked", "attendance.walk_in")


@dataclass
class Entry:
    """One event as a person reads it."""

    occurred_at: datetime
    who: str
    what: str
    changes: list[str]
    reason: str | None
    booking: Booking | None  # what the event was about, where it was a booking


def action_label(action: str) -> str:
    return ACTIONS.get(action) or action.replace(".", ": ").replace("_", " ").capitalize()


def _value(key: str, value) -> str:
    if value is None:
        return "Not marked" if key == "attendance" else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    kind = STATUSES.get(key)
    if kind is not None:
        try:
            return kind(value).label
        except ValueError:
            pass  # a session's or a person's status, not a booking's: its own word will do
    return str(value).replace("_", " ")


def changes(before: dict | None, after: dict | None) -> list[str]:
    """'Attendance: Not marked → Attended', one line for each value that changed."""
    before, after = before or {}, after or {}
    lines = []
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        if key in before and old == new:
            continue
        label = FIELDS.get(key) or key.replace("_", " ").capitalize()
        if key not in before:
            if new is not None:  # a new row's empty fields say nothing
                lines.append(f"{label}: {_value(key, new)}")
        else:
            lines.append(f"{label}: {_value(key, old)} → {_value(key, new)}")
    return lines


def entries(events: list[AuditEvent]) -> list[Entry]:
    """Events in plain words, with the bookings they were about loaded in one query."""
    booking_ids = {e.entity_id for e in events if e.entity_type == Booking.__tablename__}
    bookings = {}
    if booking_ids:
        bookings = {
            b.id: b
            for b in db.session.scalars(
                sa.select(Booking)
                .where(Booking.id.in_(booking_ids))
                .options(
                    joinedload(Booking.user),
                    joinedload(Booking.session).joinedload(TrainingSession.course),
                )
            )
        }
    return [
        Entry(
            occurred_at=event.occurred_at,
            who=event.actor.name if event.actor else "The service",
            what=action_label(event.action),
            changes=changes(event.before, event.after),
            reason=event.reason,
            booking=bookings.get(event.entity_id)
            if event.entity_type == Booking.__tablename__ and event.entity_id is not None
            else None,
        )
        for event in events
    ]


def booking_history(booking: Booking) -> sa.Select:
    """Everything done to one booking, newest first."""
    return audit.history_for(booking)


def register_history(session: TrainingSession) -> sa.Select:
    """Every mark on a session's register (with who, when, old → new, reason) and its submissions."""
    return audit.history_where(
        sa.and_(
            audit.about_any(Booking.__tablename__, sa.select(Booking.id).where(Booking.session_id == session.id)),
            AuditEvent.action.in_(REGISTER_ACTIONS),
        ),
        sa.and_(audit.about(session), AuditEvent.action == "register.submitted"),
    )


def register_corrections(session: TrainingSession, locked_at: datetime) -> list[Entry]:
    """Changes to the register after the trainers' window closed: each carries its reason."""
    events = db.session.scalars(register_history(session).where(AuditEvent.occurred_at > locked_at)).all()
    return entries(list(events))


def person_history(person: User, *, agency_id: int | None = None) -> sa.Select:
    """A person's account and bookings, newest first. With ``agency_id``, only the bookings
    they made while with that agency: what that agency's lead may see."""
    bookings = sa.select(Booking.id).where(Booking.user_id == person.id)
    if agency_id is not None:
        theirs = bookings.where(Booking.agency_id == agency_id)
        return audit.history_where(audit.about_any(Booking.__tablename__, theirs))
    return audit.history_where(audit.about(person), audit.about_any(Booking.__tablename__, bookings))
