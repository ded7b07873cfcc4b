"""Who may book what, and when: eligibility, prerequisites, approval and cut-offs."""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from trainapp.accounts.models import User
from trainapp.bookings.completion import has_completed
from trainapp.bookings.models import HOLDING, LIVE, Booking, BookingStatus
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession
from trainapp.errors import DomainError, NotAllowed
from trainapp.extensions import db
from trainapp.timezones import format_datetime, local_to_utc, to_local
from trainapp.workdays import add_working_days, working_days_before

# How long an agency lead has to decide a request: every deadline, message and page uses this.
APPROVAL_WORKING_DAYS = 5


class NotEligible(DomainError):
    """The person may not book this session (course rules, dates, status)."""


class AlreadyBooked(DomainError):
    """The person already has a place or a place on the waiting list."""


def can_book_for(actor: User, learner: User) -> bool:
    """People book for themselves; agency leads for their own agency's staff; coordinators for anyone."""
    return actor.id == learner.id or actor.can_manage_staff_of(learner.agency_id)


def require_can_book_for(actor: User, learner: User) -> None:
    if not can_book_for(actor, learner):
        raise NotAllowed(f"You cannot book for {learner.name}: they are not in your agency")


def prerequisite_met(learner: User, course: Course, now: datetime) -> bool:
    """Whether the person has completed the course, as every record and report counts it."""
    return bool(db.session.scalar(sa.select(has_completed(learner.id, course.id, now))))


def check_can_book(session: TrainingSession, learner: User, now: datetime) -> None:
    """Raise NotEligible, with a message for the person, unless this session is open to them."""
    course = session.course
    if not course.is_published:
        raise NotEligible("This course is not open for booking")
    if session.status == SessionStatus.CANCELLED:
        raise NotEligible("This session has been cancelled")
    if session.starts_at <= now:
        raise NotEligible("This session has already started")
    if session.booking_opens_at and now < session.booking_opens_at:
        raise NotEligible(f"Booking opens on {format_datetime(session.booking_opens_at)}")
    if session.booking_closes_at and now >= session.booking_closes_at:
        raise NotEligible("Booking for this session has closed")
    if not learner.active:
        raise NotEligible(f"{learner.name}'s account is deactivated")
    kind = learner.agency.kind if learner.agency else None
    if not course.is_open_to(kind):
        kinds = ", ".join(course.eligible_kind_labels)
        raise NotEligible(f"{course.title} is only for staff of these kinds of agency: {kinds}")
    if course.prerequisite and not prerequisite_met(learner, course.prerequisite, now):
        raise NotEligible(f"{course.prerequisite.title} must be completed before {course.title}")


def _other_bookings(learner: User, session: TrainingSession, statuses, *conditions) -> list[Booking]:
    """The person's bookings in ``statuses`` on other sessions still running, matching ``conditions``."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.session)
            .where(
                Booking.user_id == learner.id,
                Booking.status.in_(statuses),
                Booking.session_id != session.id,
                TrainingSession.status != SessionStatus.CANCELLED,
                *conditions,
            )
            .order_by(TrainingSession.starts_at)
        )
    )


def overlapping_bookings(learner: User, session: TrainingSession) -> list[Booking]:
    """The person's other live bookings at an overlapping time: a warning, never a refusal."""
    return _other_bookings(
        learner,
        session,
        LIVE,
        TrainingSession.starts_at < session.ends_at,
        TrainingSession.ends_at > session.starts_at,
    )


def places_on_same_course(learner: User, session: TrainingSession, now: datetime) -> list[Booking]:
    """The person's places (booked or awaiting approval) on other sessions of this course still
    to come: a warning, never a refusal (a second session may be meant, e.g. a resit)."""
    return _other_bookings(
        learner,
        session,
        HOLDING,
        TrainingSession.course_id == session.course_id,
        TrainingSession.ends_at > now,
    )


def status_for_new_place(course: Course, learner: User, booked_by: User | None) -> BookingStatus:
    """Booking by the person's agency lead (or a coordinator) counts as the manager's approval."""
    if not course.requires_approval:
        return BookingStatus.CONFIRMED
    if booked_by is not None and booked_by.id != learner.id and booked_by.can_manage_staff_of(learner.agency_id):
        return BookingStatus.CONFIRMED
    return BookingStatus.AWAITING_APPROVAL


# Deadlines: deciding a request, cancelling without it counting as late, releasing held places.


def approval_deadline(session: TrainingSession, now: datetime) -> datetime:
    """APPROVAL_WORKING_DAYS working days to decide, but never later than the session's start."""
    local = to_local(now)
    due_on = add_working_days(local.date(), APPROVAL_WORKING_DAYS)
    due = local_to_utc(due_on, time(23, 59))
    return min(due, session.starts_at)


def last_day_to_cancel(session: TrainingSession) -> date:
    """The last local day to cancel without it counting as late: the course's notice
    period, in working days, before the session's date."""
    start_day = to_local(session.starts_at).date()
    return working_days_before(start_day, session.course.cancellation_notice_days)


def cancellation_cutoff(session: TrainingSession) -> datetime:
    """The first moment a cancellation counts as late: midnight after the last day."""
    return local_to_utc(last_day_to_cancel(session) + timedelta(days=1), time(0))


def is_late(session: TrainingSession, now: datetime) -> bool:
    return now >= cancellation_cutoff(session)


def default_release_at(session: TrainingSession) -> datetime:
    """When places held for an agency go back to everyone unless the coordinator picks a date:
    the start of the last day to cancel without it counting as late."""
    return local_to_utc(last_day_to_cancel(session), time(0))
