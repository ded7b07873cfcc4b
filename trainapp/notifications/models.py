"""Outbox rows: one per message, kept after a failed attempt and, without its body, after sending."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import Model


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # Still not delivered when its retry period ran out: a coordinator may queue it again.
    FAILED = "failed"
    # No longer useful by the time it could go (a reminder for a session that has started).
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return OUTBOX_STATUS_LABELS[self]

    def check_transition(self, target: "OutboxStatus") -> None:
        if target not in OUTBOX_TRANSITIONS[self]:
            raise InvalidTransition(f"A message that is {self.label.lower()} cannot become {target.label.lower()}")


OUTBOX_STATUS_LABELS = {
    OutboxStatus.PENDING: "Waiting to be sent",
    OutboxStatus.SENT: "Sent",
    OutboxStatus.FAILED: "Failed",
    OutboxStatus.DROPPED: "Dropped",
}

# Written once: every status change in the services goes through check_transition.
OUTBOX_TRANSITIONS = {
    OutboxStatus.PENDING: {OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.DROPPED},
    OutboxStatus.FAILED: {OutboxStatus.PENDING},
    OutboxStatus.SENT: set(),
    OutboxStatus.DROPPED: set(),
}


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    # The template's name (booking_reminder, joining_link...): what the message was, for support,
    # after its body has been removed.
    kind: Mapped[str | None] = mapped_column(sa.String(60))
    subject: Mapped[str] = mapped_column(sa.String(250))
    # Emptied once the message has been kept long enough (see purged_at).
    body: Mapped[str] = mapped_column(sa.Text)
    # A calendar invitation or cancellation to attach, with its iTIP method.
    calendar: Mapped[str | None] = mapped_column(sa.Text)
    calendar_method: Mapped[str | None] = mapped_column(sa.String(16))
    # Stops the same message being queued twice by a job that runs again.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus), default=OutboxStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it was last put in the queue (made, or re-queued by a coordinator): the retry
    # period counts from here.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sender's lease while it talks to the mail server: no other sender takes the message
    # until then, and a sender that dies mid-send leaves it to be tried again afterwards.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After this moment the message would arrive too late to help, so it is dropped instead.
    useless_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was dropped, in words a coordinator can pass on.
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    # When the body and attachment were removed, keeping who, what kind and when.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_messages_sent", "status", "sent_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    def is_useless_at(self, now: datetime) -> bool:
        return self.useless_after is not None and self.useless_after <= now

    @property
    def can_be_requeued(self) -> bool:
        """A failed message whose text is still kept."""
        return self.status == OutboxStatus.FAILED and self.purged_at is None
