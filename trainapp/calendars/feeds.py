"""What each feed holds: the sessions, and how each appears to its reader."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from trainapp.accounts.models import User
from trainapp.bookings.models import LIVE, Booking, BookingStatus
from trainapp.calendars.events import event_for
from trainapp.calendars.ical import EventOptions
from trainapp.catalogue.models import Course, CourseStatus, SessionStatus, TrainingSession
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


def _content(pairs: list[tuple[TrainingSession, EventOptions]]) -> FeedContent:
    events = [event_for(session, options) for session, options in pairs]
    stamps = [max(s.updated_at, o.modified) if o.modified else s.updated_at for s, o in pairs]
    return FeedContent(events, max(stamps) if stamps else None)


PERSONAL = {
    BookingStatus.CONFIRMED: EventOptions(status="CONFIRMED", joining_link=True),
    BookingStatus.AWAITING_APPROVAL: EventOptions(status="TENTATIVE", summary_prefix="Awaiting approval: ",
                                                  joining_link=True),
    BookingStatus.WAITING: EventOptions(status="TENTATIVE", summary_prefix="Waiting list: "),
}


def personal(user: User, now: datetime) -> FeedContent:
    """The person's places, requests and waiting-list places; cancelled bookings drop out."""
    bookings = db.session.scalars(
        sa.select(Booking)
        .join(Booking.session)
        .options(contains_eager(Booking.session).joinedload(TrainingSession.course),
                 contains_eager(Booking.session).joinedload(TrainingSession.venue))
        .where(Booking.user_id == user.id, Booking.status.in_(LIVE), _in_window(now))
    ).all()
    pairs = []
    for booking in bookings:
        base = PERSONAL[booking.status]
        options = EventOptions(status=base.status, summary_prefix=base.summary_prefix,
                               joining_link=base.joining_link, modified=booking.updated_at)
        pairs.append((booking.session, options))
    content = _content(pairs)
    # A booking that left the feed changed it too: Last-Modified must not go back, or a
    # program asking If-Modified-Since would get 304 and keep showing the cancelled place.
    left = db.session.scalar(
        sa.select(sa.func.max(Booking.updated_at))
        .where(Booking.user_id == user.id, Booking.status.not_in(LIVE))
    )
    if left is not None and (content.last_modified is None or left > content.last_modified):
        content.last_modified = left
    return content


def trainer(user: User, now: datetime) -> FeedContent:
    sessions = db.session.scalars(
        _loaded(sa.select(TrainingSession))
        .where(TrainingSession.trainers.any(User.id == user.id), _in_window(now))
    ).all()
    return _content([(s, EventOptions(status="CONFIRMED", joining_link=True)) for s in sessions])


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
    return _content([(s, EventOptions(status="CONFIRMED")) for s in sessions])
