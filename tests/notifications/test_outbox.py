"""The outbox: messages queue with the change that causes them and are delivered with retries."""

from datetime import timedelta
from email import message_from_bytes, policy

import sqlalchemy as sa

from tests.factories import queue_plain_email
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.notifications.services import DeliveryReport, send_due_messages


def _messages(db):
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _read_eml(path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def _make_due(db, message):
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_a_queued_message_is_kept_or_dropped_with_the_callers_transaction(db):
    queue_plain_email()
    db.session.rollback()
    assert _messages(db) == []

    queue_plain_email()
    db.session.commit()
    [message] = _messages(db)
    assert message.recipient == "zoe.adams@council.example.org"
    assert message.subject == "Your request for an account"
    assert "Please use your work address." in message.body
    assert message.status == OutboxStatus.PENDING


def test_the_file_transport_writes_an_email_a_person_can_open(db, app, mail_dir, monkeypatch):
    # A comma in the organisation's name must not split the sender into two addresses.
    monkeypatch.setitem(app.config, "ORGANISATION_NAME", "Bourne and Harbour Council, CSP")
    queue_plain_email()
    db.session.commit()

    assert send_due_messages() == DeliveryReport(sent=1)

    [eml] = sorted(mail_dir.glob("*.eml"))
    email = _read_eml(eml)
    assert email["To"] == "zoe.adams@council.example.org"
    assert email["Subject"] == "Your request for an account"
    [sender] = email["From"].addresses
    assert sender.display_name == "Bourne and Harbour Council, CSP"
    assert sender.addr_spec == app.config["MAIL_FROM"]
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hello Zoë Adams,")
    assert "Please use your work address." in body

    [message] = _messages(db)
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1

    # Sending again delivers nothing twice.
    assert send_due_messages() == DeliveryReport()
    assert len(list(mail_dir.glob("*.eml"))) == 1


def test_a_refused_send_keeps_the_message_and_tries_again_later(db, app, mail_dir, mail_server_down):
    queue_plain_email()
    db.session.commit()
    before = utcnow()

    report = send_due_messages()
    assert (report.sent, report.failed, report.ok) == (0, 1, False)
    assert report.first_error.startswith("ConnectionRefusedError")

    [message] = _messages(db)
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at > before + timedelta(seconds=30)
    # Not retried straight away: the mail server gets a rest.
    assert send_due_messages() == DeliveryReport()
    assert message.attempts == 1

    # Once the server is back and the retry is due, the same message goes, once.
    app.config["MAIL_TRANSPORT"] = "file"
    _make_due(db, message)
    assert send_due_messages() == DeliveryReport(sent=1)
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 2
    assert message.last_error is None
    [eml] = mail_dir.glob("*.eml")
    assert _read_eml(eml)["To"] == "zoe.adams@council.example.org"


def test_a_dedupe_key_queues_one_copy_however_often_a_job_runs(db):
    first = queue_plain_email(dedupe_key="access-rejected:42")
    assert queue_plain_email(dedupe_key="access-rejected:42") is None
    db.session.commit()
    assert queue_plain_email(dedupe_key="access-rejected:42") is None
    assert queue_plain_email(dedupe_key="access-rejected:43") is not None
    db.session.commit()
    assert [m.dedupe_key for m in _messages(db)] == ["access-rejected:42", "access-rejected:43"]
    assert _messages(db)[0].id == first.id


CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//trainapp//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:session-1@localhost\r\nSUMMARY:Domestic abuse awareness\r\n"
    "DTSTART:20270304T100000Z\r\nDTEND:20270304T150000Z\r\nDTSTAMP:20270101T000000Z\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_a_calendar_invitation_is_attached_as_text_calendar_with_its_method(db, mail_dir):
    queue_plain_email(calendar=CALENDAR, calendar_method="REQUEST")
    db.session.commit()

    assert send_due_messages() == DeliveryReport(sent=1)

    [eml] = mail_dir.glob("*.eml")
    email = _read_eml(eml)
    assert "Please use your work address." in email.get_body(preferencelist=("plain",)).get_content()
    [invite] = [part for part in email.walk() if part.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "REQUEST"
    assert invite.get_filename() == "invite.ics"
    content = invite.get_content()
    content = content.decode() if isinstance(content, bytes) else content
    assert content.replace("\r\n", "\n") == CALENDAR.replace("\r\n", "\n")
