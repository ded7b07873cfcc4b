"""Emails about bookings, queued in the outbox within the change that causes them.

Messages that add a session to someone's diary, move it or take it away carry an
iCalendar REQUEST or CANCEL with the session's one UID, so mail programs offer to
add, update or remove it.
"""

from trainapp.bookings.models import Booking
from trainapp.calendars.events import invitation_for
from trainapp.catalogue.models import TrainingSession
from trainapp.notifications.services import queue_email

ADD, REMOVE = "REQUEST", "CANCEL"


def next_invitation_sequence(booking: Booking) -> int:
    """The SEQUENCE for the next REQUEST or CANCEL this person gets for the session, remembered.

    Calendar programs ignore an update whose SEQUENCE is not higher than the one they hold, so
    it must rise for each person on every message: a CANCEL after their REQUEST (their own
    cancellation, a transfer), a REQUEST after a CANCEL (booking again), and each reschedule.
    It never falls below the session's own counter, which the feeds show.
    """
    last = booking.invitation_sequence
    sequence = booking.session.sequence if last is None else max(booking.session.sequence, last + 1)
    booking.invitation_sequence = sequence
    return sequence


def _send(booking: Booking, template: str, invite: str | None = None, **extra) -> None:
    calendar = None
    if invite is not None:
        calendar = invitation_for(
            booking.session,
            name=booking.user.name,
            email=booking.user.email,
            cancel=invite == REMOVE,
            sequence=next_invitation_sequence(booking),
        )
    queue_email(
        booking.user.email,
        template,
        booking=booking,
        session=booking.session,
        calendar=calendar,
        calendar_method=invite,
        **extra,
    )


def booked(booking: Booking) -> None:
    _send(booking, "booking_confirmed", ADD)


def awaiting_approval(booking: Booking, leads: list) -> None:
    _send(booking, "booking_awaiting_approval")
    for lead in leads:
        queue_email(lead.email, "approval_requested", booking=booking, session=booking.session, lead=lead)


def waiting(booking: Booking, position: int) -> None:
    _send(booking, "booking_waiting", position=position)


def promoted(booking: Booking) -> None:
    _send(booking, "booking_promoted", ADD if booking.status.is_confirmed else None)


def approved(booking: Booking) -> None:
    _send(booking, "booking_approved", ADD)


def declined(booking: Booking) -> None:
    _send(booking, "booking_declined")


def expired(booking: Booking) -> None:
    _send(booking, "booking_expired")


def cancelled(booking: Booking, *, was_waiting: bool) -> None:
    _send(booking, "booking_cancelled", None if was_waiting else REMOVE, was_waiting=was_waiting)


def transferred(old: Booking, new: Booking) -> None:
    _send(old, "booking_transferred_away", REMOVE, colleague=new.user)
    _send(new, "booking_transferred_to_you", ADD, colleague=old.user)


def session_changed(session: TrainingSession, bookings: list[Booking]) -> None:
    """Everyone booked or waiting; only people with a place get a diary update."""
    for booking in bookings:
        _send(booking, "session_changed", ADD if booking.status.is_confirmed else None)


def session_cancelled(booking: Booking) -> None:
    """Waiting people get the CANCEL too: anyone may have added the session from its page's
    calendar download, which carries the same UID, and a CANCEL for an event a calendar does
    not hold changes nothing."""
    _send(booking, "session_cancelled", REMOVE)


def reminder(booking: Booking, working_days: int, dedupe_key: str):
    """Returns None when this reminder was queued before. Not sent once the session has started."""
    return queue_email(
        booking.user.email,
        "booking_reminder",
        booking=booking,
        session=booking.session,
        working_days=working_days,
        dedupe_key=dedupe_key,
        useless_after=booking.session.starts_at,
    )


def joining_link(booking: Booking, dedupe_key: str):
    """Returns None when this link was queued before. Not sent once the session has ended."""
    return queue_email(
        booking.user.email,
        "joining_link",
        booking=booking,
        session=booking.session,
        dedupe_key=dedupe_key,
        useless_after=booking.session.ends_at,
    )
