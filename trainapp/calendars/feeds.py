"""What each feed holds: the sessions, how each appears to its reader, and when that last changed.

Last-Modified must never go back, and must move whenever the feed's content changes, or a
calendar program asking If-Modified-Since gets 304 and keeps a stale copy. Content changes in
three ways, and each feed's stamp is the latest of them:

- something shown changed: a session, its course or its venue (``ical.changed_at``), or the
  reader's booking;
- something left: a booking cancelled, a trainer taken off, a course unpublished. Where the
  thing that left keeps a stamp that names this reader (their bookings), that stamp counts;
  where it does not (a session keeps no record of trainers it had), every such row's stamp
  counts, which is later than needed but never too early;
- time passed: a session drops out when it falls out of the window. That moment is computed
  from the rows (end + 30 days, or cancellation + 30 days), never the request's clock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from trainapp.accounts.models import User
from trainapp.bookings.models import LIVE, Booking, BookingStatus
from trainapp.calendars.events import event_for
from trainapp.calendars.ical import EventOptions, changed_at
from trainapp.catalogue.models import Course, CourseStatus, SessionStatus, TrainingSession, session_trainers
from trainapp.extensions import db

WINDOW = timedelta(days=30)


@dataclass
class FeedContent:
    events: list
    last_modified: datetime | None


def _in_window(now: datetime):
    """From 30 days ago on; a cancelled session stays 30 days after it was cancelled."""
    return sa.and_(
        TrainingSession.ends_at >= now - WINDOW,
        sa.or_(TrainingSession.status != SessionStatus.CANCELLED, TrainingSession.updated_at >= now - WINDOW),
    )


def _loaded(query):
    return query.options(joinedload(TrainingSession.course), joinedload(TrainingSession.venue))


def _latest(*stamps: datetime | None) -> datetime | None:
    known = [stamp for stamp in stamps if stamp is not None]
    return max(known) if known else None


def _content(pairs: list[tuple[TrainingSession, EventOptions]], *others: datetime | None) -> FeedContent:
    events = [event_for(session, options) for session, options in pairs]
    stamps = [_latest(changed_at(s), o.modified) for s, o in pairs]
    return FeedContent(events, _latest(*stamps, *others))


def _left_the_window(scope, now: datetime) -> datetime | None:
    """The latest moment a session in ``scope`` (a condition on TrainingSession) dropped out of
    the window by time passing, or None. A cancelled session's moment is taken as its
    cancellation + 30 days, which is never earlier than the true one."""
    cutoff = now - WINDOW
    ended = db.session.scalar(
        sa.select(sa.func.max(TrainingSession.ends_at)).where(scope, TrainingSession.ends_at < cutoff)
    )
    cancelled = db.session.scalar(
        sa.select(sa.func.max(TrainingSession.updated_at)).where(
            scope, TrainingSession.status == SessionStatus.CANCELLED, TrainingSession.updated_at < cutoff
        )
    )
    latest = _latest(ended, cancelled)
    return latest + WINDOW if latest is not None else None


PERSONAL = {
    BookingStatus.CONFIRMED: EventOptions(status="CONFIRMED", joining_link=True),
    BookingStatus.AWAITING_APPROVAL: EventOptions(
        status="TENTATIVE", summary_prefix="Awaiting approval: ", joining_link=True
    ),
    BookingStatus.WAITING: EventOptions(status="TENTATIVE", summary_prefix="Waiting list: "),
}
# A place ended by the session's cancellation still shows, as cancelled, like the public feed.
ENDED_BY_THE_SESSION = EventOptions(status="CANCELLED")


def _shown_booking():
    """Live bookings, and bookings that ended with their session's cancellation (stamped in
    the same transaction, so not before the session's change), not ones the person ended."""
    return sa.or_(
        Booking.status.in_(LIVE),
        sa.and_(
            Booking.status == BookingStatus.CANCELLED,
            TrainingSession.status == SessionStatus.CANCELLED,
            Booking.updated_at >= TrainingSession.updated_at,
        ),
    )


def personal(user: User, now: datetime) -> FeedContent:
    """The person's places, requests and waiting-list places; cancelled bookings drop out."""
    bookings = db.session.scalars(
        sa.select(Booking)
        .join(Booking.session)
        .options(
            contains_eager(Booking.session).joinedload(TrainingSession.course),
            contains_eager(Booking.session).joinedload(TrainingSession.venue),
        )
        .where(Booking.user_id == user.id, _shown_booking(), _in_window(now))
    ).all()
    pairs = []
    for booking in bookings:
        base = PERSONAL.get(booking.status, ENDED_BY_THE_SESSION)
        options = EventOptions(
            status=base.status,
            summary_prefix=base.summary_prefix,
            joining_link=base.joining_link,
            modified=booking.updated_at,
        )
        pairs.append((booking.session, options))
    # Any booking of theirs that changed, including one that left the feed.
    bookings_changed = db.session.scalar(sa.select(sa.func.max(Booking.updated_at)).where(Booking.user_id == user.id))
    theirs = TrainingSession.id.in_(
        sa.select(Booking.session_id).join(Booking.session).where(Booking.user_id == user.id, _shown_booking())
    )
    return _content(pairs, bookings_changed, _left_the_window(theirs, now))


def trainer(user: User, now: datetime) -> FeedContent:
    sessions = db.session.scalars(
        _loaded(sa.select(TrainingSession)).where(TrainingSession.trainers.any(User.id == user.id), _in_window(now))
    ).all()
    delivers = TrainingSession.id.in_(
        sa.select(session_trainers.c.session_id).where(session_trainers.c.user_id == user.id)
    )
    # A session this trainer was taken off keeps no trace of them, but its stamp moved then.
    any_session_changed = db.session.scalar(sa.select(sa.func.max(TrainingSession.updated_at)))
    return _content(
        [(s, EventOptions(status="CONFIRMED", joining_link=True)) for s in sessions],
        any_session_changed,
        _left_the_window(delivers, now),
    )


def public(now: datetime, *, programme_id: int | None = None, course_id: int | None = None) -> FeedContent:
    """Published sessions, with no personal data and no joining links."""
    query = (
        sa.select(TrainingSession)
        .join(TrainingSession.course)
        .options(contains_eager(TrainingSession.course), joinedload(TrainingSession.venue))
        .where(Course.status == CourseStatus.PUBLISHED, _in_window(now))
    )
    if programme_id:
        query = query.where(Course.programme_id == programme_id)
    if course_id:
        query = query.where(TrainingSession.course_id == course_id)
    sessions = db.session.scalars(query).unique().all()
    # A course unpublished or moved to another programme takes its sessions out: any course's
    # change counts (or the one course's, for a one-course feed).
    courses = sa.select(sa.func.max(Course.updated_at))
    if course_id:
        courses = courses.where(Course.id == course_id)
    published = TrainingSession.course_id.in_(sa.select(Course.id).where(Course.status == CourseStatus.PUBLISHED))
    return _content(
        [(s, EventOptions(status="CONFIRMED")) for s in sessions],
        db.session.scalar(courses),
        _left_the_window(published, now),
    )


def single(session: TrainingSession, user: User) -> datetime:
    """When one person's download of one session last changed: the session, its course, its
    venue, or their booking (which decides whether the joining link is shown)."""
    booking_changed = db.session.scalar(
        sa.select(Booking.updated_at).where(Booking.session_id == session.id, Booking.user_id == user.id)
    )
    session_changed = changed_at(session)
    return session_changed if booking_changed is None else max(session_changed, booking_changed)
