"""A person's copy of their own data (UK GDPR Article 15): one dict that the page and the JSON file both show."""

import json
import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from trainapp import downloads
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import User
from trainapp.attendance.models import Certificate, Evaluation
from trainapp.bookings.models import Booking, BookingAccessNeeds, SavedAccessNeeds
from trainapp.catalogue.models import TrainingSession
from trainapp.extensions import db
from trainapp.funding.models import Charge

FORMATS = ("page", "json")


def personal_data(person: User, now: datetime) -> dict[str, Any]:
    """Everything the service holds about one person: profile, saved access needs, bookings (with the
    access needs asked for on each), attendance, certificates, evaluations and the charges raised
    against their agency for them. Seven queries, however many rows."""
    bookings = list(
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.session)
            .join(TrainingSession.course)
            .where(Booking.user_id == person.id)
            .options(
                contains_eager(Booking.session).contains_eager(TrainingSession.course),
                contains_eager(Booking.session).joinedload(TrainingSession.venue),
                joinedload(Booking.agency),
                joinedload(Booking.booked_by),
            )
            .order_by(TrainingSession.starts_at.desc(), Booking.id.desc())
        ).unique()
    )
    by_id = {booking.id: booking for booking in bookings}
    theirs = sa.select(Booking.id).where(Booking.user_id == person.id)
    evaluations = db.session.scalars(
        sa.select(Evaluation).where(Evaluation.booking_id.in_(theirs)).order_by(Evaluation.submitted_at, Evaluation.id)
    ).all()
    certificates = db.session.scalars(
        sa.select(Certificate).where(Certificate.booking_id.in_(theirs)).order_by(Certificate.issued_at, Certificate.id)
    ).all()
    saved_needs = db.session.scalar(sa.select(SavedAccessNeeds).where(SavedAccessNeeds.user_id == person.id))
    booking_needs = db.session.scalars(
        sa.select(BookingAccessNeeds)
        .where(BookingAccessNeeds.booking_id.in_(theirs))
        .options(joinedload(BookingAccessNeeds.arranged_by))
        .order_by(BookingAccessNeeds.requested_at, BookingAccessNeeds.id)
    ).all()
    charges = db.session.scalars(
        sa.select(Charge)
        .where(Charge.booking_id.in_(theirs))
        .options(joinedload(Charge.agency))
        .order_by(Charge.raised_at, Charge.id)
    ).all()
    return {
        "produced_at": now,
        "profile": _profile(person),
        "saved_access_needs": _saved_needs(saved_needs) if saved_needs else None,
        "bookings": [_booking(b) for b in bookings],
        "access_needs": [_booking_needs(n, by_id[n.booking_id]) for n in booking_needs],
        "attendance": [_attendance(b) for b in bookings if b.attendance is not None],
        "certificates": [
            {**_session(by_id[c.booking_id]), "number": c.number, "issued_at": c.issued_at} for c in certificates
        ],
        "evaluations": [_evaluation(e, by_id[e.booking_id]) for e in evaluations],
        "charges": [_charge(c, by_id[c.booking_id]) for c in charges],
    }


def produce_personal_data(person: User, *, by: User, format: str, now: datetime) -> dict[str, Any]:
    """A person's data for them, or for a coordinator. Every copy that leaves the service (a download,
    or a coordinator reading someone else's) is recorded: an audit row and a security-log line."""
    assert format in FORMATS, format
    if by.id != person.id:
        require_coordinator(by, "see another person's data")
    if by.id != person.id or format == "json":
        downloads.record_download("personal data", by=by, filters={"format": format}, entity=person)
    return personal_data(person, now)


def as_json(data: dict[str, Any]) -> str:
    """The data as a JSON document: times in ISO 8601 (UTC), money in pence."""
    return json.dumps(data, default=_iso, ensure_ascii=False, indent=2)


_NOT_IN_A_FILENAME = re.compile(r"[^\w]+")


def download_name(person: User) -> str:
    slug = _NOT_IN_A_FILENAME.sub("-", person.name.lower()).strip("-") or str(person.id)
    return f"personal-data-{slug}.json"


def _iso(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _profile(person: User) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        "job_title": person.job_title,
        "agency": person.agency.name if person.agency else None,
        "role": person.role.label,
        "account_active": person.active,
        "account_created_at": person.created_at,
        "last_signed_in_at": person.last_signed_in_at,
        # When they set up an authenticator app; never its secret or their recovery codes.
        "authenticator_app_set_up_at": person.mfa_enrolled_at,
    }


def _session(booking: Booking) -> dict[str, Any]:
    session = booking.session
    return {"course": session.course.title, "session_starts_at": session.starts_at}


def _booking(booking: Booking) -> dict[str, Any]:
    session = booking.session
    return {
        **_session(booking),
        "session_ends_at": session.ends_at,
        "where": session.venue.name if session.venue else session.delivery_mode.label,
        "status": booking.status.label,
        "place_on_waiting_list": booking.queue_position if booking.status.is_waiting else None,
        "agency": booking.agency.name if booking.agency else None,
        "booked_at": booking.created_at,
        "booked_by": booking.booked_by.name if booking.booked_by else None,
        "late_cancellation": booking.is_late_cancellation,
        "reason": booking.reason,
    }


def _saved_needs(saved: SavedAccessNeeds) -> dict[str, Any]:
    return {
        "needs": [need.label for need in saved.needs],
        "details": saved.details,
        "updated_at": saved.updated_at,
    }


def _booking_needs(needs: BookingAccessNeeds, booking: Booking) -> dict[str, Any]:
    return {
        **_session(booking),
        "needs": [need.label for need in needs.needs],
        "details": needs.details,
        "asked_at": needs.requested_at,
        "arranged_at": needs.arranged_at,
        "arranged_by": needs.arranged_by.name if needs.arranged_by else None,
        # After the retention period only the fact that something was asked for is kept.
        "erased_at": needs.erased_at,
    }


def _attendance(booking: Booking) -> dict[str, Any]:
    assert booking.attendance is not None
    return {
        **_session(booking),
        "attendance": booking.attendance.label,
        "minutes_missed": booking.minutes_missed,
        "walk_in": booking.is_walk_in,
        "marked_at": booking.attendance_marked_at,
    }


def _evaluation(evaluation: Evaluation, booking: Booking) -> dict[str, Any]:
    return {
        **_session(booking),
        "when": evaluation.kind.label,
        "confidence_before": evaluation.confidence_before,
        "confidence_after": evaluation.confidence_after,
        "comments": evaluation.comments,
        "submitted_at": evaluation.submitted_at,
    }


def _charge(charge: Charge, booking: Booking) -> dict[str, Any]:
    return {
        **_session(booking),
        "agency": charge.agency.name if charge.agency else None,
        "reason": charge.reason.label,
        "amount_pence": charge.amount_pence,
        "status": charge.status.label,
        "raised_at": charge.raised_at,
        "decided_at": charge.decided_at,
        "decided_reason": charge.decided_reason,
    }
