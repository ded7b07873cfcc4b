"""Read-only queries behind the catalogue pages: fixed query counts, whatever the rows."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from trainapp.accounts.models import Role, User
from trainapp.catalogue.models import (
    Course,
    CourseStatus,
    DeliveryMode,
    Programme,
    SessionStatus,
    TrainingSession,
    Venue,
)
from trainapp.catalogue.places import places_left_column
from trainapp.extensions import db
from trainapp.timezones import local_to_utc, to_local


@dataclass
class BrowseFilters:
    programme_id: int | None = None
    course_id: int | None = None
    month: date | None = None
    mode: DeliveryMode | None = None
    places_only: bool = False
    when: str = "upcoming"


def visible_session(session_id: int) -> TrainingSession:
    """A session the signed-in person may see: drafts only for coordinators and its trainers."""
    session = db.get_or_404(TrainingSession, session_id)
    if not session.course.is_published and not (current_user.is_coordinator or current_user in session.trainers):
        abort(404)
    return session


def sessions_query(filters: BrowseFilters, *, now: datetime, include_drafts: bool, viewer: User):
    """Sessions soonest first (latest first for past ones), with their course, venue and trainers.

    "Only sessions with places left" counts places as the viewer may book them."""
    # Only the columns a list row shows: the long course texts and people's whole accounts
    # would cost more to load than the rest of the page.
    query = (
        sa.select(TrainingSession)
        .join(TrainingSession.course)
        .options(
            contains_eager(TrainingSession.course)
            .load_only(Course.title, Course.level, Course.status, Course.programme_id)
            .joinedload(Course.programme)
            .load_only(Programme.name),
            joinedload(TrainingSession.venue).load_only(Venue.name),
            selectinload(TrainingSession.trainers).load_only(User.name),
        )
    )
    if not include_drafts:
        query = query.where(Course.status == CourseStatus.PUBLISHED)
    if filters.when == "past":
        query = query.where(TrainingSession.ends_at <= now).order_by(TrainingSession.starts_at.desc())
    elif filters.when == "all":
        query = query.order_by(TrainingSession.starts_at)
    else:
        query = query.where(TrainingSession.ends_at > now).order_by(TrainingSession.starts_at)
        if not include_drafts:
            query = query.where(TrainingSession.status == SessionStatus.SCHEDULED)
    if filters.programme_id:
        query = query.where(Course.programme_id == filters.programme_id)
    if filters.course_id:
        query = query.where(TrainingSession.course_id == filters.course_id)
    if filters.month:
        start = local_to_utc(filters.month, datetime.min.time())
        following = filters.month + relativedelta(months=1, day=1)
        query = query.where(
            TrainingSession.starts_at >= start,
            TrainingSession.starts_at < local_to_utc(following, datetime.min.time()),
        )
    if filters.mode:
        query = query.where(TrainingSession.delivery_mode == filters.mode)
    if filters.places_only:
        query = query.where(places_left_column(viewer, now) > 0)
    return query.order_by(TrainingSession.id)


def trainer_sessions_query(trainer: User, *, now: datetime, past: bool):
    query = (
        sa.select(TrainingSession)
        .where(TrainingSession.trainers.any(User.id == trainer.id))
        .options(
            joinedload(TrainingSession.course).joinedload(Course.programme),
            joinedload(TrainingSession.venue),
            selectinload(TrainingSession.trainers),
        )
    )
    if past:
        return query.where(TrainingSession.ends_at <= now).order_by(TrainingSession.starts_at.desc())
    return query.where(TrainingSession.ends_at > now).order_by(TrainingSession.starts_at)


def trainer_next_sessions(trainer: User, now: datetime, *, limit: int) -> list[TrainingSession]:
    """The next few sessions this person delivers that are still going ahead."""
    query = trainer_sessions_query(trainer, now=now, past=False).where(
        TrainingSession.status != SessionStatus.CANCELLED
    )
    return list(db.session.scalars(query.limit(limit)).unique())


# How far ahead coordinators are shown sessions short of bookings: time enough to fill them.
SHORT_OF_BOOKINGS_DAYS = 14


def is_short_of_bookings() -> sa.ColumnElement[bool]:
    """Fewer than half its places taken (a course sets no minimum, so half is the line)."""
    return TrainingSession.places_taken * 2 < TrainingSession.capacity


def sessions_short_of_bookings(now: datetime, *, limit: int) -> tuple[list[TrainingSession], int]:
    """Published sessions starting in the next SHORT_OF_BOOKINGS_DAYS days that are under half
    full, soonest first: the first ``limit`` of them, and how many there are."""
    query = (
        sa.select(TrainingSession)
        .join(TrainingSession.course)
        .options(contains_eager(TrainingSession.course), joinedload(TrainingSession.venue))
        .where(
            Course.status == CourseStatus.PUBLISHED,
            TrainingSession.status == SessionStatus.SCHEDULED,
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + timedelta(days=SHORT_OF_BOOKINGS_DAYS),
            is_short_of_bookings(),
        )
        .order_by(TrainingSession.starts_at, TrainingSession.id)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return list(db.session.scalars(query.limit(limit))), int(total or 0)


def month_choices(now: datetime) -> list[tuple[str, str]]:
    """The twelve months behind and the eighteen ahead, as (YYYY-MM, 'November 2027')."""
    this_month = to_local(now).date().replace(day=1)
    firsts = [this_month + relativedelta(months=offset) for offset in range(-12, 18)]
    return [(f"{first:%Y-%m}", f"{first:%B %Y}") for first in firsts]


# Option lists read two columns, not whole rows: the session list draws them on every request.
def programme_choices() -> list[tuple[int, str]]:
    return [
        (id_, name)
        for id_, name in db.session.execute(sa.select(Programme.id, Programme.name).order_by(Programme.name))
    ]


def course_choices(include_drafts: bool) -> list[tuple[int, str]]:
    query = sa.select(Course.id, Course.title).order_by(Course.title)
    if not include_drafts:
        query = query.where(Course.status == CourseStatus.PUBLISHED)
    return [(id_, title) for id_, title in db.session.execute(query)]


def trainers() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_([Role.TRAINER, Role.COORDINATOR]), User.active.is_(True))
            .order_by(User.role.desc(), User.name)
        )
    )


def venues(include_inactive: bool = False) -> list[Venue]:
    query = sa.select(Venue).order_by(Venue.name)
    if not include_inactive:
        query = query.where(Venue.active.is_(True))
    return list(db.session.scalars(query))
