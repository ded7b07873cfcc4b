"""The coordinators' outbox page: what waits, what failed and why, and sending a failed one again."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import fresh_client, make_user, queue_plain_email
from tests.pages import plain, signed_in, submit
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxStatus


@pytest.fixture
def coordinator(db):
    user = make_user(Role.COORDINATOR)
    db.session.commit()
    return user


def _failed(recipient, failed_at, error="SMTPRecipientsRefused: 550 5.1.1 No such user"):
    message = queue_plain_email(recipient)
    message.status, message.failed_at, message.attempts, message.last_error = OutboxStatus.FAILED, failed_at, 9, error
    return message


def test_the_page_shows_waiting_failed_and_recently_sent_mail(app, db, coordinator):
    now = utcnow().replace(microsecond=0)
    waiting = queue_plain_email("waiting@council.example.org")
    waiting.queued_at = now - timedelta(hours=5)
    queue_plain_email("waiting.too@council.example.org")
    for days_ago in (1, 6, 8):
        sent = queue_plain_email(f"sent{days_ago}@council.example.org")
        sent.status, sent.sent_at = OutboxStatus.SENT, now - timedelta(days=days_ago)
    dropped = queue_plain_email("late@council.example.org")
    dropped.status, dropped.dropped_at, dropped.reason = OutboxStatus.DROPPED, now, "Too late to be useful"
    _failed("gone@council.example.org", now - timedelta(hours=1))
    db.session.commit()
    client = signed_in(fresh_client(app), coordinator)

    page = plain(client.get("/outbox"))

    assert "Waiting to be sent 2 (oldest queued" in page
    assert "Failed 1 " in page
    assert "Sent in the last 7 days 2 " in page
    assert "Dropped in the last 7 days 1 " in page
    assert "gone@council.example.org" in page
    assert "SMTPRecipientsRefused: 550 5.1.1 No such user" in page
    assert "after 9 attempts" in page
    assert "waiting@council.example.org" not in page


def test_a_coordinator_sends_a_failed_message_again_and_it_is_audited(app, db, coordinator):
    message = _failed("gone@council.example.org", utcnow() - timedelta(days=1))
    db.session.commit()
    client = signed_in(fresh_client(app), coordinator)

    response = submit(client, f"/outbox/{message.id}/requeue", {}, form_page="/outbox")

    assert response.status_code == 302
    assert response.location == "/outbox"
    page = plain(client.get("/outbox"))
    assert "The message to gone@council.example.org is queued again" in page
    assert "No failed messages." in page
    db.session.refresh(message)
    assert message.status == OutboxStatus.PENDING
    assert message.failed_at is None
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "outbox.requeued")).all()
    assert (event.actor_id, event.entity_id, event.before["status"], event.after["status"]) == (
        coordinator.id,
        message.id,
        "failed",
        "pending",
    )


def test_a_message_whose_text_was_removed_cannot_be_sent_again(app, db, coordinator):
    message = _failed("gone@council.example.org", utcnow() - timedelta(days=40))
    message.body, message.purged_at = "", utcnow()
    db.session.commit()
    client = signed_in(fresh_client(app), coordinator)
    assert "Text removed" in plain(client.get("/outbox"))

    response = submit(client, f"/outbox/{message.id}/requeue", {}, form_page="/outbox", follow_redirects=True)

    assert "This message's text has been removed, so it cannot be sent again" in plain(response)
    db.session.refresh(message)
    assert message.status == OutboxStatus.FAILED
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_a_message_that_has_not_failed_cannot_be_queued_again(app, db, coordinator):
    message = queue_plain_email()
    message.status, message.sent_at = OutboxStatus.SENT, utcnow()
    db.session.commit()
    client = signed_in(fresh_client(app), coordinator)

    response = submit(client, f"/outbox/{message.id}/requeue", {}, form_page="/outbox", follow_redirects=True)

    assert "A message that is sent cannot become waiting to be sent" in plain(response)
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT


def test_failed_messages_are_listed_a_page_at_a_time_most_recent_first(app, db, coordinator):
    now = utcnow()
    page_size = app.config["PAGE_SIZE"]
    for n in range(page_size + 1):
        _failed(f"person{n:02d}@council.example.org", now - timedelta(minutes=n))
    db.session.commit()
    client = signed_in(fresh_client(app), coordinator)

    first, second = plain(client.get("/outbox")), plain(client.get("/outbox?page=2"))

    assert "person00@council.example.org" in first
    assert f"person{page_size:02d}@council.example.org" not in first
    assert f"person{page_size:02d}@council.example.org" in second
    assert "person00@council.example.org" not in second


def test_the_home_page_links_coordinators_to_the_outbox(app, db, coordinator):
    client = signed_in(fresh_client(app), coordinator)
    assert 'href="/outbox"' in client.get("/").get_data(as_text=True)
