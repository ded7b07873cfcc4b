"""Read-only queries behind booking pages, each a fixed number of SQL statements."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainapp.accounts.models import Role, User
from trainapp.bookings.capacity import Availability, availability
from trainapp.bookings.models import HOLDING, AgencyReservation, Booking, BookingStatus
from trainapp.bookings.rules import last_day_to_cancel
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession
from trainapp.extensions import db


@dataclass
class SessionPanel:
    """What the session page shows one person about booking it."""

    availability: Availability
    booking: Booking | None
    # None when the session takes no bookings (cancelled or started): no count, no buttons.
    places_left: int | None
    reserved_left_for_me: int
    last_day_to_cancel: date

    @property
    def is_open(self) -> bool:
        return self.places_left is not None


def session_panel(session: TrainingSession, user: User, now: datetime) -> SessionPanel:
    avail = availability(session, now)
    booking = db.session.scalar(sa.select(Booking).where(Booking.session_id == session.id, Booking.user_id == user.id))
    # The same count as places_left's SQL, from the availability already in hand.
    takes_bookings = not session.is_cancelled and session.starts_at > now
    left = avail.general_left + avail.reserved_left(user.agency_id) if takes_bookings else None
    return SessionPanel(
        avail,
        booking,
        left,
        avail.reserved_left(user.agency_id) if left is not None else 0,
        last_day_to_cancel(session),
    )


def _with_session():
    return (
        joinedload(Booking.session).joinedload(TrainingSession.course).joinedload(Course.programme),
        joinedload(Booking.session).joinedload(TrainingSession.venue),
    )


def my_bookings_query(user: User, tab: str, now: datetime):
    query = (
        sa.select(Booking)
        .join(Booking.session)
        .options(*_with_session(), joinedload(Booking.transferred_to))
        .where(Booking.user_id == user.id)
    )
    if tab == "waiting":
        return query.where(Booking.status == BookingStatus.WAITING).order_by(TrainingSession.starts_at)
    if tab == "past":
        return query.where(Booking.status.in_(HOLDING), TrainingSession.ends_at <= now).order_by(
            TrainingSession.starts_at.desc()
        )
    if tab == "cancelled":
        return query.where(
            Booking.status.in_([BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED])
        ).order_by(Booking.updated_at.desc())
    return query.where(Booking.status.in_(HOLDING), TrainingSession.ends_at > now).order_by(TrainingSession.starts_at)


def session_bookings(session: TrainingSession) -> dict[str, list[Booking]]:
    """Everyone with a booking on a session, grouped as the coordinator reads them."""
    bookings = (
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == session.id)
            .options(
                joinedload(Booking.user).joinedload(User.agency),
                # The agency booked from: it differs from the person's own after a move.
                joinedload(Booking.agency),
                joinedload(Booking.booked_by),
                joinedload(Booking.updated_by),
                joinedload(Booking.transferred_to),
            )
            .order_by(Booking.queue_position, Booking.created_at, Booking.id)
        )
        .unique()
        .all()
    )
    groups: dict[str, list[Booking]] = {"confirmed": [], "awaiting": [], "waiting": [], "ended": []}
    for booking in bookings:
        if booking.status == BookingStatus.CONFIRMED:
            groups["confirmed"].append(booking)
        elif booking.status == BookingStatus.AWAITING_APPROVAL:
            groups["awaiting"].append(booking)
        elif booking.status == BookingStatus.WAITING:
            groups["waiting"].append(booking)
        else:
            groups["ended"].append(booking)
    return groups


def approvals_query(user: User):
    return (
        sa.select(Booking)
        .join(Booking.session)
        .options(*_with_session(), joinedload(Booking.user))
        .where(Booking.status == BookingStatus.AWAITING_APPROVAL, Booking.approvable_by(user))
        .order_by(Booking.approval_due_at, Booking.id)
    )


def approvals_waiting(user: User, *, limit: int) -> tuple[list[Booking], int]:
    """The first ``limit`` requests this person may decide, soonest due first, and how many there are."""
    query = approvals_query(user)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return list(db.session.scalars(query.limit(limit)).unique()), int(total or 0)


def next_booking(user: User, now: datetime) -> Booking | None:
    """The person's next confirmed place on a session that has not ended or been called off."""
    return db.session.scalar(
        sa.select(Booking)
        .join(Booking.session)
        .options(*_with_session())
        .where(
            Booking.user_id == user.id,
            Booking.status == BookingStatus.CONFIRMED,
            TrainingSession.status != SessionStatus.CANCELLED,
            TrainingSession.ends_at > now,
        )
        .order_by(TrainingSession.starts_at, Booking.id)
        .limit(1)
    )


def agency_bookings_query(agency_id: int, now: datetime):
    return (
        sa.select(Booking)
        .join(Booking.session)
        .options(*_with_session(), joinedload(Booking.user), joinedload(Booking.transferred_to))
        .where(Booking.agency_id == agency_id, TrainingSession.ends_at > now)
        .order_by(TrainingSession.starts_at, Booking.id)
    )


def bookable_staff(agency_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.agency_id == agency_id, User.active.is_(True), User.role != Role.COORDINATOR)
            .order_by(User.name)
        )
    )


def reservations(session: TrainingSession) -> list[AgencyReservation]:
    return list(
        db.session.scalars(
            sa.select(AgencyReservation)
            .where(AgencyReservation.session_id == session.id)
            .options(joinedload(AgencyReservation.agency))
            .order_by(AgencyReservation.id)
        )
    )
