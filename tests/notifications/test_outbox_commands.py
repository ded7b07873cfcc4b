"""`flask outbox send` and `flask outbox retry` as an operator (or cron) runs them."""

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import queue_plain_email
from trainapp.audit import AuditEvent
from trainapp.notifications.models import OutboxMessage, OutboxStatus


@pytest.fixture
def cli(app, db):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


def _queue(db, count: int) -> list[OutboxMessage]:
    messages = [queue_plain_email(f"person{n}@council.example.org") for n in range(1, count + 1)]
    db.session.commit()
    return messages


def test_send_prints_and_logs_one_line_and_exits_0_when_all_went(cli, db, clock, smtp, caplog):
    _queue(db, 2)

    with caplog.at_level(logging.INFO, logger="trainapp.outbox"):
        result = cli("outbox", "send")

    assert result.exit_code == 0, result.output
    assert result.output == "outbox: sent 2, failed 0, dropped 0\n"
    assert ("trainapp.outbox", logging.INFO, "outbox: sent 2, failed 0, dropped 0") in caplog.record_tuples


def test_send_exits_1_and_names_the_first_error_when_a_delivery_failed(cli, db, clock, smtp, caplog):
    smtp.plan("RCPT", "550 5.1.1 No such user")
    _queue(db, 2)

    with caplog.at_level(logging.INFO, logger="trainapp.outbox"):
        result = cli("outbox", "send")

    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("outbox: sent 1, failed 1 (first error: SMTPRecipientsRefused: ")
    assert "No such user" in line
    assert line.endswith(", dropped 0")
    assert ("trainapp.outbox", logging.ERROR, line) in caplog.record_tuples


def test_send_exits_1_when_the_mail_server_cannot_be_reached(cli, db, clock, mail_server_down):
    _queue(db, 2)

    result = cli("outbox", "send")

    assert result.exit_code == 1
    assert result.output.startswith("outbox: sent 0, failed 1 (first error: ConnectionRefusedError")
    assert "stopped: the mail server could not be reached" in result.output


def test_retry_makes_every_waiting_message_due_now(cli, db, clock, smtp_later):
    messages = _queue(db, 2)
    cli("outbox", "send")
    cli("outbox", "send")
    smtp_later.start()
    assert cli("outbox", "send").output.startswith("outbox: sent 0, failed 0"), "nothing due yet"

    result = cli("outbox", "retry")

    assert result.exit_code == 0, result.output
    assert result.output == "outbox: 2 waiting message(s) now due; run 'outbox send' to send them.\n"
    assert cli("outbox", "send").output == "outbox: sent 2, failed 0, dropped 0\n"
    for message in messages:
        db.session.refresh(message)
        assert message.status == OutboxStatus.SENT


def test_retry_failed_queues_failed_messages_again_with_a_fresh_retry_period(cli, db, clock, smtp):
    failed, purged = _queue(db, 2)
    for message in (failed, purged):
        message.status, message.failed_at = OutboxStatus.FAILED, clock.now - timedelta(days=1)
        message.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    purged.body, purged.purged_at = "", clock.now
    db.session.commit()

    assert cli("outbox", "retry").output.startswith("outbox: 0 waiting message(s) now due;")
    result = cli("outbox", "retry", "--failed")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "outbox: 0 waiting message(s) now due, 1 failed message(s) queued again, "
        "1 left failed because their text has been removed; run 'outbox send' to send them.\n"
    )
    db.session.refresh(failed)
    assert (failed.status, failed.queued_at, failed.failed_at) == (OutboxStatus.PENDING, clock.now, None)
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "outbox.requeued")).all()
    assert (event.entity_type, event.entity_id, event.actor_id) == ("outbox_messages", failed.id, None)

    assert cli("outbox", "send").output == "outbox: sent 1, failed 0, dropped 0\n"
    assert smtp.script.recipients() == [failed.recipient]
