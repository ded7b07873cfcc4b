"""Register submissions, evaluations and certificates. The marks themselves live on bookings."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.accounts.models import User
from trainapp.bookings.models import Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.extensions import Model


class RegisterSubmission(Model):
    __tablename__ = "register_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("training_sessions.id", ondelete="CASCADE"), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    session: Mapped[TrainingSession] = relationship()
    submitted_by: Mapped[User | None] = relationship()


class EvaluationKind(enum.StrEnum):
    AFTER = "after"
    FOLLOW_UP = "follow_up"

    @property
    def label(self) -> str:
        return "Straight after the course" if self == EvaluationKind.AFTER else "Eight weeks later"


class Evaluation(Model):
    """How confident a learner felt before and after, kept apart from their name in reports."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvaluationKind] = mapped_column(enum_type(EvaluationKind))
    confidence_before: Mapped[int] = mapped_column()
    confidence_after: Mapped[int] = mapped_column()
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("booking_id", "kind"),
        sa.CheckConstraint("confidence_before BETWEEN 1 AND 5", name="before_range"),
        sa.CheckConstraint("confidence_after BETWEEN 1 AND 5", name="after_range"),
    )


class Certificate(Model):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    # Random, so numbers cannot be guessed by counting through them on the public check page.
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship()
