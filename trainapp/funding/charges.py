"""Non-attendance charges: raised from registers and late cancellations, waived with a reason."""

from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import joinedload

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import Agency, User
from trainapp.attendance.signals import attendance_marked
from trainapp.bookings.models import AttendanceStatus, Booking
from trainapp.bookings.signals import booking_cancelled
from trainapp.catalogue.models import TrainingSession
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.funding.models import Charge, ChargeReason, ChargeStatus
from trainapp.funding.services import CHANGE_MONEY, is_exempt, policy
from trainapp.timezones import local_to_utc

# Keyed by a booking's mark, which is None until the register is marked (no charge then).
REASON_FOR_MARK: dict[AttendanceStatus | None, ChargeReason] = {
    AttendanceStatus.NO_SHOW: ChargeReason.NO_SHOW,
    AttendanceStatus.TURNED_AWAY: ChargeReason.TURNED_AWAY,
}


def rate_for(booking: Booking) -> int:
    """The day or half-day rate for the booking's agency, from the current policy."""
    rates = policy()
    session = booking.session
    minutes = (session.ends_at - session.starts_at).total_seconds() / 60
    half = minutes <= rates.half_day_max_minutes
    partner = booking.agency.is_partner if booking.agency else False
    if partner:
        return rates.partner_half_day_pence if half else rates.partner_day_pence
    return rates.non_partner_half_day_pence if half else rates.non_partner_day_pence


def _existing(booking: Booking) -> Charge | None:
    return db.session.scalar(sa.select(Charge).where(Charge.booking_id == booking.id))


def raise_charge(booking: Booking, reason: ChargeReason, *, by: User | None) -> Charge | None:
    """Charge the booking's agency, unless it is exempt or already charged for this booking."""
    if booking.attendance is not None and booking.attendance.was_there:
        raise DomainError(f"{booking.user.name} attended: there is nothing to charge")
    if is_exempt(booking.agency_id):
        return None
    charge = _existing(booking)
    if charge is not None:
        if charge.status == ChargeStatus.WITHDRAWN:
            charge.status.check_transition(ChargeStatus.RAISED)
            charge.status, charge.reason, charge.raised_at = ChargeStatus.RAISED, reason, utcnow()
            audit.record(
                by,
                "charge.raised",
                charge,
                before={"status": "withdrawn"},
                after={"status": "raised", "reason": str(reason)},
            )
        elif charge.status == ChargeStatus.RAISED and charge.reason != reason:
            # A corrected register (no-show -> turned away): the statement gives the real reason.
            audit.record(
                by, "charge.updated", charge, before={"reason": str(charge.reason)}, after={"reason": str(reason)}
            )
            charge.reason = reason
        return charge
    charge = Charge(
        booking=booking,
        agency_id=booking.agency_id,
        reason=reason,
        amount_pence=rate_for(booking),
        raised_at=utcnow(),
        credit_grant_id=policy().credit_grant_id,
    )
    db.session.add(charge)
    db.session.flush()
    audit.record(
        by,
        "charge.raised",
        charge,
        after={"reason": str(reason), "amount_pence": charge.amount_pence, "agency_id": charge.agency_id},
    )
    return charge


def _withdraw(booking: Booking, *, by: User | None) -> None:
    charge = _existing(booking)
    was_there = booking.attendance is not None and booking.attendance.was_there
    if (
        charge is not None
        and charge.status == ChargeStatus.RAISED
        # Booked again after cancelling late, and came: nothing was wasted after all.
        and (charge.reason != ChargeReason.LATE_CANCELLATION or was_there)
    ):
        charge.status = ChargeStatus.WITHDRAWN
        charge.decided_by, charge.decided_at = by, utcnow()
        charge.decided_reason = "The register was corrected"
        audit.record(by, "charge.withdrawn", charge, before={"status": "raised"}, after={"status": "withdrawn"})


def _on_attendance_marked(booking: Booking, by: User | None = None, **_):
    reason = REASON_FOR_MARK.get(booking.attendance)
    if reason is not None:
        raise_charge(booking, reason, by=by)
    else:
        # Attended, or unable with notice: free.
        _withdraw(booking, by=by)


def _on_booking_cancelled(booking: Booking, by: User | None = None, **_):
    if booking.is_late_cancellation:
        raise_charge(booking, ChargeReason.LATE_CANCELLATION, by=by)


def connect_receivers() -> None:
    """Raise charges from registers and late cancellations; create_app calls this for every app.

    Connected here, not by decorators when this module happens to be imported, so no charge
    depends on which pages or commands were loaded. Blinker keys receivers by identity, so
    connecting again (one process, many apps) changes nothing; strong references keep them.
    """
    attendance_marked.connect(_on_attendance_marked, weak=False)
    booking_cancelled.connect(_on_booking_cancelled, weak=False)


def waive(charge_id: int, *, by: User, reason: str) -> Charge:
    """Let an agency off a charge, at the partnership's discretion, with the reason recorded."""
    require_coordinator(by, CHANGE_MONEY)
    charge = db.session.get(Charge, charge_id)
    if charge is None:
        raise DomainError("That charge does not exist")
    if not reason.strip():
        raise DomainError("Enter the reason for waiving this charge", "reason")
    charge.status.check_transition(ChargeStatus.WAIVED)
    charge.status = ChargeStatus.WAIVED
    charge.decided_reason, charge.decided_by, charge.decided_at = reason.strip(), by, utcnow()
    audit.record(
        by,
        "charge.waived",
        charge,
        before={"status": "raised"},
        after={"status": "waived"},
        reason=reason.strip(),
    )
    return charge


@dataclass
class Statement:
    agency: Agency
    month: date
    charges: list[Charge]

    @property
    def raised_pence(self) -> int:
        return sum(c.amount_pence for c in self.charges if c.status == ChargeStatus.RAISED)

    @property
    def waived_pence(self) -> int:
        return sum(c.amount_pence for c in self.charges if c.status == ChargeStatus.WAIVED)


def month_range(month: date) -> tuple[datetime, datetime]:
    start = month.replace(day=1)
    following = start + relativedelta(months=1)
    return local_to_utc(start, time(0)), local_to_utc(following, time(0))


def charges_query(
    *,
    agency_id: int | None = None,
    month: date | None = None,
    status: ChargeStatus | None = None,
    newest_first: bool = False,
):
    query = (
        sa.select(Charge)
        .join(Charge.booking)
        .join(Booking.session)
        .options(
            joinedload(Charge.booking).joinedload(Booking.user),
            joinedload(Charge.booking).joinedload(Booking.session).joinedload(TrainingSession.course),
            joinedload(Charge.agency),
        )
        .where(Charge.status != ChargeStatus.WITHDRAWN)
        .order_by(*((Charge.raised_at.desc(), Charge.id.desc()) if newest_first else (Charge.raised_at, Charge.id)))
    )
    if agency_id is not None:
        query = query.where(Charge.agency_id == agency_id)
    if month is not None:
        start, end = month_range(month)
        query = query.where(Charge.raised_at >= start, Charge.raised_at < end)
    if status is not None:
        query = query.where(Charge.status == status)
    return query


def statement(agency: Agency, month: date) -> Statement:
    """Every charge raised against one agency in one month (local time), for invoicing."""
    charges = db.session.scalars(charges_query(agency_id=agency.id, month=month)).unique().all()
    return Statement(agency, month.replace(day=1), list(charges))
