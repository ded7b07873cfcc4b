"""Queue messages in the caller's transaction; deliver them with retries."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from trainapp import audit
from trainapp.db import rows_changed, utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import db
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.notifications.transports import TransportUnavailable, configured_transport, failure_text
from trainapp.text import one_line
from trainapp.timezones import format_datetime as format_datetime_local

SUBJECT_LENGTH = OutboxMessage.subject.type.length
REASON_LENGTH = OutboxMessage.reason.type.length


def render_email(template: str, **context) -> tuple[str, str]:
    """(subject, body) from ``templates/email/<template>.txt``.

    Each template names its subject in a ``subject`` block and its text in a ``body`` block, so
    a line break in a name or title inside the body can never become, or end, the subject.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy method Flask's hints omit
    page = app.jinja_env.get_template(f"email/{template}.txt")
    app.update_template_context(context)
    subject = "".join(page.blocks["subject"](page.new_context(context)))
    body = "".join(page.blocks["body"](page.new_context(context)))
    return _subject_line(subject), body.strip() + "\n"


def _subject_line(text: str) -> str:
    """One line that fits the column: names and titles stored before one-line fields were
    checked may hold line breaks, and a long course title must not make the insert fail."""
    subject = one_line(text)
    return subject if len(subject) <= SUBJECT_LENGTH else subject[: SUBJECT_LENGTH - 1].rstrip() + "…"


def queue_email(
    recipient: str,
    template: str,
    *,
    dedupe_key: str | None = None,
    calendar: str | None = None,
    calendar_method: str | None = None,
    useless_after: datetime | None = None,
    **context,
) -> OutboxMessage | None:
    """Render ``templates/email/<template>.txt`` and add it to the outbox.

    With a ``dedupe_key`` already queued, nothing is added and None is returned. A message with
    ``useless_after`` is dropped, not sent, if it cannot go out before then.
    """
    if dedupe_key is not None and _already_queued(dedupe_key):
        return None
    subject, body = render_email(template, **context)
    now = utcnow()
    insert = (
        _dialect_insert()(OutboxMessage)
        .values(
            recipient=recipient,
            kind=template,
            subject=subject,
            body=body,
            calendar=calendar,
            calendar_method=calendar_method,
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
            created_at=now,
            queued_at=now,
            next_attempt_at=now,
            useless_after=useless_after,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
        .returning(OutboxMessage)
    )
    return db.session.scalars(insert).one_or_none()


@dataclass(frozen=True)
class Email:
    """One message for ``queue_emails``: the same arguments as ``queue_email`` takes."""

    recipient: str
    template: str
    context: dict
    useless_after: datetime | None = None


def queue_emails(emails: list[Email]) -> int:
    """Render many messages and add them in one statement (thousands at once: a staff list's
    welcomes); none has a dedupe key, so none is skipped. Returns how many were added."""
    now = utcnow()
    rows = []
    for email in emails:
        subject, body = render_email(email.template, **email.context)
        rows.append(
            {
                "recipient": email.recipient,
                "kind": email.template,
                "subject": subject,
                "body": body,
                "status": OutboxStatus.PENDING,
                "created_at": now,
                "queued_at": now,
                "next_attempt_at": now,
                "useless_after": email.useless_after,
                "attempts": 0,
            }
        )
    if rows:
        db.session.execute(sa.insert(OutboxMessage), rows)
    return len(rows)


def _already_queued(dedupe_key: str) -> bool:
    """Only saves rendering for a job that runs again: the insert's ON CONFLICT is what
    guarantees one copy when two hosts queue the same key at the same moment."""
    query = sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return db.session.scalar(query) is not None


def _dialect_insert():
    """The insert with ON CONFLICT for the database in use."""
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"The outbox needs PostgreSQL or SQLite, not {name}.")


def build_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    # Address() quotes the name: a comma in it must not split the sender into two addresses.
    email["From"] = Address(one_line(config["ORGANISATION_NAME"]), addr_spec=config["MAIL_FROM"])
    # Address() refuses an address that is not one: nothing but the address reaches the header.
    email["To"] = Address(addr_spec=message.recipient)
    email["Subject"] = one_line(message.subject)
    # When the message was made, not when a retry got it out; the same ID on every attempt, so
    # a message delivered twice after a lost reply is recognised as one.
    email["Date"] = format_datetime(message.created_at, usegmt=True)
    email["Message-ID"] = message_id(message)
    email.set_content(message.body)
    if message.calendar:
        method = message.calendar_method or "PUBLISH"
        email.add_attachment(
            message.calendar.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            # iCalendar is UTF-8; without the charset, MIME's default (US-ASCII) garbles "Zoë".
            params={"method": method, "charset": "utf-8"},
        )
    return email


def message_id(message: OutboxMessage) -> str:
    domain = current_app.config["MAIL_FROM"].partition("@")[2] or "localhost"
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


SEND_LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
log = logging.getLogger("trainapp.outbox")


@dataclass
class DeliveryReport:
    """What one run of the sender did, for a terminal, cron mail and the log."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0
    first_error: str | None = None
    # The mail server could not be reached, so the run stopped without trying the rest.
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.dropped

    def line(self) -> str:
        failed = f"failed {self.failed}"
        if self.first_error:
            failed += f" (first error: {self.first_error})"
        line = f"outbox: sent {self.sent}, {failed}, dropped {self.dropped}"
        if self.stopped_early:
            line += "; stopped: the mail server could not be reached, the rest wait for the next run"
        return line

    def count_failure(self, error: str | None) -> None:
        self.failed += 1
        self.first_error = self.first_error or error


def send_due_messages(limit: int = 100) -> DeliveryReport:
    """Deliver up to ``limit`` due messages over one connection, committing each outcome."""
    report = DeliveryReport()
    with configured_transport() as transport:
        while report.handled < limit:
            now = utcnow()
            message = _claim_next(now)
            if message is None:
                break
            if message.is_useless_at(now):
                _drop(message, now)
                db.session.commit()
                report.dropped += 1
                continue
            try:
                transport.send(build_email(message), message.id)
            except Exception as error:  # noqa: BLE001 - any failure must leave the row to retry
                _record_failure(message, failure_text(error), utcnow())
                db.session.commit()
                report.count_failure(message.last_error)
                if isinstance(error, TransportUnavailable):
                    report.stopped_early = True
                    break
            else:
                # Committed before the next message: once accepted, never sent again.
                _mark_sent(message, utcnow())
                db.session.commit()
                report.sent += 1
    return report


def _claim_next(now: datetime) -> OutboxMessage | None:
    """Lease the longest-waiting due message so no other sender takes it while it is sent.

    Ordered by when it fell due, so a message that keeps failing goes to the back of the
    queue and does not hold up the others. The lease is committed before sending, so a slow
    mail server holds no lock, and a sender that dies mid-send leaves the message to be tried
    again when its lease runs out.
    """
    query = (
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    message = db.session.scalar(query)
    if message is None:
        # End the (empty) transaction so SQLite's write lock is not held while idle.
        db.session.commit()
        return None
    if not message.is_useless_at(now):
        message.claimed_until = now + SEND_LEASE
        message.attempts += 1
        db.session.commit()
    return message


def _retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failed attempt, never more than the ceiling."""
    ceiling = timedelta(minutes=current_app.config["OUTBOX_RETRY_CEILING_MINUTES"])
    doublings = min(max(attempts - 1, 0), 20)
    return min(FIRST_RETRY * 2**doublings, ceiling)


def _record_failure(message: OutboxMessage, error: str, now: datetime) -> None:
    """Try again later, until the retry period since it was queued has run out."""
    message.claimed_until = None
    message.last_error = error[:2000]
    retry_for = timedelta(hours=current_app.config["OUTBOX_RETRY_FOR_HOURS"])
    if now >= message.queued_at + retry_for:
        message.status.check_transition(OutboxStatus.FAILED)
        message.status = OutboxStatus.FAILED
        message.failed_at = now
        log.warning("outbox: message %s failed after %s attempts: %s", message.id, message.attempts, error)
    else:
        message.next_attempt_at = now + _retry_delay(message.attempts)
        log.info("outbox: message %s will be retried: %s", message.id, error)


def _mark_sent(message: OutboxMessage, now: datetime) -> None:
    message.status.check_transition(OutboxStatus.SENT)
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.claimed_until = None
    message.last_error = None


def _drop(message: OutboxMessage, now: datetime) -> None:
    message.status.check_transition(OutboxStatus.DROPPED)
    message.status = OutboxStatus.DROPPED
    message.dropped_at = now
    until = format_datetime_local(message.useless_after)
    message.reason = f"Too late to be useful: it mattered only until {until}"[:REASON_LENGTH]
    log.info("outbox: message %s dropped: %s", message.id, message.reason)


def requeue(message: OutboxMessage, *, by, now: datetime) -> None:
    """Give a failed message a fresh retry period, starting now."""
    if message.status == OutboxStatus.FAILED and message.purged_at is not None:
        raise InvalidTransition("This message's text has been removed, so it cannot be sent again")
    message.status.check_transition(OutboxStatus.PENDING)
    audit.record(
        by,
        "outbox.requeued",
        message,
        before={"status": str(message.status), "last_error": message.last_error},
        after={"status": str(OutboxStatus.PENDING)},
        at=now,
    )
    message.status = OutboxStatus.PENDING
    message.queued_at = message.next_attempt_at = now
    message.failed_at = None
    db.session.flush()


def requeue_failed(now: datetime, *, by=None) -> tuple[int, int]:
    """Re-queue every failed message that still has its text: (re-queued, left failed)."""
    failed = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED).order_by(OutboxMessage.id)
    ).all()
    requeued = 0
    for message in failed:
        if message.can_be_requeued:
            requeue(message, by=by, now=now)
            requeued += 1
    return requeued, len(failed) - requeued


def make_pending_due(now: datetime) -> int:
    """Bring every waiting message's next attempt forward to now (after the mail server is
    mended, say); returns how many were waiting. A message being sent keeps its lease."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


@dataclass
class RetryReport:
    due_now: int
    requeued: int | None = None  # None: failed messages were not asked about
    left_failed: int = 0

    def line(self) -> str:
        line = f"outbox: {self.due_now} waiting message(s) now due"
        if self.requeued is not None:
            line += f", {self.requeued} failed message(s) queued again"
            if self.left_failed:
                line += f", {self.left_failed} left failed because their text has been removed"
        return line + "; run 'outbox send' to send them."


def retry_messages(*, include_failed: bool) -> RetryReport:
    """What `outbox retry` does: every waiting message due now and, if asked, failed ones
    queued again."""
    now = utcnow()
    report = RetryReport(due_now=0)
    if include_failed:
        report.requeued, report.left_failed = requeue_failed(now)
    report.due_now = make_pending_due(now)
    return report


def purge_old_messages(now: datetime) -> int:
    """Remove the body and attachment of messages kept long enough; returns how many.

    Sent messages are kept OUTBOX_KEEP_SENT_DAYS after sending, failed and dropped ones
    OUTBOX_KEEP_FAILED_DAYS after they ended. The row stays (recipient, kind, subject, times,
    status), so support can still answer "was it sent?".
    """
    config = current_app.config
    sent_before = now - timedelta(days=config["OUTBOX_KEEP_SENT_DAYS"])
    ended_before = now - timedelta(days=config["OUTBOX_KEEP_FAILED_DAYS"])
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.purged_at.is_(None),
            sa.or_(
                sa.and_(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < sent_before),
                sa.and_(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.failed_at < ended_before),
                sa.and_(OutboxMessage.status == OutboxStatus.DROPPED, OutboxMessage.dropped_at < ended_before),
            ),
        )
        .values(body="", calendar=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


@dataclass(frozen=True)
class OutboxSummary:
    pending: int
    oldest_pending_at: datetime | None
    failed: int
    sent_recently: int
    dropped_recently: int


def outbox_summary(now: datetime, days: int) -> OutboxSummary:
    """What a coordinator needs to see at a glance: waiting, failed, and the last ``days``."""
    since = now - timedelta(days=days)
    pending, oldest = db.session.execute(
        sa.select(sa.func.count(OutboxMessage.id), sa.func.min(OutboxMessage.queued_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    ).one()

    def count(*conditions) -> int:
        return db.session.execute(sa.select(sa.func.count(OutboxMessage.id)).where(*conditions)).scalar_one()

    return OutboxSummary(
        pending=pending,
        oldest_pending_at=oldest,
        failed=failed_message_count(),
        sent_recently=count(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at >= since),
        dropped_recently=count(OutboxMessage.status == OutboxStatus.DROPPED, OutboxMessage.dropped_at >= since),
    )


def failed_message_count() -> int:
    """Messages that ran out of retries and wait for a coordinator to queue them again."""
    return db.session.execute(
        sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.FAILED)
    ).scalar_one()


def failed_messages_query() -> sa.Select:
    """Failed messages, most recent first, for the outbox page."""
    return (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
    )
