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
  from the rows (end + 30 days, or cancellation + 30 days), never the request's clock. The
  public feed also gains sessions as its horizon reaches them: start - horizon.

Each feed's validator (``*_validator``) is one query over every input the feed shows: counts
and latest stamps of the rows in it, and of the rows whose leaving it must notice, and the
moments above. It is asked before anything is built, so an unchanged feed costs that query; the
ETag is a hash of it, standing for the bytes the writer makes from the same rows.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from trainapp.accounts.models import User
from trainapp.bookings.models import LIVE, Booking, BookingStatus
from trainapp.calendars.ical import EventOptions, changed_at
from trainapp.catalogue.models import (
    Course,
    CourseStatus,
    Programme,
    SessionStatus,
    TrainingSession,
    Venue,
    session_trainers,
)
from trainapp.extensions import db

WINDOW = timedelta(days=30)
# The public feed's horizon is counted in months of average length, so it moves smoothly.
MONTH = timedelta(days=365.25 / 12)
# Raised whenever the writer's output changes for the same rows, so old ETags stop matching.
FORMAT = "2"

Pairs = list[tuple[TrainingSession, EventOptions]]


@dataclass(frozen=True)
class Validator:
    """What a feed's bytes are made from, in brief: its ETag and its Last-Modified."""

    etag: str
    last_modified: datetime | None
    cacheable: bool = True  # False for a filter naming no programme or course


def horizon(now: datetime, months: int) -> datetime:
    return now + months * MONTH


def _in_window(now: datetime, until: datetime | None = None):
    """From 30 days ago on (up to ``until``, if given); a cancelled session stays 30 days after
    it was cancelled."""
    window = sa.and_(
        TrainingSession.ends_at >= now - WINDOW,
        sa.or_(TrainingSession.status != SessionStatus.CANCELLED, TrainingSession.updated_at >= now - WINDOW),
    )
    return window if until is None else sa.and_(window, TrainingSession.starts_at < until)


def _loaded(query):
    return query.options(joinedload(TrainingSession.course), joinedload(TrainingSession.venue))


def _latest(*stamps: datetime | None) -> datetime | None:
    known = [stamp for stamp in stamps if stamp is not None]
    return max(known) if known else None


def _scalar(query) -> sa.ScalarSelect:
    return query.scalar_subquery()


def _shown_rows(select_from, *conditions) -> list:
    """How many sessions a feed shows and when any of them, their courses or venues last changed
    (``select_from`` joins TrainingSession and Course; venues are joined here): one pass."""
    rows = select_from.outerjoin(Venue, TrainingSession.venue_id == Venue.id)
    shown = (
        sa.select(
            sa.func.count().label("shown"),
            sa.func.sum(TrainingSession.id).label("ids"),
            sa.func.max(TrainingSession.updated_at).label("sessions_changed"),
            sa.func.max(Course.updated_at).label("courses_changed"),
            sa.func.max(Venue.updated_at).label("venues_changed"),
        )
        .select_from(rows)
        .where(*conditions)
        .subquery()
    )
    return list(shown.c)


def _left_the_window(scope, now: datetime) -> list[sa.ScalarSelect]:
    """The latest end, and the latest cancellation, of a session in ``scope`` (a condition on
    TrainingSession) that has dropped out of the window by time passing. Each moved out 30 days
    after that (a cancelled one's true moment is never later)."""
    cutoff = now - WINDOW
    return [
        _scalar(sa.select(sa.func.max(TrainingSession.ends_at)).where(scope, TrainingSession.ends_at < cutoff)),
        _scalar(
            sa.select(sa.func.max(TrainingSession.updated_at)).where(
                scope, TrainingSession.status == SessionStatus.CANCELLED, TrainingSession.updated_at < cutoff
            )
        ),
    ]


def _validator(kind: str, settings: tuple, columns: list, last_modified, *, not_in_etag=(), cacheable=None):
    """Run the one query. The ETag hashes ``columns`` (with the feed's kind and the settings
    its bytes depend on); ``last_modified`` picks the Last-Modified from the whole row, which
    may also hold stamps that move it but not the content (``not_in_etag``)."""
    row = db.session.execute(sa.select(*columns, *not_in_etag)).one()
    values = "|".join("" if value is None else str(value) for value in row[: len(columns)])
    key = "\n".join([FORMAT, kind, *map(str, settings), values])
    etag = hashlib.sha256(key.encode()).hexdigest()
    return Validator(etag, last_modified(row), True if cacheable is None else cacheable(row))


def _left_at(ended: datetime | None, cancelled: datetime | None) -> datetime | None:
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


def personal(user: User, now: datetime) -> Pairs:
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
    return pairs


def personal_validator(user: User, now: datetime, settings: tuple) -> Validator:
    """The shown bookings' sessions, courses and venues; every booking of theirs (one that
    left the feed still moved its stamp); sessions of theirs that left the window."""
    shown = sa.join(Booking, TrainingSession, Booking.session_id == TrainingSession.id).join(
        Course, TrainingSession.course_id == Course.id
    )
    theirs = TrainingSession.id.in_(
        sa.select(Booking.session_id).join(Booking.session).where(Booking.user_id == user.id, _shown_booking())
    )
    columns = [
        *_shown_rows(shown, Booking.user_id == user.id, _shown_booking(), _in_window(now)),
        _scalar(sa.select(sa.func.count()).where(Booking.user_id == user.id)),
        _scalar(sa.select(sa.func.max(Booking.updated_at)).where(Booking.user_id == user.id)),
        *_left_the_window(theirs, now),
    ]
    return _validator(
        f"personal:{user.id}", settings, columns, lambda row: _latest(*row[2:5], row[6], _left_at(*row[7:9]))
    )


def trainer(user: User, now: datetime) -> Pairs:
    sessions = db.session.scalars(
        _loaded(sa.select(TrainingSession)).where(TrainingSession.trainers.any(User.id == user.id), _in_window(now))
    ).all()
    return [(s, EventOptions(status="CONFIRMED", joining_link=True)) for s in sessions]


def trainer_validator(user: User, now: datetime, settings: tuple) -> Validator:
    """Their sessions in the window; how many sessions they deliver at all (a session they were
    taken off keeps no trace of them); sessions of theirs that left the window. Last-Modified
    also counts every session's change: the one they were taken off moved its stamp then."""
    delivers = session_trainers.c.user_id == user.id
    shown = sa.join(session_trainers, TrainingSession, session_trainers.c.session_id == TrainingSession.id).join(
        Course, TrainingSession.course_id == Course.id
    )
    columns = [
        *_shown_rows(shown, delivers, _in_window(now)),
        _scalar(sa.select(sa.func.count()).where(delivers)),
        _scalar(sa.select(sa.func.sum(session_trainers.c.session_id)).where(delivers)),
        *_left_the_window(TrainingSession.id.in_(sa.select(session_trainers.c.session_id).where(delivers)), now),
    ]
    any_session_changed = _scalar(sa.select(sa.func.max(TrainingSession.updated_at)))
    return _validator(
        f"trainer:{user.id}",
        settings,
        columns,
        lambda row: _latest(*row[2:5], _left_at(*row[7:9]), row[9]),
        not_in_etag=[any_session_changed],
    )


def _public_query(now: datetime, until: datetime, programme_id: int | None, course_id: int | None):
    conditions = [Course.status == CourseStatus.PUBLISHED, _in_window(now, until)]
    if programme_id:
        conditions.append(Course.programme_id == programme_id)
    if course_id:
        conditions.append(TrainingSession.course_id == course_id)
    return conditions


def public(now: datetime, *, months: int = 12, programme_id: int | None = None, course_id: int | None = None) -> Pairs:
    """Published sessions from 30 days ago to ``months`` ahead, with no personal data and no
    joining links."""
    query = (
        sa.select(TrainingSession)
        .join(TrainingSession.course)
        .options(contains_eager(TrainingSession.course), joinedload(TrainingSession.venue))
        .where(*_public_query(now, horizon(now, months), programme_id, course_id))
    )
    sessions = db.session.scalars(query).unique().all()
    return [(s, EventOptions(status="CONFIRMED")) for s in sessions]


def public_validator(
    now: datetime, settings: tuple, *, months: int = 12, programme_id: int | None = None, course_id: int | None = None
) -> Validator:
    """Shared by every subscriber and polled the most, so asked of indexes alone: the latest
    change of any session, course or venue, the newest session, and the latest moments any
    session left the window or came within the horizon. Later than needed (a change to a
    session outside the feed counts too, and the feed is built again, once, for everyone) but
    never too early: a course unpublished or moved takes its sessions out, and moves its stamp."""
    until, cutoff = horizon(now, months), now - WINDOW
    cancelled = TrainingSession.status == SessionStatus.CANCELLED
    columns = [
        _scalar(sa.select(sa.func.max(TrainingSession.updated_at))),
        _scalar(sa.select(sa.func.max(Course.updated_at))),
        _scalar(sa.select(sa.func.max(Venue.updated_at))),
        _scalar(sa.select(sa.func.max(TrainingSession.id))),
        _scalar(sa.select(sa.func.max(TrainingSession.ends_at)).where(TrainingSession.ends_at < cutoff)),
        _scalar(
            sa.select(sa.func.max(TrainingSession.updated_at)).where(cancelled, TrainingSession.updated_at < cutoff)
        ),
        _scalar(sa.select(sa.func.max(TrainingSession.starts_at)).where(TrainingSession.starts_at < until)),
        # Whether the filters name anything: a cache row only for a programme or course that exists.
        _scalar(sa.select(sa.func.count()).where(Programme.id == (programme_id or 0))),
        _scalar(sa.select(sa.func.count()).where(Course.id == (course_id or 0))),
    ]

    def last_modified(row):
        entered = row[6] - months * MONTH if row[6] is not None else None
        return _latest(*row[0:3], _left_at(row[4], row[5]), entered)

    def cacheable(row):
        return (not programme_id or row[7] == 1) and (not course_id or row[8] == 1)

    return _validator(
        f"public:{programme_id or ''}:{course_id or ''}:{months}", settings, columns, last_modified, cacheable=cacheable
    )


def single(session: TrainingSession, user: User) -> datetime:
    """When one person's download of one session last changed: the session, its course, its
    venue, or their booking (which decides whether the joining link is shown)."""
    booking_changed = db.session.scalar(
        sa.select(Booking.updated_at).where(Booking.session_id == session.id, Booking.user_id == user.id)
    )
    session_changed = changed_at(session)
    return session_changed if booking_changed is None else max(session_changed, booking_changed)
