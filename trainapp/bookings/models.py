"""A person's place (or hope of one) on a session, and places held back for agencies."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from trainapp.accounts.models import Agency, User
from trainapp.catalogue.models import TrainingSession
from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import Model


class BookingStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    AWAITING_APPROVAL = "awaiting_approval"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return BOOKING_STATUS_LABELS[self]

    # Pages and emails ask these rather than comparing the stored strings.
    @property
    def is_confirmed(self) -> bool:
        return self is BookingStatus.CONFIRMED

    @property
    def is_awaiting_approval(self) -> bool:
        return self is BookingStatus.AWAITING_APPROVAL

    @property
    def is_waiting(self) -> bool:
        return self is BookingStatus.WAITING

    @property
    def holds_place(self) -> bool:
        return self in HOLDING

    @property
    def is_live(self) -> bool:
        """Booked, awaiting approval or waiting: the person still expects to go."""
        return self in LIVE

    def check_transition(self, target: "BookingStatus") -> None:
        if target not in BOOKING_TRANSITIONS[self]:
            raise InvalidTransition(f"A booking that is {self.label.lower()} cannot become {target.label.lower()}")


BOOKING_STATUS_LABELS = {
    BookingStatus.CONFIRMED: "Booked",
    BookingStatus.AWAITING_APPROVAL: "Awaiting approval",
    BookingStatus.WAITING: "On the waiting list",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.DECLINED: "Declined",
    BookingStatus.EXPIRED: "Request expired",
}
HOLDING = frozenset({BookingStatus.CONFIRMED, BookingStatus.AWAITING_APPROVAL})
LIVE = HOLDING | {BookingStatus.WAITING}
_ENDED = frozenset({BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED})

# Written once: every status change in the services goes through check_transition.
BOOKING_TRANSITIONS = {
    BookingStatus.WAITING: {
        BookingStatus.CONFIRMED,
        BookingStatus.AWAITING_APPROVAL,
        BookingStatus.CANCELLED,
    },
    BookingStatus.AWAITING_APPROVAL: {
        BookingStatus.CONFIRMED,
        BookingStatus.DECLINED,
        BookingStatus.EXPIRED,
        BookingStatus.CANCELLED,
    },
    BookingStatus.CONFIRMED: {BookingStatus.CANCELLED},
    # Booking again after an ended booking reuses the person's row for that session.
    **{ended: set(LIVE) for ended in _ENDED},
}


class AttendanceStatus(enum.StrEnum):
    """What the register says happened. It lives on the booking, so every feature above
    bookings (prerequisites, certificates, charges, reports) reads one column."""

    ATTENDED = "attended"
    PARTIAL = "partial"
    TURNED_AWAY = "turned_away"
    NO_SHOW = "no_show"
    UNABLE = "unable"

    @property
    def label(self) -> str:
        return ATTENDANCE_LABELS[self]

    @property
    def was_there(self) -> bool:
        return self in PRESENT

    @property
    def tells_the_agency(self) -> bool:
        return self in {AttendanceStatus.NO_SHOW, AttendanceStatus.TURNED_AWAY}


# The register says the person came, fully or partly. Completing the course is a stricter
# rule, that depends on the course: see bookings.completion.
PRESENT = frozenset({AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL})

ATTENDANCE_LABELS = {
    AttendanceStatus.ATTENDED: "Attended",
    AttendanceStatus.PARTIAL: "Partially attended",
    AttendanceStatus.TURNED_AWAY: "Late and turned away",
    AttendanceStatus.NO_SHOW: "No-show",
    AttendanceStatus.UNABLE: "Unable to attend (gave notice)",
}


class Booking(Model):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("training_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The person's agency when they booked: reports and charges follow it, not later moves.
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id", ondelete="SET NULL"), index=True)
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus), index=True)
    # Set when the place taken is one held back for this agency.
    reserved_for_agency_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="SET NULL"), index=True
    )
    queue_position: Mapped[int | None] = mapped_column()
    approval_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_late_cancellation: Mapped[bool] = mapped_column(default=False)
    transferred_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # The register: marked by the trainer on the day. Walk-ins come without a place.
    attendance: Mapped[AttendanceStatus | None] = mapped_column(enum_type(AttendanceStatus))
    minutes_missed: Mapped[int | None] = mapped_column()
    is_walk_in: Mapped[bool] = mapped_column(default=False)
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_marked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The SEQUENCE of the last iCalendar REQUEST or CANCEL emailed to this person for the
    # session (None before the first). Each new one must be higher, or calendar programs
    # ignore it: see bookings.messages.
    invitation_sequence: Mapped[int | None] = mapped_column()

    session: Mapped[TrainingSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id])
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    transferred_to: Mapped[User | None] = relationship(foreign_keys=[transferred_to_id])
    attendance_marked_by: Mapped[User | None] = relationship(foreign_keys=[attendance_marked_by_id])

    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id"),
        sa.Index("ix_bookings_session_status", "session_id", "status"),
        sa.CheckConstraint("minutes_missed IS NULL OR minutes_missed > 0", name="minutes_missed_positive"),
    )

    def can_be_seen_by(self, user: User) -> bool:
        return user.id == self.user_id or user.can_manage_staff_of(self.agency_id)

    def can_be_cancelled_by(self, user: User, now: datetime) -> bool:
        return self.status.is_live and self.session.starts_at > now and self.can_be_seen_by(user)

    def can_be_approved_by(self, user: User) -> bool:
        """Who decides a request for a place: the person's agency lead, or a coordinator."""
        return user.can_manage_staff_of(self.agency_id)

    @staticmethod
    def approvable_by(user: User) -> sa.ColumnElement[bool]:
        """``can_be_approved_by`` as a query filter: the bookings this person may decide."""
        if user.is_coordinator:
            return sa.true()
        if user.is_agency_lead and user.agency_id is not None:
            return Booking.agency_id == user.agency_id
        return sa.false()

    def snapshot(self) -> dict:
        return {"status": str(self.status), "queue_position": self.queue_position}

    def attendance_snapshot(self) -> dict:
        return {
            "attendance": str(self.attendance) if self.attendance else None,
            "minutes_missed": self.minutes_missed,
        }


class AgencyReservation(Model):
    """Places on a session only one agency's staff may take, until a release date."""

    __tablename__ = "agency_reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("training_sessions.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    places: Mapped[int] = mapped_column()
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[TrainingSession] = relationship()
    agency: Mapped[Agency] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("session_id", "agency_id"),
        sa.CheckConstraint("places >= 1", name="places_positive"),
    )

    def is_held(self, now: datetime) -> bool:
        return self.released_at is None and self.release_at > now


class AccessNeed(enum.StrEnum):
    """Adjustments people commonly ask for to take part (Equality Act 2010 reasonable adjustments)."""

    HEARING_LOOP = "hearing_loop"
    STEP_FREE = "step_free"
    BSL_INTERPRETER = "bsl_interpreter"
    LARGE_PRINT = "large_print"
    QUIET_SPACE = "quiet_space"
    DIETARY = "dietary"
    OTHER = "other"

    @property
    def label(self) -> str:
        return ACCESS_NEED_LABELS[self]


ACCESS_NEED_LABELS = {
    AccessNeed.HEARING_LOOP: "Hearing loop",
    AccessNeed.STEP_FREE: "Step-free access",
    AccessNeed.BSL_INTERPRETER: "British Sign Language (BSL) interpreter",
    AccessNeed.LARGE_PRINT: "Large print",
    AccessNeed.QUIET_SPACE: "Quiet space",
    AccessNeed.DIETARY: "Dietary requirement",
    AccessNeed.OTHER: "Other",
}


def _joined(needs: list[AccessNeed]) -> str:
    return ",".join(need.value for need in AccessNeed if need in needs)


def _split(text: str) -> list[AccessNeed]:
    return [AccessNeed(value) for value in text.split(",") if value]


class _NeedsList:
    """The ticked needs, stored as one comma-separated column ``needs_text`` in the enum's order."""

    needs_text: Mapped[str]

    @property
    def needs(self) -> list[AccessNeed]:
        return _split(self.needs_text)

    @needs.setter
    def needs(self, needs: list[AccessNeed]) -> None:
        self.needs_text = _joined(needs)


class BookingAccessNeeds(_NeedsList, Model):
    """What a person asked for to take part in one session: special-category (health) data.

    Seen only by the person, their agency lead, the session's trainers and coordinators. After
    the session ends plus ACCESS_NEEDS_KEEP_DAYS, `jobs run` erases what was asked (needs and
    details) and keeps the row, so the board report can still count requests and those met.
    """

    __tablename__ = "booking_access_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    needs_text: Mapped[str] = mapped_column("needs", sa.String(200), default="")
    details: Mapped[str] = mapped_column(sa.Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A coordinator marks the adjustment arranged (venue, interpreter booked...).
    arranged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arranged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking: Mapped[Booking] = relationship(backref=backref("access_needs", uselist=False, passive_deletes=True))
    arranged_by: Mapped[User | None] = relationship(foreign_keys=[arranged_by_id])


class SavedAccessNeeds(_NeedsList, Model):
    """Needs a person keeps on their profile to offer again next time they book."""

    __tablename__ = "saved_access_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    needs_text: Mapped[str] = mapped_column("needs", sa.String(200), default="")
    details: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
