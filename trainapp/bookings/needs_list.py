"""The coordinator's list of access needs for sessions still to come, and marking them arranged."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import User
from trainapp.bookings.models import HOLDING, LIVE, Booking, BookingAccessNeeds
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession
from trainapp.db import utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import db

# What the list shows: ?show=to-arrange (the default) or ?show=all.
TO_ARRANGE = "to-arrange"
ALL = "all"
SHOWING = (TO_ARRANGE, ALL)


def is_requested() -> sa.ColumnElement[bool]:
    """Something was asked for: needs ticked or details written, or asked and since erased."""
    return sa.or_(
        BookingAccessNeeds.needs_text != "",
        BookingAccessNeeds.details != "",
        BookingAccessNeeds.erased_at.is_not(None),
    )


def needs_list_query(now: datetime, *, show: str = TO_ARRANGE):
    """Needs asked for on live bookings (booked, awaiting approval or waiting) for sessions that
    have not ended or been called off: soonest session first, places before the waiting list."""
    query = (
        sa.select(BookingAccessNeeds)
        .join(BookingAccessNeeds.booking)
        .join(Booking.session)
        .join(Booking.user)
        .options(
            contains_eager(BookingAccessNeeds.booking).contains_eager(Booking.session),
            contains_eager(BookingAccessNeeds.booking).contains_eager(Booking.user),
            contains_eager(BookingAccessNeeds.booking)
            .contains_eager(Booking.session)
            .joinedload(TrainingSession.course)
            .joinedload(Course.programme),
            contains_eager(BookingAccessNeeds.booking)
            .contains_eager(Booking.session)
            .joinedload(TrainingSession.venue),
            contains_eager(BookingAccessNeeds.booking).joinedload(Booking.agency),
            joinedload(BookingAccessNeeds.arranged_by),
        )
        .where(
            Booking.status.in_(LIVE),
            TrainingSession.ends_at > now,
            TrainingSession.status != SessionStatus.CANCELLED,
            BookingAccessNeeds.erased_at.is_(None),
            is_requested(),
        )
        .order_by(
            TrainingSession.starts_at,
            TrainingSession.id,
            sa.case((Booking.status.in_(HOLDING), 0), else_=1),
            Booking.queue_position,
            User.name,
            BookingAccessNeeds.id,
        )
    )
    if show == TO_ARRANGE:
        query = query.where(BookingAccessNeeds.arranged_at.is_(None))
    return query


def set_arranged(needs_id: int, *, arranged: bool, by: User, now: datetime | None = None) -> BookingAccessNeeds:
    """Mark a person's access needs arranged (or not yet arranged again); audited without what was asked."""
    require_coordinator(by, "mark access needs as arranged")
    needs = db.session.get(BookingAccessNeeds, needs_id)
    if needs is None or needs.erased_at is not None:
        raise InvalidTransition("These access needs are no longer held")
    if (needs.arranged_at is not None) == arranged:
        # Pressed twice (or in two tabs): already as asked, nothing to record.
        return needs
    now = now or utcnow()
    before = {"arranged": needs.arranged_at is not None}
    needs.arranged_at = now if arranged else None
    needs.arranged_by_id = by.id if arranged else None
    audit.record(
        by,
        "access_needs.arranged" if arranged else "access_needs.not_arranged",
        needs,
        before=before,
        after={"arranged": arranged},
        at=now,
    )
    db.session.flush()
    return needs
