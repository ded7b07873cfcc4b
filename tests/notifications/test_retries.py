"""Retrying through long outages, giving up only after the retry period, dropping what would
arrive too late, queuing each deduplicated message once, and forgetting old bodies."""

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_agency, make_session, make_user, queue_plain_email
from trainapp.accounts.models import Role
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.bookings.reminders import queue_reminders
from trainapp.catalogue.models import DeliveryMode
from trainapp.notifications import services
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.notifications.services import purge_old_messages, send_due_messages

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def _all(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _queue(db, count: int) -> list[OutboxMessage]:
    messages = [queue_plain_email(f"person{n}@council.example.org") for n in range(1, count + 1)]
    db.session.commit()
    return messages


def test_a_three_day_outage_loses_nothing_and_each_message_goes_once_after_it(db, clock, smtp_later):
    _queue(db, 3)
    start = clock.now

    # Cron every quarter of an hour for just under three days, the mail server down throughout.
    while clock.now < start + timedelta(hours=71, minutes=45):
        report = send_due_messages()
        assert report.sent == 0
        clock.advance(minutes=15)

    messages = _all(db)
    assert [m.status for m in messages] == [OutboxStatus.PENDING] * 3
    assert all(m.attempts > 50 for m in messages), "each was retried all along"
    assert all("ConnectionRefusedError" in m.last_error for m in messages)

    smtp_later.start()
    reports = []
    for _ in range(3):
        clock.advance(minutes=15)
        reports.append(send_due_messages())

    assert sum(r.sent for r in reports) == 3
    assert [m.status for m in _all(db)] == [OutboxStatus.SENT] * 3
    assert sorted(Counter(smtp_later.script.recipients()).values()) == [1, 1, 1]


def test_retries_back_off_to_a_ceiling(db, app, clock, mail_server_down):
    [message] = _queue(db, 1)
    waits = []
    for _ in range(8):
        attempt_at = clock.now
        send_due_messages()
        db.session.refresh(message)
        waits.append((message.next_attempt_at - attempt_at) // timedelta(minutes=1))
        clock.now = message.next_attempt_at

    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]

    app.config["OUTBOX_RETRY_CEILING_MINUTES"] = 5
    send_due_messages()
    db.session.refresh(message)
    assert message.next_attempt_at - clock.now == timedelta(minutes=5)


def test_a_message_is_marked_failed_only_when_the_retry_period_is_over(db, app, clock, mail_server_down):
    [message] = _queue(db, 1)
    period = timedelta(hours=app.config["OUTBOX_RETRY_FOR_HOURS"])
    assert period == timedelta(days=3)

    while True:
        send_due_messages()
        db.session.refresh(message)
        if message.status != OutboxStatus.PENDING:
            break
        assert clock.now < message.queued_at + period
        clock.now = message.next_attempt_at

    assert message.status == OutboxStatus.FAILED
    assert message.failed_at == clock.now
    assert message.queued_at + period <= message.failed_at <= message.queued_at + period + timedelta(minutes=30)
    assert "ConnectionRefusedError" in message.last_error
    attempts = message.attempts
    clock.advance(hours=1)
    assert send_due_messages().handled == 0
    db.session.refresh(message)
    assert message.attempts == attempts


def test_the_retry_period_is_a_setting(db, app, clock, mail_server_down):
    app.config["OUTBOX_RETRY_FOR_HOURS"] = 1
    try:
        [message] = _queue(db, 1)
        clock.advance(minutes=59)
        send_due_messages()
        db.session.refresh(message)
        assert message.status == OutboxStatus.PENDING
        clock.advance(minutes=2)
        send_due_messages()
        db.session.refresh(message)
        assert message.status == OutboxStatus.FAILED
    finally:
        app.config["OUTBOX_RETRY_FOR_HOURS"] = 72


def _online_booking(db, starts_at):
    agency = make_agency()
    session = make_session(
        starts_at=starts_at,
        hours=2,
        delivery_mode=DeliveryMode.ONLINE,
        venue=None,
        joining_link="https://meet.example.org/abc",
    )
    booking = Booking(
        session=session, user=make_user(Role.STAFF, agency=agency), agency_id=agency.id, status=BookingStatus.CONFIRMED
    )
    db.session.add(booking)
    session.places_taken = 1
    db.session.commit()
    return booking


def test_a_reminder_and_a_joining_link_that_would_arrive_too_late_are_dropped(db, clock, smtp_later):
    booking = _online_booking(db, starts_at=clock.now + timedelta(hours=30))
    assert queue_reminders(clock.now) == 2
    db.session.commit()
    reminder, link = _all(db)
    assert (reminder.kind, link.kind) == ("booking_reminder", "joining_link")
    assert reminder.useless_after == booking.session.starts_at
    assert link.useless_after == booking.session.ends_at

    # The mail server is down until the session has started: the reminder is no use now.
    while clock.now < booking.session.starts_at + timedelta(minutes=5):
        send_due_messages()
        clock.advance(minutes=15)
    reminder, link = _all(db)
    assert reminder.status == OutboxStatus.DROPPED
    assert reminder.reason.startswith("Too late to be useful")
    assert reminder.dropped_at >= booking.session.starts_at
    assert link.status == OutboxStatus.PENDING

    # ... and still down when it has ended, for longer than the longest wait between two
    # attempts, so the joining link has been tried again since: it goes the same way.
    while clock.now < booking.session.ends_at + timedelta(minutes=35):
        send_due_messages()
        clock.advance(minutes=15)
    smtp_later.start()
    report = send_due_messages()

    assert [m.status for m in _all(db)] == [OutboxStatus.DROPPED] * 2
    assert report.handled == 0
    assert smtp_later.received == []


def test_a_message_still_useful_is_sent_with_nothing_dropped(db, clock, smtp):
    _online_booking(db, starts_at=clock.now + timedelta(hours=30))
    queue_reminders(clock.now)
    db.session.commit()

    report = send_due_messages()

    assert (report.sent, report.dropped) == (2, 0)
    assert report.line() == "outbox: sent 2, failed 0, dropped 0"


def test_queuing_a_key_another_host_has_just_queued_adds_nothing_and_raises_nothing(db, monkeypatch):
    first = queue_plain_email(dedupe_key="reminder-3:7")
    db.session.commit()
    # As if the lookup ran a moment before another host's insert was committed.
    monkeypatch.setattr(services, "_already_queued", lambda key: False)

    assert queue_plain_email(dedupe_key="reminder-3:7") is None
    second = queue_plain_email(dedupe_key="reminder-3:8")
    db.session.commit()

    assert [m.id for m in _all(db)] == [first.id, second.id]


def test_old_bodies_and_attachments_are_removed_keeping_the_rows_metadata(db, app, clock):
    now = clock.now
    old_sent, recent_sent, old_failed, old_dropped, old_pending = (
        queue_plain_email(f"person{n}@council.example.org", calendar=CALENDAR, calendar_method="REQUEST")
        for n in range(5)
    )
    old_sent.status, old_sent.sent_at = OutboxStatus.SENT, now - timedelta(days=31)
    recent_sent.status, recent_sent.sent_at = OutboxStatus.SENT, now - timedelta(days=29)
    old_failed.status, old_failed.failed_at = OutboxStatus.FAILED, now - timedelta(days=31)
    old_dropped.status, old_dropped.dropped_at = OutboxStatus.DROPPED, now - timedelta(days=31)
    old_pending.created_at = old_pending.queued_at = now - timedelta(days=40)
    db.session.commit()

    assert purge_old_messages(now) == 3
    db.session.commit()

    messages = {m.id: m for m in _all(db)}
    for purged in (old_sent, old_failed, old_dropped):
        row = messages[purged.id]
        assert (row.body, row.calendar, row.purged_at) == ("", None, now)
        assert row.recipient.endswith("@council.example.org")
        assert row.kind == "access_rejected"
        assert row.subject == "Your request for an account"
    for kept in (recent_sent, old_pending):
        row = messages[kept.id]
        assert "Please use your work address." in row.body
        assert row.calendar == CALENDAR
        assert row.purged_at is None
    assert purge_old_messages(now) == 0

    app.config["OUTBOX_KEEP_SENT_DAYS"] = 7
    try:
        assert purge_old_messages(now) == 1
    finally:
        app.config["OUTBOX_KEEP_SENT_DAYS"] = 30
