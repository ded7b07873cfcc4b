"""Reminders 10 and 3 working days before, and the joining link 2 days before online sessions.

Each is queued once per booking and kind (the outbox's dedupe key), so the job can run
every few minutes, on several hosts, and still send each reminder once.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from trainapp.bookings import messages
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.catalogue.models import SessionStatus, TrainingSession
from trainapp.extensions import db
from trainapp.timezones import to_local
from trainapp.workdays import working_days_before

REMINDER_WORKING_DAYS = (10, 3)
JOINING_LINK_NOTICE = timedelta(hours=48)
LOOK_AHEAD = timedelta(days=21)


def _due_reminder(session: TrainingSession, today) -> int | None:
    """The reminder due now: the nearest one whose day has come (a late booker gets only that one)."""
    start_day = to_local(session.starts_at).date()
    due = None
    for working_days in REMINDER_WORKING_DAYS:
        if today >= working_days_before(start_day, working_days):
            due = working_days
    return due


def is_joining_link_due(session: TrainingSession, now: datetime) -> bool:
    """Whether people with a place get the online joining link yet: from 48 hours before the start."""
    return session.delivery_mode.needs_link and session.starts_at - now <= JOINING_LINK_NOTICE


def queue_reminders(now: datetime) -> int:
    """Queue every reminder and joining link that is due; returns how many were queued."""
    bookings = db.session.scalars(
        sa.select(Booking)
        .join(Booking.session)
        .options(contains_eager(Booking.session))
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            TrainingSession.status == SessionStatus.SCHEDULED,
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + LOOK_AHEAD,
        )
    ).all()
    today = to_local(now).date()
    queued = 0
    for booking in bookings:
        session = booking.session
        working_days = _due_reminder(session, today)
        if working_days is not None and messages.reminder(
            booking, working_days, f"reminder-{working_days}:{booking.id}"
        ):
            queued += 1
        if is_joining_link_due(session, now) and messages.joining_link(
            booking, f"joining-link:{booking.id}:{session.sequence}"
        ):
            queued += 1
    return queued
