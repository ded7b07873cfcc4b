"""Emails about bookings, queued in the outbox within the change that causes them."""

from trainapp.bookings.models import Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.notifications.services import queue_email


def _send(booking: Booking, template: str, **extra) -> None:
    queue_email(booking.user.email, template, booking=booking, session=booking.session, **extra)


def booked(booking: Booking) -> None:
    _send(booking, "booking_confirmed")


def awaiting_approval(booking: Booking, leads: list) -> None:
    _send(booking, "booking_awaiting_approval")
    for lead in leads:
        queue_email(lead.email, "approval_requested", booking=booking, session=booking.session, lead=lead)


def waiting(booking: Booking, position: int) -> None:
    _send(booking, "booking_waiting", position=position)


def promoted(booking: Booking) -> None:
    _send(booking, "booking_promoted")


def approved(booking: Booking) -> None:
    _send(booking, "booking_approved")


def declined(booking: Booking) -> None:
    _send(booking, "booking_declined")


def expired(booking: Booking) -> None:
    _send(booking, "booking_expired")


def cancelled(booking: Booking, *, was_waiting: bool) -> None:
    _send(booking, "booking_cancelled", was_waiting=was_waiting)


def transferred(old: Booking, new: Booking) -> None:
    _send(old, "booking_transferred_away", colleague=new.user)
    _send(new, "booking_transferred_to_you", colleague=old.user)


def session_changed(session: TrainingSession, bookings: list[Booking], *, cancelled: bool) -> None:
    template = "session_cancelled" if cancelled else "session_changed"
    for booking in bookings:
        _send(booking, template)


def reminder(booking: Booking, working_days: int, dedupe_key: str):
    """Returns None when this reminder was queued before."""
    return queue_email(
        booking.user.email,
        "booking_reminder",
        booking=booking,
        session=booking.session,
        working_days=working_days,
        dedupe_key=dedupe_key,
    )


def joining_link(booking: Booking, dedupe_key: str):
    """Returns None when this link was queued before."""
    return queue_email(
        booking.user.email, "joining_link", booking=booking, session=booking.session, dedupe_key=dedupe_key
    )
