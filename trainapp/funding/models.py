"""Money in integer pence: grants, what they are allocated to, what was spent, what was charged."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.accounts.models import Agency, User
from trainapp.bookings.models import Booking
from trainapp.catalogue.models import Course, Programme, TrainingSession
from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import Model


class GrantStatus(enum.StrEnum):
    EXPECTED = "expected"
    AWARDED = "awarded"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    def check_transition(self, target: "GrantStatus") -> None:
        if target != self and target not in GRANT_TRANSITIONS[self]:
            raise InvalidTransition(f"A {self.value} grant cannot become {target.value}")


GRANT_TRANSITIONS = {
    GrantStatus.EXPECTED: {GrantStatus.AWARDED, GrantStatus.CLOSED},
    GrantStatus.AWARDED: {GrantStatus.CLOSED},
    GrantStatus.CLOSED: {GrantStatus.AWARDED},  # reopened to correct its accounts
}


class Grant(Model):
    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    funder: Mapped[str] = mapped_column(sa.String(200))
    reference: Mapped[str] = mapped_column(sa.String(100), default="")
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    match_funding_pence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[GrantStatus] = mapped_column(enum_type(GrantStatus), default=GrantStatus.EXPECTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allocations: Mapped[list["Allocation"]] = relationship(back_populates="grant", order_by="Allocation.id")

    __table_args__ = (
        sa.CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        sa.CheckConstraint("match_funding_pence >= 0", name="match_not_negative"),
        sa.CheckConstraint("ends_on >= starts_on", name="window_order"),
    )

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "funder": self.funder,
            "reference": self.reference,
            "amount_pence": self.amount_pence,
            "match_funding_pence": self.match_funding_pence,
            "starts_on": self.starts_on.isoformat() if self.starts_on else None,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "status": str(self.status) if self.status else None,
        }


class Allocation(Model):
    """Part of a grant set aside for a programme or one course."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("grants.id", ondelete="RESTRICT"), index=True)
    programme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("programmes.id", ondelete="RESTRICT"), index=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="allocations")
    programme: Mapped[Programme | None] = relationship()
    course: Mapped[Course | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        sa.CheckConstraint("(programme_id IS NULL) <> (course_id IS NULL)", name="one_target"),
    )

    @property
    def target_name(self) -> str:
        if self.course is not None:
            return self.course.title
        assert self.programme is not None, "an allocation is for one course or one programme (one_target)"
        return self.programme.name


class CostCategory(enum.StrEnum):
    TRAINER = "trainer"
    VENUE = "venue"
    MATERIALS = "materials"
    LICENCES = "licences"
    CATERING = "catering"
    TRAVEL = "travel"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class CostState(enum.StrEnum):
    COMMITTED = "committed"
    PAID = "paid"


class CostLine(Model):
    """Money spent (or promised) on a session or a programme, charged to one allocation."""

    __tablename__ = "cost_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(sa.ForeignKey("allocations.id", ondelete="RESTRICT"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("training_sessions.id", ondelete="RESTRICT"), index=True
    )
    programme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("programmes.id", ondelete="RESTRICT"), index=True)
    category: Mapped[CostCategory] = mapped_column(enum_type(CostCategory))
    amount_pence: Mapped[int] = mapped_column(sa.BigInteger)
    state: Mapped[CostState] = mapped_column(enum_type(CostState))
    incurred_on: Mapped[date] = mapped_column(sa.Date)
    supplier: Mapped[str] = mapped_column(sa.String(200), default="")
    reference: Mapped[str] = mapped_column(sa.String(100), default="")
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    allocation: Mapped[Allocation] = relationship()
    session: Mapped[TrainingSession | None] = relationship()
    programme: Mapped[Programme | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_pence > 0", name="amount_positive"),
        sa.CheckConstraint("(session_id IS NULL) <> (programme_id IS NULL)", name="one_target"),
    )


class ChargingPolicy(Model):
    """The partnership's rates; one row, changed over time and audited."""

    __tablename__ = "charging_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_day_pence: Mapped[int] = mapped_column(default=5000)
    partner_half_day_pence: Mapped[int] = mapped_column(default=3500)
    non_partner_day_pence: Mapped[int] = mapped_column(default=9000)
    non_partner_half_day_pence: Mapped[int] = mapped_column(default=5000)
    # Sessions this long or shorter are charged at the half-day rate.
    half_day_max_minutes: Mapped[int] = mapped_column(default=240)
    credit_grant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grants.id", ondelete="SET NULL"), index=True)

    credit_grant: Mapped[Grant | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "partner_day_pence >= 0 AND partner_half_day_pence >= 0 AND non_partner_day_pence >= 0 "
            "AND non_partner_half_day_pence >= 0",
            name="rates_not_negative",
        ),
    )


class ChargeExemption(Model):
    __tablename__ = "charge_exemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)

    agency: Mapped[Agency] = relationship()


class ChargeReason(enum.StrEnum):
    NO_SHOW = "no_show"
    TURNED_AWAY = "turned_away"
    LATE_CANCELLATION = "late_cancellation"

    @property
    def label(self) -> str:
        return {
            "no_show": "No-show",
            "turned_away": "Late and turned away",
            "late_cancellation": "Late cancellation",
        }[self.value]


class ChargeStatus(enum.StrEnum):
    RAISED = "raised"
    WAIVED = "waived"
    WITHDRAWN = "withdrawn"  # the register was corrected: the person did attend

    @property
    def label(self) -> str:
        return self.value.capitalize()

    def check_transition(self, target: "ChargeStatus") -> None:
        if target not in CHARGE_TRANSITIONS[self]:
            raise InvalidTransition(f"A {self.value} charge cannot become {target.value}")


CHARGE_TRANSITIONS = {
    ChargeStatus.RAISED: {ChargeStatus.WAIVED, ChargeStatus.WITHDRAWN},
    ChargeStatus.WAIVED: set(),
    ChargeStatus.WITHDRAWN: {ChargeStatus.RAISED},
}


class Charge(Model):
    """What an agency owes for a wasted place; one per booking."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id", ondelete="SET NULL"), index=True)
    reason: Mapped[ChargeReason] = mapped_column(enum_type(ChargeReason))
    amount_pence: Mapped[int] = mapped_column()
    status: Mapped[ChargeStatus] = mapped_column(enum_type(ChargeStatus), default=ChargeStatus.RAISED, index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credit_grant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grants.id", ondelete="SET NULL"), index=True)

    booking: Mapped[Booking] = relationship()
    agency: Mapped[Agency | None] = relationship()
    decided_by: Mapped[User | None] = relationship()
    credit_grant: Mapped[Grant | None] = relationship()

    __table_args__ = (sa.CheckConstraint("amount_pence >= 0", name="amount_not_negative"),)
