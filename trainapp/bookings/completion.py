"""What counts as having completed a course: the one rule behind learner records, CPD hours,
refreshers, prerequisites and coverage.

It lives in bookings, not attendance, because the register's marks live on bookings and the
prerequisite check at booking time needs it; every feature above asks here.
"""

from datetime import datetime

import sqlalchemy as sa

from trainapp.bookings.models import PRESENT, AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession


def was_present() -> sa.ColumnElement[bool]:
    """True for a booking whose register mark says the person came, fully or partly.

    Show rates, evaluations and programme attendance count presence, whatever the course
    counts as completing it (``is_completion``); ``AttendanceStatus.was_there`` asks the same
    of one booking.
    """
    return Booking.attendance.in_(PRESENT)


def is_completion(now: datetime) -> sa.ColumnElement[bool]:
    """True for a booking that completed its course by ``now``.

    A place (or walk-in) marked attended, or partly attended where the course says partial
    attendance counts, on a session that has ended and was not cancelled. The query must join
    the booking's session and the session's course (see ``completions``).
    """
    return sa.and_(
        Booking.status == BookingStatus.CONFIRMED,
        sa.or_(
            Booking.attendance == AttendanceStatus.ATTENDED,
            sa.and_(
                Booking.attendance == AttendanceStatus.PARTIAL,
                Course.partial_counts_as_completed.is_(True),
            ),
        ),
        # Cancelling a session leaves its bookings and marks as they were: it completes nothing.
        TrainingSession.status != SessionStatus.CANCELLED,
        TrainingSession.ends_at <= now,
    )


def completions(now: datetime) -> sa.Select:
    """The bookings that completed a course by ``now``, joined to their session and course."""
    return sa.select(Booking).join(Booking.session).join(TrainingSession.course).where(is_completion(now))


def last_completions(now: datetime) -> sa.Subquery:
    """Each person's latest completion of each course: (user_id, course_id, completed_at).

    ``completed_at`` is the start of the session, whose local date is the day the course was
    done. Only completions count, so a later partial that does not count, or a cancelled
    session, never moves it.
    """
    return (
        sa.select(
            Booking.user_id.label("user_id"),
            TrainingSession.course_id.label("course_id"),
            sa.func.max(TrainingSession.starts_at).label("completed_at"),
        )
        .select_from(Booking)
        .join(Booking.session)
        .join(TrainingSession.course)
        .where(is_completion(now))
        .group_by(Booking.user_id, TrainingSession.course_id)
        .subquery("last_completions")
    )


def has_completed(user_id: int, course_id: int, now: datetime) -> sa.Exists:
    """Whether the person completed the course by ``now``, as a condition for a query."""
    return (
        sa.select(Booking.id)
        .join(Booking.session)
        .join(TrainingSession.course)
        .where(Booking.user_id == user_id, TrainingSession.course_id == course_id, is_completion(now))
        .exists()
    )
