"""The catalogue: what is taught (courses in programmes), where, when and by whom."""

import enum
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.accounts.models import AgencyKind, User
from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import Model, db

MAX_CAPACITY = 500


class Programme(Model):
    """A strand of training that funding is allocated to (e.g. Up2U Family Practice Model)."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    courses: Mapped[list["Course"]] = relationship(back_populates="programme", order_by="Course.title")


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Course(Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), unique=True)
    level: Mapped[int | None] = mapped_column()
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    audience: Mapped[str] = mapped_column(sa.Text, default="")
    duration_minutes: Mapped[int] = mapped_column()
    cpd_hours: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1), default=Decimal("0"))
    refresher_months: Mapped[int | None] = mapped_column()
    prerequisite_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    # Empty means every kind of agency may book.
    eligible_kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    certificate_needs_evaluation: Mapped[bool] = mapped_column(default=False)
    # Whether partial attendance counts as having done the course, for what requires it.
    partial_counts_as_completed: Mapped[bool] = mapped_column(default=False)
    default_capacity: Mapped[int] = mapped_column(default=20)
    cancellation_notice_days: Mapped[int] = mapped_column(default=5)
    status: Mapped[CourseStatus] = mapped_column(enum_type(CourseStatus), default=CourseStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moved by any change: calendar feeds show the course's title and summary.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="courses")
    prerequisite: Mapped["Course | None"] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint("level IS NULL OR (level >= 1 AND level <= 4)", name="level_range"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("cpd_hours >= 0", name="cpd_not_negative"),
        sa.CheckConstraint(
            f"default_capacity >= 1 AND default_capacity <= {MAX_CAPACITY}", name="default_capacity_range"
        ),
        sa.CheckConstraint("cancellation_notice_days >= 0", name="notice_not_negative"),
        sa.CheckConstraint("refresher_months IS NULL OR refresher_months > 0", name="refresher_positive"),
    )

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def eligible_kind_labels(self) -> list[str]:
        return [AgencyKind(kind).label for kind in self.eligible_kinds]

    def is_open_to(self, kind: AgencyKind | None) -> bool:
        return not self.eligible_kinds or (kind is not None and str(kind) in self.eligible_kinds)

    @property
    def level_label(self) -> str:
        return f"Level {self.level}" if self.level else "No level"


class Venue(Model):
    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    address: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Moved by any change: calendar feeds show the venue's name and address.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeliveryMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "online": "Online", "hybrid": "Hybrid"}[self.value]

    @property
    def needs_venue(self) -> bool:
        return self != DeliveryMode.ONLINE

    @property
    def needs_link(self) -> bool:
        return self != DeliveryMode.IN_PERSON


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"

    def check_transition(self, target: "SessionStatus") -> None:
        if target not in SESSION_TRANSITIONS[self]:
            raise InvalidTransition(f"A {self.value} session cannot become {target.value}")


SESSION_TRANSITIONS = {
    SessionStatus.SCHEDULED: {SessionStatus.CANCELLED, SessionStatus.DELIVERED},
    SessionStatus.CANCELLED: set(),
    SessionStatus.DELIVERED: {SessionStatus.SCHEDULED},
}

session_trainers = sa.Table(
    "session_trainers",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class SessionSeries(Model):
    """Sessions of one course made together, weekly; each stays an ordinary session."""

    __tablename__ = "session_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    weekday: Mapped[int] = mapped_column()
    starts_at_local: Mapped[time] = mapped_column(sa.Time)
    ends_at_local: Mapped[time] = mapped_column(sa.Time)
    first_on: Mapped[date] = mapped_column(sa.Date)
    last_on: Mapped[date] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped["Course"] = relationship()
    sessions: Mapped[list["TrainingSession"]] = relationship(
        back_populates="series", order_by="TrainingSession.starts_at"
    )

    __table_args__ = (sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),)


class TrainingSession(Model):
    """A dated occurrence of a course."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("session_series.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    delivery_mode: Mapped[DeliveryMode] = mapped_column(enum_type(DeliveryMode))
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id", ondelete="RESTRICT"), index=True)
    joining_link: Mapped[str] = mapped_column(sa.String(500), default="")
    capacity: Mapped[int] = mapped_column()
    # Places held (confirmed or awaiting approval): changed only inside the session's
    # locked section, so the CHECK below is the last word against overbooking.
    places_taken: Mapped[int] = mapped_column(default=0)
    booking_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[SessionStatus] = mapped_column(enum_type(SessionStatus), default=SessionStatus.SCHEDULED, index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Raised by every change a calendar must show (time, place, cancellation).
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    course: Mapped[Course] = relationship()
    venue: Mapped[Venue | None] = relationship()
    series: Mapped[SessionSeries | None] = relationship(back_populates="sessions")
    trainers: Mapped[list[User]] = relationship(secondary=session_trainers, order_by=User.name)
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint(f"capacity >= 1 AND capacity <= {MAX_CAPACITY}", name="capacity_range"),
        sa.CheckConstraint("places_taken >= 0 AND places_taken <= capacity", name="places_within_capacity"),
        sa.CheckConstraint("sequence >= 0", name="sequence_not_negative"),
    )

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    def is_past(self, now: datetime) -> bool:
        return self.ends_at <= now

    def snapshot(self) -> dict:
        return {
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "delivery_mode": str(self.delivery_mode),
            "venue_id": self.venue_id,
            "joining_link": self.joining_link,
            "capacity": self.capacity,
            "status": str(self.status),
            "trainer_ids": sorted(t.id for t in self.trainers),
        }
