"""Searching the audit trail: by person, session, action and dates, each event in plain words."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainapp import audit, downloads
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import Agency, User
from trainapp.attendance import history
from trainapp.attendance.models import Certificate
from trainapp.audit import AuditEvent
from trainapp.bookings.models import Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.funding.models import Charge, CostLine
from trainapp.inputs import MAX_ID
from trainapp.timezones import format_when, local_to_utc

# Rows described per batch in a download, so no IN list grows with the whole trail.
BATCH = 500


@dataclass(frozen=True)
class AuditFilters:
    person: str | None = None
    session_id: int | None = None
    action: str | None = None
    start: date | None = None
    end: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """The filters that were set, as the export's audit row and the security log record them."""
        values = {
            "person": self.person,
            "session": self.session_id,
            "action": self.action,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass
class Row:
    """One event as a coordinator reads it."""

    event: AuditEvent
    entry: history.Entry
    about: str


def check_filters(filters: AuditFilters) -> AuditFilters:
    """Refuse a session that does not exist and dates the wrong way round."""
    if filters.session_id is not None and (
        not 1 <= filters.session_id <= MAX_ID or db.session.get(TrainingSession, filters.session_id) is None
    ):
        raise DomainError(f"There is no session numbered {filters.session_id}", "session")
    if filters.start and filters.end and filters.end < filters.start:
        raise DomainError("The end date must be on or after the start date", "end")
    return filters


def search(filters: AuditFilters) -> sa.Select:
    """The events matching every filter set, newest first."""
    query = audit.history_where(sa.true())
    if filters.person:
        query = query.where(_by_or_about(_people_matching(filters.person)))
    if filters.session_id is not None:
        query = query.where(_about_session(filters.session_id))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.start:
        query = query.where(AuditEvent.occurred_at >= local_to_utc(filters.start, time(0)))
    if filters.end:
        query = query.where(AuditEvent.occurred_at < local_to_utc(filters.end + timedelta(days=1), time(0)))
    return query


def actions() -> list[tuple[str, str]]:
    """Every action the trail holds, with its words, for the search form's list."""
    found = db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return [(action, f"{history.action_label(action)} ({action})") for action in found]


def describe(events: list[AuditEvent]) -> list[Row]:
    """Events in plain words, with what each was about: one query per kind of thing, whatever the rows."""
    entries = history.entries(events)
    names = {
        User.__tablename__: _names(events, User, User.name),
        Agency.__tablename__: _names(events, Agency, Agency.name),
    }
    sessions = _sessions(events)
    rows = []
    for event, entry in zip(events, entries, strict=True):
        if entry.booking is not None:
            about = f"{entry.booking.user.name}: {_session_words(entry.booking.session)}"
        elif event.entity_type in names and event.entity_id in names[event.entity_type]:
            about = names[event.entity_type][event.entity_id]
        elif event.entity_type == TrainingSession.__tablename__ and event.entity_id in sessions:
            about = _session_words(sessions[event.entity_id])
        elif event.entity_type == "system":
            about = "The service"
        else:
            about = f"{event.entity_type.replace('_', ' ').capitalize()} {event.entity_id}"
        rows.append(Row(event, entry, about))
    return rows


CSV_HEADER = ["When", "Who", "Action", "What happened", "About", "Change", "Reason", "Client address"]


def csv_rows(filters: AuditFilters) -> list[list[Any]]:
    """Every matching event as a row of the download, newest first."""
    return [
        [
            row.event.occurred_at,
            row.entry.who,
            row.event.action,
            row.entry.what,
            row.about,
            "; ".join(row.entry.changes),
            row.event.reason,
            row.event.client_address,
        ]
        for row in _all_rows(filters)
    ]


def record_export(filters: AuditFilters, rows: int, *, by: User) -> None:
    """An export of the trail is itself on the trail: who took a copy, of what."""
    require_coordinator(by, "export the audit trail")
    downloads.record_download("audit trail", by=by, filters=filters.as_dict(), rows=rows)


def _all_rows(filters: AuditFilters) -> Iterator[Row]:
    events = list(db.session.scalars(search(filters)))
    for start in range(0, len(events), BATCH):
        yield from describe(events[start : start + BATCH])


def _people_matching(text: str) -> sa.Select:
    """An email address picks out its one person; other text, everyone whose name or address holds it."""
    text = text.strip().lower()
    if "@" in text:
        return sa.select(User.id).where(User.email == text)
    pattern = f"%{text}%"
    return sa.select(User.id).where(sa.or_(sa.func.lower(User.name).like(pattern), User.email.like(pattern)))


def _by_or_about(people: sa.Select) -> sa.ColumnElement[bool]:
    """What these people did, and what was done to them, their bookings and what followed from them."""
    bookings = sa.select(Booking.id).where(Booking.user_id.in_(people))
    return sa.or_(
        AuditEvent.actor_id.in_(people),
        audit.about_any(User.__tablename__, people),
        *_about_bookings(bookings),
    )


def _about_session(session_id: int) -> sa.ColumnElement[bool]:
    """The session itself (changes, register submissions), its bookings and what followed, its costs."""
    bookings = sa.select(Booking.id).where(Booking.session_id == session_id)
    return sa.or_(
        sa.and_(AuditEvent.entity_type == TrainingSession.__tablename__, AuditEvent.entity_id == session_id),
        *_about_bookings(bookings),
        audit.about_any(CostLine.__tablename__, sa.select(CostLine.id).where(CostLine.session_id == session_id)),
    )


def _about_bookings(bookings: sa.Select) -> list[sa.ColumnElement[bool]]:
    return [
        audit.about_any(Booking.__tablename__, bookings),
        audit.about_any(Charge.__tablename__, sa.select(Charge.id).where(Charge.booking_id.in_(bookings))),
        audit.about_any(
            Certificate.__tablename__, sa.select(Certificate.id).where(Certificate.booking_id.in_(bookings))
        ),
    ]


def _session_words(session: TrainingSession) -> str:
    return f"{session.course.title}, {format_when(session.starts_at, session.ends_at)}"


def _ids(events: list[AuditEvent], table: str) -> set[int]:
    return {e.entity_id for e in events if e.entity_type == table and e.entity_id is not None}


def _names(events: list[AuditEvent], model, name_column) -> dict[int, str]:
    ids = _ids(events, model.__tablename__)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, name_column).where(model.id.in_(ids))).tuples().all())


def _sessions(events: list[AuditEvent]) -> dict[int, TrainingSession]:
    ids = _ids(events, TrainingSession.__tablename__)
    if not ids:
        return {}
    return {
        s.id: s
        for s in db.session.scalars(
            sa.select(TrainingSession).where(TrainingSession.id.in_(ids)).options(joinedload(TrainingSession.course))
        )
    }
