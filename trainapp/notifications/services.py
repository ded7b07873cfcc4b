"""Queue messages in the caller's transaction; deliver them with retries."""

from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from flask import current_app

from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.notifications.transports import configured_transport
from trainapp.text import one_line

SUBJECT_LENGTH = OutboxMessage.subject.type.length


def render_email(template: str, **context) -> tuple[str, str]:
    """(subject, body) from ``templates/email/<template>.txt``.

    Each template names its subject in a ``subject`` block and its text in a ``body`` block, so
    a line break in a name or title inside the body can never become, or end, the subject.
    """
    app = current_app._get_current_object()
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
    **context,
) -> OutboxMessage | None:
    """Render ``templates/email/<template>.txt`` and add it to the outbox.

    With a ``dedupe_key`` already queued, nothing is added and None is returned.
    """
    if dedupe_key is not None:
        exists = db.session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if exists is not None:
            return None
    subject, body = render_email(template, **context)
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        calendar=calendar,
        calendar_method=calendar_method,
    )
    db.session.add(message)
    db.session.flush()
    return message


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


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 240))


def _claim_next() -> OutboxMessage | None:
    """Lease the oldest due message so no other sender takes it while it is sent."""
    query = (
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= utcnow(),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    message = db.session.scalar(query)
    if message is None:
        # End the (empty) transaction so SQLite's write lock is not held while idle.
        db.session.commit()
        return None
    # The lease is committed before sending, so a slow mail server holds no lock,
    # and a sender that dies mid-send leaves the message to be tried again later.
    message.next_attempt_at = utcnow() + SEND_LEASE
    message.attempts += 1
    db.session.commit()
    return message


def send_due_messages(limit: int = 100) -> tuple[int, int]:
    """Deliver due messages one at a time; returns (sent, failed)."""
    transport = configured_transport()
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    sent = failed = 0
    for _ in range(limit):
        message = _claim_next()
        if message is None:
            break
        try:
            transport.send(build_email(message), message.id)
        except Exception as exc:  # noqa: BLE001 - any failure must leave the row to retry
            failed += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED
            else:
                message.next_attempt_at = utcnow() + _retry_delay(message.attempts)
        else:
            sent += 1
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
        db.session.commit()
    return sent, failed


def describe_delivery(sent: int, failed: int) -> str:
    """One line for a person reading cron mail or a terminal."""
    return f"Sent {sent} message(s); {failed} could not be sent and stay in the outbox."
