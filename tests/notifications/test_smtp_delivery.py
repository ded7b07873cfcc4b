"""Delivery to a real SMTP server that misbehaves at each step: nothing lost, nothing sent twice
where the protocol allows it, and an accepted message is sent whatever happens at goodbye."""

from collections import Counter

import pytest
import sqlalchemy as sa

from tests.factories import queue_plain_email
from tests.notifications.smtp_server import DROP
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.notifications.services import send_due_messages


def _queue(db, count: int) -> list[OutboxMessage]:
    messages = [queue_plain_email(f"person{n}@council.example.org") for n in range(1, count + 1)]
    db.session.commit()
    return messages


def _statuses(db) -> list[OutboxStatus]:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage.status).order_by(OutboxMessage.id)).all()


def _send_until_done(clock, runs: int = 5):
    """Run the sender as cron would, a few minutes apart, and add up what it did."""
    reports = []
    for _ in range(runs):
        reports.append(send_due_messages())
        clock.advance(minutes=5)
    return reports


def test_one_connection_serves_a_whole_batch(db, clock, smtp):
    _queue(db, 3)

    report = send_due_messages()

    assert (report.sent, report.failed, report.ok) == (3, 0, True)
    assert smtp.script.greetings == 1
    assert sorted(smtp.script.recipients()) == [f"person{n}@council.example.org" for n in (1, 2, 3)]
    assert _statuses(db) == [OutboxStatus.SENT] * 3


@pytest.mark.parametrize("goodbye", ["421 4.3.2 Service shutting down", DROP], ids=["421", "dropped"])
def test_an_accepted_message_is_sent_whatever_the_server_says_at_quit(db, clock, smtp, goodbye):
    smtp.plan("QUIT", goodbye)
    _queue(db, 2)

    report = send_due_messages()

    assert (report.sent, report.failed, report.ok) == (2, 0, True)
    assert _statuses(db) == [OutboxStatus.SENT] * 2
    # Nothing goes again on the next runs.
    assert sum(r.sent + r.failed for r in _send_until_done(clock)) == 0
    assert len(smtp.received) == 2


STEP_FAULTS = [
    ("EHLO", "421 4.3.2 Too busy"),
    ("EHLO", DROP),
    ("MAIL", "451 4.3.0 Try again later"),
    ("MAIL", "550 5.7.1 Sender rejected"),
    ("MAIL", "421 4.3.2 Closing"),
    ("MAIL", DROP),
    ("RCPT", "450 4.2.1 Mailbox busy"),
    ("RCPT", "550 5.1.1 No such user"),
    ("RCPT", DROP),
    ("DATA", "451 4.3.0 Try again later"),
    ("DATA", "554 5.5.1 No valid recipients"),
    ("DATA", DROP),
    ("DATA-END", "452 4.3.1 Out of storage"),
    ("DATA-END", "554 5.7.1 Message refused"),
]


@pytest.mark.parametrize(("step", "fault"), STEP_FAULTS, ids=[f"{s} {f.split()[0]}" for s, f in STEP_FAULTS])
def test_a_failure_at_any_step_is_recorded_and_retried_until_each_message_is_sent_once(db, clock, smtp, step, fault):
    smtp.plan(step, fault)
    first, second = _queue(db, 2)

    report = send_due_messages()

    assert report.failed == 1
    assert not report.ok
    db.session.refresh(first)
    assert first.status == OutboxStatus.PENDING
    assert first.last_error == report.first_error
    assert fault.split()[0] in first.last_error or "Disconnected" in first.last_error

    reports = _send_until_done(clock)

    assert all(r.ok for r in reports)
    assert _statuses(db) == [OutboxStatus.SENT] * 2
    # Each message reached the server exactly once, with its own Message-ID.
    assert sorted(Counter(smtp.script.message_ids()).values()) == [1, 1]
    assert sorted(smtp.script.recipients()) == [first.recipient, second.recipient]


def test_a_connection_dropped_after_data_may_deliver_twice_with_one_message_id(db, clock, smtp):
    smtp.plan("DATA-END", DROP)
    [message] = _queue(db, 1)

    report = send_due_messages()

    # The server kept it, but the reply never came: the sender cannot know, so it tries again.
    assert report.failed == 1
    assert "SMTPServerDisconnected" in report.first_error
    _send_until_done(clock)
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT
    ids = smtp.script.message_ids()
    assert len(ids) == 2
    assert len(set(ids)) == 1, "both copies carry the same Message-ID, so the receiver can drop one"


def test_an_unreachable_server_stops_the_run_after_one_attempt(db, clock, mail_server_down):
    messages = _queue(db, 3)

    report = send_due_messages()

    assert (report.sent, report.failed, report.stopped_early) == (0, 1, True)
    assert report.first_error.startswith("ConnectionRefusedError")
    assert "stopped" in report.line()
    for message in messages:
        db.session.refresh(message)
    assert [m.attempts for m in messages] == [1, 0, 0]
    # The next run starts with the messages not yet tried.
    clock.advance(seconds=1)
    send_due_messages()
    for message in messages:
        db.session.refresh(message)
    assert [m.attempts for m in messages] == [1, 1, 0]


def test_a_connection_broken_mid_batch_is_opened_afresh_for_the_next_message(db, clock, smtp):
    smtp.plan("RCPT", DROP)
    _queue(db, 3)

    report = send_due_messages()

    assert (report.sent, report.failed) == (2, 1)
    assert smtp.script.greetings == 2
