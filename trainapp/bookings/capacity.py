"""The locked section: counting places, taking and freeing them, promoting the waiting list.

Every path that takes or frees a place calls ``lock_session`` first. On PostgreSQL
that is a row lock held to the end of the transaction; on SQLite every write
transaction already began IMMEDIATE (see ``trainapp.db``), so writers queue.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from trainapp import audit
from trainapp.accounts.models import User
from trainapp.bookings import messages
from trainapp.bookings.models import HOLDING, AgencyReservation, Booking, BookingStatus
from trainapp.bookings.rules import approval_deadline, status_for_new_place
from trainapp.catalogue.models import TrainingSession
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db


def lock_session(session_id: int) -> TrainingSession:
    """Load a session with its row lock, re-reading it even if this session holds a copy."""
    session = db.session.scalars(
        sa.select(TrainingSession)
        .where(TrainingSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if session is None:
        raise DomainError("That session does not exist")
    return session


@dataclass
class Availability:
    """Places on one session: the general pool, and each agency's held-back places."""

    capacity: int
    general_capacity: int
    general_taken: int
    reserved: dict[int, tuple[int, int]] = field(default_factory=dict)  # agency -> (places, taken)

    @property
    def general_left(self) -> int:
        return max(self.general_capacity - self.general_taken, 0)

    def reserved_left(self, agency_id: int | None) -> int:
        if agency_id is None or agency_id not in self.reserved:
            return 0
        places, taken = self.reserved[agency_id]
        return max(places - taken, 0)

    @property
    def has_room(self) -> bool:
        return self.general_left > 0 or any(self.reserved_left(agency) for agency in self.reserved)

    def take(self, reserved_for: int | None) -> None:
        """Count one more place taken, from an agency's held places or from the pool."""
        if reserved_for is None:
            self.general_taken += 1
        else:
            places, taken = self.reserved[reserved_for]
            self.reserved[reserved_for] = (places, taken + 1)

    def slot_for(self, agency_id: int | None) -> tuple[bool, int | None]:
        """(found, reserved agency or None): an agency's own places are used before the pool."""
        if self.reserved_left(agency_id):
            return True, agency_id
        if self.general_left:
            return True, None
        return False, None


def held_reservations(session: TrainingSession, now: datetime) -> list[AgencyReservation]:
    return [
        r
        for r in db.session.scalars(sa.select(AgencyReservation).where(AgencyReservation.session_id == session.id))
        if r.is_held(now)
    ]


def availability(session: TrainingSession, now: datetime | None = None) -> Availability:
    """Count places from the bookings themselves (the session's counter is checked against it)."""
    now = now or utcnow()
    held = {r.agency_id: r.places for r in held_reservations(session, now)}
    counts = dict(
        db.session.execute(
            sa.select(Booking.reserved_for_agency_id, sa.func.count(Booking.id))
            # A walk-in came without a place, so takes none (places_taken leaves them out too).
            .where(
                Booking.session_id == session.id,
                Booking.status.in_(HOLDING),
                Booking.is_walk_in.is_(False),
            )
            .group_by(Booking.reserved_for_agency_id)
        )
        .tuples()
        .all()
    )
    reserved = {agency: (places, counts.get(agency, 0)) for agency, places in held.items()}
    total_taken = sum(counts.values())
    reserved_taken = sum(taken for _, taken in reserved.values())
    return Availability(
        capacity=session.capacity,
        general_capacity=session.capacity - sum(held.values()),
        general_taken=total_taken - reserved_taken,
        reserved=reserved,
    )


def take_place(session: TrainingSession, booking: Booking, now: datetime) -> bool:
    """Give the booking a place if one is open to its agency; False when there is none."""
    found, reserved_for = availability(session, now).slot_for(booking.agency_id)
    if not found:
        return False
    booking.reserved_for_agency_id = reserved_for
    session.places_taken += 1
    return True


def free_place(session: TrainingSession, booking: Booking) -> None:
    if booking.status.holds_place:
        session.places_taken -= 1
        booking.reserved_for_agency_id = None


def change_status(
    booking: Booking, target: BookingStatus, *, by: User | None, action: str, reason: str | None = None
) -> None:
    """The one place a booking's status changes: checked, stamped and audited."""
    booking.status.check_transition(target)
    before = booking.snapshot()
    booking.status = target
    booking.updated_at = utcnow()
    booking.updated_by = by
    if target != BookingStatus.WAITING:
        booking.queue_position = None
    audit.record(by, action, booking, before=before, after=booking.snapshot(), reason=reason)


def next_queue_position(session: TrainingSession) -> int:
    last = db.session.scalar(
        sa.select(sa.func.max(Booking.queue_position)).where(
            Booking.session_id == session.id, Booking.status == BookingStatus.WAITING
        )
    )
    return (last or 0) + 1


def waiting_list(session: TrainingSession) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == session.id, Booking.status == BookingStatus.WAITING)
            .order_by(Booking.queue_position, Booking.id)
        )
    )


def promote_from_waiting_list(session: TrainingSession, now: datetime, *, by: User | None = None) -> list[Booking]:
    """Fill every open place from the waiting list, first come first served.

    A person is skipped only when the open place is held back for another agency.
    """
    promoted: list[Booking] = []
    if session.starts_at <= now:
        return promoted
    # Counted once and kept up to date here, so the statements run while the row is locked
    # grow with the places freed, not with the length of the waiting list.
    avail = availability(session, now)
    if not avail.has_room:
        return promoted
    for booking in waiting_list(session):
        found, reserved_for = avail.slot_for(booking.agency_id)
        if not found:
            continue
        avail.take(reserved_for)
        booking.reserved_for_agency_id = reserved_for
        session.places_taken += 1
        target = status_for_new_place(session.course, booking.user, booking.booked_by)
        change_status(booking, target, by=by, action="booking.promoted")
        booking.approval_due_at = None
        if target == BookingStatus.AWAITING_APPROVAL:
            booking.approval_due_at = approval_deadline(session, now)
        messages.promoted(booking)
        promoted.append(booking)
        if not avail.has_room:
            break
    return promoted
