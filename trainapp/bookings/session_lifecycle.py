"""Changes to a session that affect its places: changing it, cancelling it, cancelling a series.

The catalogue changes the session's own fields and status; what that means for the people
booked or waiting (places freed, everyone told, nobody charged) is decided here, inside the
session's locked section, whichever page or command started it.
"""

from datetime import date, datetime

import sqlalchemy as sa

from trainapp.accounts.models import User
from trainapp.bookings import messages, signals
from trainapp.bookings.capacity import change_status, free_place, lock_session, promote_from_waiting_list
from trainapp.bookings.models import LIVE, Booking, BookingStatus
from trainapp.catalogue import services as catalogue
from trainapp.catalogue.models import SessionSeries, TrainingSession
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db


def _live_bookings(session: TrainingSession) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == session.id, Booking.status.in_(LIVE))
            .order_by(Booking.id)
            .execution_options(populate_existing=True)
        )
    )


def change_session(
    session_id: int,
    details: catalogue.SessionDetails,
    *,
    by: User,
    confirm_clashes: bool = False,
    now: datetime | None = None,
) -> TrainingSession:
    """Change a session inside the locked section: more places promote the waiting list, and a
    new time or place is told to everyone booked or waiting."""
    now = now or utcnow()
    session = lock_session(session_id)
    sequence = session.sequence
    catalogue.update_session(session, details, by=by, confirm_clashes=confirm_clashes)
    promote_from_waiting_list(session, now)
    if session.sequence != sequence:
        messages.session_changed(session, _live_bookings(session))
    return session


def _end_bookings(session: TrainingSession, *, by: User) -> list[Booking]:
    """Cancel everyone booked, awaiting approval or waiting, and tell each of them.

    The partnership cancelled, so it is never a late cancellation (no charge), and the freed
    places go to nobody: the waiting list is cancelled with the session."""
    ended = _live_bookings(session)
    for booking in ended:
        free_place(session, booking)
        booking.is_late_cancellation = False
        booking.approval_due_at = None
        change_status(
            booking,
            BookingStatus.CANCELLED,
            by=by,
            action="booking.session_cancelled",
            reason=session.cancel_reason,
        )
        messages.session_cancelled(booking)
        signals.booking_cancelled.send(booking, by=by)
    return ended


def cancel_session(session_id: int, *, by: User, reason: str, now: datetime | None = None) -> TrainingSession:
    """Cancel one session: every booking on it ends and everyone booked or waiting is told."""
    now = now or utcnow()
    session = lock_session(session_id)
    if session.is_past(now):
        raise DomainError("This session has already taken place: it cannot be cancelled")
    catalogue.cancel_session(session, by=by, reason=reason)
    _end_bookings(session, by=by)
    return session


def cancel_series(
    series_id: int, *, by: User, reason: str, from_on: date | None = None, now: datetime | None = None
) -> list[TrainingSession]:
    """Cancel every session of a weekly series still to come, or those on or after a date."""
    now = now or utcnow()
    series = db.session.get(SessionSeries, series_id)
    if series is None:
        raise DomainError("That series does not exist")
    chosen = catalogue.sessions_to_cancel(series, by=by, reason=reason, from_on=from_on, now=now)
    # One lock order for every path that locks several sessions, so two of them cannot deadlock.
    return [cancel_session(session.id, by=by, reason=reason, now=now) for session in sorted(chosen, key=lambda s: s.id)]
