"""Rules for booking: a place is sold at most once, the waiting list moves by itself."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import Agency, Role, User
from trainapp.bookings import messages, signals
from trainapp.bookings.access_needs import NeedsAnswer, record_at_booking
from trainapp.bookings.capacity import (
    availability,
    change_status,
    free_place,
    lock_session,
    next_queue_position,
    promote_from_waiting_list,
    take_place,
    waiting_list,
)
from trainapp.bookings.models import AgencyReservation, Booking, BookingStatus
from trainapp.bookings.rules import (
    APPROVAL_WORKING_DAYS,
    AlreadyBooked,
    approval_deadline,
    check_can_book,
    is_late,
    require_can_book_for,
    status_for_new_place,
)
from trainapp.catalogue.models import TrainingSession
from trainapp.db import utcnow
from trainapp.errors import DomainError, NotAllowed
from trainapp.extensions import db


def _existing(session: TrainingSession, learner: User) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.session_id == session.id, Booking.user_id == learner.id)
        .execution_options(populate_existing=True)
    )


def agency_leads(agency_id: int | None) -> list[User]:
    if agency_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(User).where(User.agency_id == agency_id, User.role == Role.AGENCY_LEAD, User.active.is_(True))
        )
    )


def book_place(
    session_id: int, learner: User, *, by: User, now: datetime | None = None, needs: NeedsAnswer | None = None
) -> Booking:
    """Book a place, or a place on the waiting list when the session is full, with any access needs."""
    now = now or utcnow()
    session = lock_session(session_id)
    require_can_book_for(by, learner)
    check_can_book(session, learner, now)
    booking, previous = _booking_to_fill(session, learner, by=by)
    new_status = _place_or_waiting_list(session, booking, status_for_new_place(session.course, learner, by), now)
    if previous is not None:
        booking.status.check_transition(new_status)
    booking.status = new_status
    booking.created_at = booking.updated_at = now
    booking.updated_by = by
    db.session.flush()
    audit.record(
        by,
        "booking.created",
        booking,
        before={"status": str(previous)} if previous else None,
        after=booking.snapshot(),
    )
    record_at_booking(booking, needs, by=by, now=now)
    _tell_about_new_booking(booking, now)
    return booking


def _booking_to_fill(session: TrainingSession, learner: User, *, by: User) -> tuple[Booking, BookingStatus | None]:
    """A new booking, or the learner's ended one made ready to use again, with the status it had."""
    booking = _existing(session, learner)
    if booking is not None and booking.status.is_live:
        who = "You" if by.id == learner.id else learner.name
        verb = "are" if who == "You" else "is"
        raise AlreadyBooked(f"{who} {verb} already {booking.status.label.lower()} for this session")
    if booking is None:
        booking = Booking(session=session, user=learner, status=BookingStatus.WAITING)
        db.session.add(booking)
        previous = None
    else:
        previous = booking.status
    booking.agency_id = learner.agency_id
    booking.booked_by = by
    booking.is_late_cancellation = False
    booking.transferred_to_id = None
    booking.reason = None
    booking.approval_due_at = None
    return booking, previous


def _place_or_waiting_list(
    session: TrainingSession, booking: Booking, target: BookingStatus, now: datetime
) -> BookingStatus:
    """``target`` when a place is free for the booking; otherwise waiting, at the back of the list."""
    if take_place(session, booking, now):
        return target
    booking.queue_position = next_queue_position(session)
    return BookingStatus.WAITING


def _tell_about_new_booking(booking: Booking, now: datetime) -> None:
    """The learner's confirmation or waiting-list message, or the agency leads' request to approve."""
    if booking.status == BookingStatus.CONFIRMED:
        messages.booked(booking)
    elif booking.status == BookingStatus.AWAITING_APPROVAL:
        booking.approval_due_at = approval_deadline(booking.session, now)
        messages.awaiting_approval(booking, agency_leads(booking.agency_id))
    else:
        messages.waiting(booking, waiting_position(booking))


@dataclass
class GroupResult:
    booked: list[Booking]
    refused: list[tuple[User, str]]


def book_group(
    session_id: int,
    learners: list[User],
    *,
    by: User,
    now: datetime | None = None,
    needs: NeedsAnswer | None = None,
) -> GroupResult:
    """Book several people in one go, each with the same access needs; each is booked or refused
    on their own merits."""
    result = GroupResult([], [])
    for learner in learners:
        try:
            with db.session.begin_nested():
                result.booked.append(book_place(session_id, learner, by=by, now=now, needs=needs))
        except DomainError as error:
            result.refused.append((learner, error.message))
    return result


def waiting_position(booking: Booking) -> int:
    """1 for the first person waiting."""
    ahead = db.session.execute(
        sa.select(sa.func.count(Booking.id)).where(
            Booking.session_id == booking.session_id,
            Booking.status == BookingStatus.WAITING,
            sa.or_(
                Booking.queue_position < booking.queue_position,
                sa.and_(Booking.queue_position == booking.queue_position, Booking.id < booking.id),
            ),
        )
    ).scalar_one()
    return 1 + ahead


def _locked_booking(booking_id: int) -> tuple[Booking, TrainingSession]:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise DomainError("That booking does not exist")
    session = lock_session(booking.session_id)
    # Read the booking again now the session is locked: another request may have changed it.
    db.session.refresh(booking)
    return booking, session


def cancel_booking(booking_id: int, *, by: User | None, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel a place or leave the waiting list; after the cut-off it counts as a late cancellation.

    ``by`` is None for the system itself (a command run on the server)."""
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    if by is not None and not booking.can_be_seen_by(by):
        raise NotAllowed("You cannot cancel someone else's booking")
    if not booking.status.is_live:
        raise DomainError(f"This booking is already {booking.status.label.lower()}")
    if session.starts_at <= now:
        raise DomainError("This session has already started: it is too late to cancel")
    held = booking.status.holds_place
    booking.is_late_cancellation = held and is_late(session, now)
    free_place(session, booking)
    booking.reason = reason.strip() or None
    change_status(
        booking,
        BookingStatus.CANCELLED,
        by=by,
        action="booking.late_cancelled" if booking.is_late_cancellation else "booking.cancelled",
        reason=booking.reason,
    )
    messages.cancelled(booking, was_waiting=not held)
    signals.booking_cancelled.send(booking, by=by)
    if held:
        promote_from_waiting_list(session, now)
    return booking


def transfer_booking(booking_id: int, colleague: User, *, by: User, now: datetime | None = None) -> Booking:
    """Give a confirmed place to a colleague in the same agency: free of charge, the place is kept."""
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    if not booking.can_be_seen_by(by):
        raise NotAllowed("You cannot transfer someone else's booking")
    if booking.status != BookingStatus.CONFIRMED:
        raise DomainError("Only a confirmed place can be transferred")
    if colleague.id == booking.user_id:
        raise DomainError("Choose a colleague, not the person already booked", "colleague")
    if colleague.agency_id is None or colleague.agency_id != booking.agency_id:
        raise DomainError("A place can only go to a colleague in the same agency", "colleague")
    check_can_book(session, colleague, now)
    theirs = _existing(session, colleague)
    if theirs is not None and theirs.status.is_live:
        raise AlreadyBooked(f"{colleague.name} is already {theirs.status.label.lower()} for this session", "colleague")
    if theirs is None:
        theirs = Booking(session=session, user=colleague, status=BookingStatus.CONFIRMED)
        db.session.add(theirs)
    else:
        theirs.status.check_transition(BookingStatus.CONFIRMED)
        theirs.status = BookingStatus.CONFIRMED
    theirs.agency_id = colleague.agency_id
    theirs.booked_by = by
    theirs.reserved_for_agency_id = booking.reserved_for_agency_id
    theirs.queue_position = None
    theirs.is_late_cancellation = False
    theirs.reason = f"Transferred from {booking.user.name}"
    theirs.updated_at, theirs.updated_by = now, by
    # The place moves with the transfer: the session's count does not change.
    booking.reserved_for_agency_id = None
    booking.transferred_to = colleague
    booking.is_late_cancellation = False
    change_status(
        booking,
        BookingStatus.CANCELLED,
        by=by,
        action="booking.transferred",
        reason=f"Transferred to {colleague.name}",
    )
    db.session.flush()
    audit.record(by, "booking.created", theirs, after=theirs.snapshot(), reason=f"Transferred from {booking.user.name}")
    messages.transferred(booking, theirs)
    return theirs


def _require_approver(booking: Booking, by: User) -> None:
    if not booking.can_be_approved_by(by):
        raise NotAllowed("Only the person's agency lead or a coordinator can decide this request")


def approve_booking(booking_id: int, *, by: User, now: datetime | None = None) -> Booking:
    booking, _session = _locked_booking(booking_id)
    _require_approver(booking, by)
    if booking.status != BookingStatus.AWAITING_APPROVAL:
        raise DomainError(f"This request has already been decided: it is {booking.status.label.lower()}")
    change_status(booking, BookingStatus.CONFIRMED, by=by, action="booking.approved")
    booking.approval_due_at = None
    messages.approved(booking)
    return booking


def decline_booking(booking_id: int, *, by: User, reason: str, now: datetime | None = None) -> Booking:
    """Refuse a request; the place goes to the waiting list and the person is told why."""
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    _require_approver(booking, by)
    if booking.status != BookingStatus.AWAITING_APPROVAL:
        raise DomainError(f"This request has already been decided: it is {booking.status.label.lower()}")
    if not reason.strip():
        raise DomainError("Enter a reason: the person will be told it", "reason")
    free_place(session, booking)
    booking.reason = reason.strip()
    booking.approval_due_at = None
    change_status(booking, BookingStatus.DECLINED, by=by, action="booking.declined", reason=booking.reason)
    messages.declined(booking)
    promote_from_waiting_list(session, now)
    return booking


def expire_requests(now: datetime | None = None) -> int:
    """Requests nobody decided in time free their places. Safe to run again."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Booking.id).where(Booking.status == BookingStatus.AWAITING_APPROVAL, Booking.approval_due_at <= now)
    ).all()
    expired = 0
    for booking_id in due:
        booking, session = _locked_booking(booking_id)
        if booking.status != BookingStatus.AWAITING_APPROVAL:
            continue
        free_place(session, booking)
        booking.approval_due_at = None
        change_status(
            booking,
            BookingStatus.EXPIRED,
            by=None,
            action="booking.expired",
            reason=f"Not approved within {APPROVAL_WORKING_DAYS} working days",
        )
        messages.expired(booking)
        promote_from_waiting_list(session, now)
        expired += 1
    return expired


def move_on_waiting_list(booking_id: int, *, by: User, position: int, reason: str) -> None:
    """Put someone at a given place in the queue (coordinators), with a recorded reason."""
    require_coordinator(by, "change the order of the waiting list")
    if not reason.strip():
        raise DomainError("Enter a reason for moving this person", "reason")
    booking, session = _locked_booking(booking_id)
    if booking.status != BookingStatus.WAITING:
        raise DomainError("This person is not on the waiting list")
    queue = [b for b in waiting_list(session) if b.id != booking.id]
    if not 1 <= position <= len(queue) + 1:
        raise DomainError(f"Choose a position from 1 to {len(queue) + 1}", "position")
    before = waiting_position(booking)
    queue.insert(position - 1, booking)
    for index, entry in enumerate(queue, start=1):
        entry.queue_position = index
    audit.record(
        by,
        "booking.moved_on_waiting_list",
        booking,
        before={"position": before},
        after={"position": position},
        reason=reason.strip(),
    )


def reserve_places(
    session_id: int,
    agency: Agency,
    *,
    places: int,
    release_at: datetime,
    by: User,
    now: datetime | None = None,
) -> AgencyReservation:
    """Hold places for one agency's staff until a release date."""
    now = now or utcnow()
    require_coordinator(by, "hold places for an agency")
    session = lock_session(session_id)
    if places < 1:
        raise DomainError("Hold at least 1 place", "places")
    _require_release_before_start(session, release_at, now)
    reservation = _agency_reservation(session, agency)
    _require_places_can_be_held(session, agency, places, now)
    before = {"places": reservation.places, "release_at": reservation.release_at.isoformat()} if reservation else None
    if reservation is None:
        reservation = AgencyReservation(
            session=session, agency=agency, created_by_id=by.id, places=places, release_at=release_at
        )
        db.session.add(reservation)
    reservation.places, reservation.release_at, reservation.released_at = places, release_at, None
    db.session.flush()
    audit.record(
        by,
        "reservation.saved",
        reservation,
        before=before,
        after={"agency_id": agency.id, "places": places, "release_at": release_at.isoformat()},
    )
    return reservation


def _require_release_before_start(session: TrainingSession, release_at: datetime, now: datetime) -> None:
    """Held places are released in the future, and no later than the session's start."""
    if release_at <= now:
        raise DomainError("The release date must be in the future", "release_on")
    if release_at > session.starts_at:
        raise DomainError("Places must be released before the session starts", "release_on")


def _agency_reservation(session: TrainingSession, agency: Agency) -> AgencyReservation | None:
    """The places already held on this session for this agency, if any."""
    return db.session.scalar(
        sa.select(AgencyReservation).where(
            AgencyReservation.session_id == session.id, AgencyReservation.agency_id == agency.id
        )
    )


def _require_places_can_be_held(session: TrainingSession, agency: Agency, places: int, now: datetime) -> None:
    """No more than the agency's held places and the free ones; no fewer than its staff have booked."""
    avail = availability(session, now)
    held_places, held_taken = avail.reserved.get(agency.id, (0, 0))
    most = held_places + avail.general_left
    if places > most:
        raise DomainError(f"Only {most} places can be held: the others are booked or held", "places")
    if places < held_taken:
        raise DomainError(f"{held_taken} of the held places are already booked: hold at least that many", "places")


def release_reservation(reservation_id: int, *, by: User | None, now: datetime | None = None) -> list[Booking]:
    """Put an agency's unused held places into the general pool and promote the waiting list."""
    now = now or utcnow()
    if by is not None:
        require_coordinator(by, "release held places")
    reservation, session = _locked_reservation(reservation_id)
    if reservation.released_at is not None:
        raise DomainError("These places have already been released")
    return _release(reservation, session, by=by, now=now)


def _locked_reservation(reservation_id: int) -> tuple[AgencyReservation, TrainingSession]:
    reservation = db.session.get(AgencyReservation, reservation_id)
    if reservation is None:
        raise DomainError("That reservation does not exist")
    session = lock_session(reservation.session_id)
    # Read it again now the session is locked: a coordinator or another host may have released it.
    db.session.refresh(reservation)
    return reservation, session


def _release(
    reservation: AgencyReservation, session: TrainingSession, *, by: User | None, now: datetime
) -> list[Booking]:
    reservation.released_at = now
    audit.record(by, "reservation.released", reservation, after={"released_at": now.isoformat()})
    return promote_from_waiting_list(session, now)


def release_due_reservations(now: datetime | None = None) -> int:
    """Release every reservation whose date has come. Safe to run again."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(AgencyReservation.id).where(
            AgencyReservation.released_at.is_(None), AgencyReservation.release_at <= now
        )
    ).all()
    released = 0
    for reservation_id in due:
        reservation, session = _locked_reservation(reservation_id)
        if reservation.released_at is None:
            _release(reservation, session, by=None, now=now)
            released += 1
    return released
