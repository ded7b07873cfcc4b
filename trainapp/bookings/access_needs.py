"""Adjustments a person asks for to take part: who sees them, what a good answer is, and
recording them on a booking or the person's profile.

Access needs are special-category (health) data. Who may see them is decided here, once, for
one booking (``can_see_access_needs``) and for lists (``access_needs_visible_to``); every page,
message and export asks one of the two. The audit trail records that needs were added, changed
or removed, never what they are.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from trainapp import audit
from trainapp.accounts.models import User
from trainapp.accounts.services import active_coordinators
from trainapp.bookings.models import AccessNeed, Booking, BookingAccessNeeds, SavedAccessNeeds
from trainapp.bookings.rules import can_book_for
from trainapp.catalogue.models import TrainingSession, session_trainers
from trainapp.db import utcnow
from trainapp.errors import DomainError, NotAllowed
from trainapp.extensions import db
from trainapp.notifications.services import queue_email
from trainapp.text import has_controls_other_than_line_breaks
from trainapp.timezones import to_local
from trainapp.workdays import working_days_before

DETAILS_LABEL = "Tell us more"
DETAILS_MAX_LENGTH = 1000
# Ticking one of these asks for something only words can describe.
NEED_DETAILS = (AccessNeed.OTHER, AccessNeed.DIETARY)
# Fewer working days than this before the session, and coordinators are emailed at once:
# interpreters and venue changes take about two weeks to arrange.
ARRANGING_WORKING_DAYS = 10


@dataclass(frozen=True)
class NeedsAnswer:
    """The answer to "Do you need any adjustments to take part?"."""

    needs: list[AccessNeed] = field(default_factory=list)
    details: str = ""
    save_to_profile: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.needs


def clean_details(details: str | None) -> str:
    """Details as stored: browser line endings made plain line feeds, outer spaces gone."""
    return (details or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def answer_problem(needs: list[AccessNeed], details: str, *, for_someone_else: bool = False) -> str | None:
    """What is wrong with an answer, for the details box, or None when it can be recorded."""
    details = clean_details(details)
    your, you = ("their", "they") if for_someone_else else ("your", "you")
    if not details:
        if AccessNeed.OTHER in needs:
            return f"Tell us more about the other adjustment {you} need"
        if AccessNeed.DIETARY in needs:
            return f"Tell us more about {your} dietary requirement"
        return None
    if not needs:
        return f"Select the adjustments {you} need, or Other if they are not in the list"
    if has_controls_other_than_line_breaks(details):
        return f"{DETAILS_LABEL} must not contain tabs or other special characters"
    if len(details) > DETAILS_MAX_LENGTH:
        return f"{DETAILS_LABEL} must be {DETAILS_MAX_LENGTH:,} characters or fewer"
    return None


def _check(answer: NeedsAnswer, *, for_someone_else: bool) -> None:
    problem = answer_problem(answer.needs, answer.details, for_someone_else=for_someone_else)
    if problem:
        raise DomainError(problem, "needs_details")


# Who sees them ------------------------------------------------------------------------------


def can_see_access_needs(viewer: User, booking: Booking) -> bool:
    """The person, their agency's lead, the session's trainers and coordinators; nobody else."""
    if viewer.is_coordinator or viewer.id == booking.user_id:
        return True
    if viewer.is_agency_lead and viewer.agency_id is not None and viewer.agency_id == booking.agency_id:
        return True
    return any(trainer.id == viewer.id for trainer in booking.session.trainers)


def access_needs_visible_to(viewer: User) -> sa.ColumnElement[bool]:
    """``can_see_access_needs`` as a filter on bookings, for lists."""
    if viewer.is_coordinator:
        return sa.true()
    conditions = [
        Booking.user_id == viewer.id,
        Booking.session_id.in_(sa.select(session_trainers.c.session_id).where(session_trainers.c.user_id == viewer.id)),
    ]
    if viewer.is_agency_lead and viewer.agency_id is not None:
        conditions.append(Booking.agency_id == viewer.agency_id)
    return sa.or_(*conditions)


def visible_access_needs(viewer: User, bookings: Iterable[Booking]) -> dict[int, BookingAccessNeeds]:
    """The needs this person may see on these bookings, by booking id, in one query."""
    ids = [booking.id for booking in bookings]
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(BookingAccessNeeds)
        .join(Booking, Booking.id == BookingAccessNeeds.booking_id)
        .where(
            BookingAccessNeeds.booking_id.in_(ids),
            BookingAccessNeeds.erased_at.is_(None),
            BookingAccessNeeds.needs_text != "",
            access_needs_visible_to(viewer),
        )
    )
    return {row.booking_id: row for row in rows}


def can_change_access_needs(user: User, booking: Booking) -> bool:
    """The person, or whoever may book for them (their agency lead, a coordinator)."""
    return can_book_for(user, booking.user)


# Recording them -------------------------------------------------------------------------------


def saved_access_needs(user: User) -> SavedAccessNeeds | None:
    return db.session.scalar(sa.select(SavedAccessNeeds).where(SavedAccessNeeds.user_id == user.id))


def save_profile_needs(user: User, answer: NeedsAnswer, *, now: datetime | None = None) -> SavedAccessNeeds | None:
    """Keep (or, for an empty answer, forget) the needs a person offers again next time they book."""
    _check(answer, for_someone_else=False)
    now = now or utcnow()
    # The row itself, not the signed-in person's proxy: the trail names its table.
    user = db.session.get(User, user.id) or user
    saved = saved_access_needs(user)
    if answer.is_empty:
        if saved is not None:
            db.session.delete(saved)
            audit.record(user, "user.access_needs_cleared", user, at=now)
        return None
    action = "user.access_needs_changed" if saved is not None else "user.access_needs_saved"
    if saved is None:
        saved = SavedAccessNeeds(user_id=user.id)
        db.session.add(saved)
    saved.needs = answer.needs
    saved.details = clean_details(answer.details)
    saved.updated_at = now
    db.session.flush()
    audit.record(user, action, user, at=now)
    return saved


def record_at_booking(booking: Booking, answer: NeedsAnswer | None, *, by: User, now: datetime) -> None:
    """Apply the answer given with a new booking (book_place calls this in its transaction).

    A place booked again reuses the ended booking's row: what was asked then goes, and only
    this answer counts.
    """
    for_someone_else = by.id != booking.user_id
    if answer is not None:
        _check(answer, for_someone_else=for_someone_else)
    previous = booking.access_needs  # type: ignore[attr-defined]  # a backref, declared on BookingAccessNeeds
    if previous is not None:
        db.session.delete(previous)
        db.session.flush()
    if answer is not None and not answer.is_empty:
        _write(booking, None, answer, by=by, now=now)
    if answer is not None and answer.save_to_profile and not for_someone_else:
        save_profile_needs(booking.user, answer, now=now)


def change_booking_needs(booking_id: int, answer: NeedsAnswer, *, by: User, now: datetime | None = None) -> Booking:
    """Add, change or remove the needs on a booking still to come."""
    now = now or utcnow()
    booking = db.session.get(Booking, booking_id)
    if booking is None or not can_change_access_needs(by, booking):
        raise NotAllowed("You cannot change the access needs on this booking")
    if not booking.status.is_live:
        raise DomainError(
            f"This booking is {booking.status.label.lower()}: its access needs can no longer be changed", "needs"
        )
    if booking.session.starts_at <= now:
        raise DomainError("This session has started: its access needs can no longer be changed", "needs")
    for_someone_else = by.id != booking.user_id
    _check(answer, for_someone_else=for_someone_else)
    previous = booking.access_needs  # type: ignore[attr-defined]  # a backref, declared on BookingAccessNeeds
    if answer.is_empty:
        if previous is not None:
            db.session.delete(previous)
            audit.record(by, "booking.access_needs_removed", booking, at=now)
    elif previous is None or previous.needs != answer.needs or previous.details != clean_details(answer.details):
        _write(booking, previous, answer, by=by, now=now)
    if answer.save_to_profile and not for_someone_else:
        save_profile_needs(booking.user, answer, now=now)
    db.session.flush()
    return booking


def _write(
    booking: Booking, row: BookingAccessNeeds | None, answer: NeedsAnswer, *, by: User, now: datetime
) -> BookingAccessNeeds:
    """Store the answer (a changed request must be arranged again), note it, and tell coordinators
    if it is late."""
    action = "booking.access_needs_changed" if row is not None else "booking.access_needs_added"
    if row is None:
        row = BookingAccessNeeds(booking_id=booking.id)
        db.session.add(row)
    row.needs = answer.needs
    row.details = clean_details(answer.details)
    row.requested_at = now
    row.arranged_at = None
    row.arranged_by_id = None
    row.erased_at = None
    db.session.flush()
    # That needs were asked for, never what they are: the trail is kept longer than the needs.
    audit.record(by, action, booking, at=now)
    if is_late_to_arrange(booking.session, now):
        _tell_coordinators(booking, row, changed=action.endswith("changed"))
    return row


# Telling coordinators -------------------------------------------------------------------------


def is_late_to_arrange(session: TrainingSession, now: datetime) -> bool:
    """Fewer than ARRANGING_WORKING_DAYS working days left before the session's day."""
    start_day = to_local(session.starts_at).date()
    return to_local(now).date() > working_days_before(start_day, ARRANGING_WORKING_DAYS)


def coordinator_addresses() -> list[str]:
    """The coordinators' shared mailbox (COORDINATORS_EMAIL), or else every active coordinator."""
    mailbox = (current_app.config.get("COORDINATORS_EMAIL") or "").strip()
    if mailbox:
        return [mailbox]
    return [coordinator.email for coordinator in active_coordinators()]


def _tell_coordinators(booking: Booking, needs: BookingAccessNeeds, *, changed: bool) -> None:
    for address in coordinator_addresses():
        queue_email(
            address,
            "access_needs_late",
            booking=booking,
            session=booking.session,
            needs=needs,
            changed=changed,
            working_days=ARRANGING_WORKING_DAYS,
        )
