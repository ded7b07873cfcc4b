"""Every email is well formed: it parses with no defects, has a Date and a Message-ID, and its
subject and headers hold exactly what they should, whatever people's names and course titles hold."""

import email
import email.policy
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_session, make_user
from trainapp.accounts import services as accounts
from trainapp.accounts.models import AgencyKind, Role
from trainapp.bookings import reminders, services, session_lifecycle
from trainapp.bookings.models import Booking
from trainapp.catalogue.services import SessionDetails
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxMessage
from trainapp.notifications.services import DeliveryReport, queue_email, send_due_messages

PASSWORD = "quiet-meadow-lantern-7"


@dataclass
class Journey:
    learner: object
    colleague: object
    waiting: object
    lead: object
    sessions: list


def _details(session, **changes):
    fields = dict(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        delivery_mode=session.delivery_mode,
        venue=session.venue,
        joining_link=session.joining_link,
        capacity=session.capacity,
        trainers=list(session.trainers),
    )
    fields.update(changes)
    return SessionDetails(**fields)


def full_journey(db) -> Journey:
    """Sign up, book, approve, wait, be promoted, be moved, cancel, transfer, be reminded, and
    have a session cancelled: every path that sends a person an invitation or a cancellation."""
    now = utcnow().replace(microsecond=0)
    agency = make_agency("Wessex Police", kind=AgencyKind.POLICE, domains=["police.example.org"])
    lead = make_user(Role.AGENCY_LEAD, agency=agency, name="Lee Lead, Sergeant")
    coordinator = make_user(Role.COORDINATOR, name="Cora Lane")
    learner = accounts.register(
        email="zoe.adams@police.example.org", name="Zoë Adams", job_title="PC", password=PASSWORD, agency_id=None
    )
    colleague = make_user(Role.STAFF, agency=agency, name="Colin O'Brien")
    waiting = make_user(Role.STAFF, agency=agency, name="Wanda Waits")
    title = 'Trauma-informed practice: "the basics" — Łódź 🎓 ' + "long " * 30
    plain = make_session(course=make_course(title=title[:200]), starts_at=now + timedelta(days=4), capacity=1)
    approval = make_session(course=make_course(requires_approval=True), starts_at=now + timedelta(days=12))
    transfer = make_session(starts_at=now + timedelta(days=14))
    doomed = make_session(starts_at=now + timedelta(days=16))

    booking = services.book_place(plain.id, learner, by=learner)  # REQUEST
    waiter = services.book_place(plain.id, waiting, by=waiting)  # waiting list
    session_lifecycle.change_session(  # update REQUEST
        plain.id,
        _details(plain, starts_at=plain.starts_at + timedelta(hours=1), ends_at=plain.ends_at + timedelta(hours=1)),
        by=coordinator,
    )
    reminders.queue_reminders(now)  # reminder
    services.cancel_booking(booking.id, by=learner)  # own CANCEL; promotion
    assert db.session.get(Booking, waiter.id).status.holds_place
    services.book_place(plain.id, learner, by=learner)  # waiting again

    asked = services.book_place(approval.id, learner, by=learner)  # lead asked
    services.approve_booking(asked.id, by=lead)  # REQUEST

    given = services.book_place(transfer.id, learner, by=learner)  # REQUEST
    services.transfer_booking(given.id, colleague, by=learner)  # CANCEL + colleague REQUEST

    services.book_place(doomed.id, learner, by=learner)  # REQUEST
    session_lifecycle.change_session(  # update REQUEST
        doomed.id,
        _details(doomed, starts_at=doomed.starts_at + timedelta(days=1), ends_at=doomed.ends_at + timedelta(days=1)),
        by=coordinator,
    )
    session_lifecycle.cancel_session(doomed.id, by=coordinator, reason="Trainer unwell")  # CANCEL
    db.session.commit()
    return Journey(learner, colleague, waiting, lead, [plain, approval, transfer, doomed])


def _parsed(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _defects(message) -> list:
    return [(part.get_content_type(), defect) for part in message.walk() for defect in part.defects]


def test_every_email_of_a_full_journey_parses_cleanly_with_a_date_and_a_message_id(db, mail_dir):
    full_journey(db)
    queued = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    kinds = {subject.split(":")[0] for subject in db.session.scalars(sa.select(OutboxMessage.subject))}
    assert {
        "Booked",
        "On the waiting list",
        "Session changed",
        "Reminder",
        "Cancelled",
        "A place has come free",
        "Waiting for approval",
        "Please approve",
        "Approved",
        "Session cancelled",
    } <= kinds
    assert send_due_messages(500) == DeliveryReport(sent=queued)

    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == queued >= 15
    ids = set()
    for path in files:
        message = _parsed(path)
        assert _defects(message) == [], path.name
        assert message["Date"] is not None and message["Date"].datetime is not None, path.name
        assert message["Message-ID"] is not None, path.name
        ids.add(str(message["Message-ID"]))
        assert "\n" not in str(message["Subject"]) and message["Subject"].strip()
        assert len(message["To"].addresses) == 1
    assert len(ids) == len(files)


def test_a_resent_message_keeps_its_date_and_message_id(db, app, mail_dir):
    from trainapp.notifications.services import build_email

    message = queue_email(
        "zoe.adams@council.example.org",
        "access_rejected",
        access_request=type("R", (), {"name": "Zoë", "decision_reason": "No"})(),
    )
    db.session.commit()
    first, second = build_email(message), build_email(message)
    assert first["Message-ID"] == second["Message-ID"] and first["Date"] == second["Date"]


def test_a_name_with_line_breaks_adds_no_header_to_anyone_elses_email(db, mail_dir):
    """Stored before names were checked: it must not add a Bcc, end the subject or start the body."""
    agency = make_agency("Wessex Police", kind=AgencyKind.POLICE)
    lead = make_user(Role.AGENCY_LEAD, agency=agency, email="lead@police.example.org", name="Lee Lead")
    eve = make_user(Role.STAFF, agency=agency, name="Eve\r\nBcc: everyone@example.org\r\n\r\nFake body")
    session = make_session(course=make_course(requires_approval=True, title="Risk\nassessment"))
    services.book_place(session.id, eve, by=eve)
    db.session.commit()

    [to_lead] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == lead.email)).all()
    assert to_lead.subject == "Please approve: Eve Bcc: everyone@example.org Fake body on Risk assessment"
    assert to_lead.body.startswith("Hello Lee Lead,")
    send_due_messages()
    for path in mail_dir.glob("*.eml"):
        message = _parsed(path)
        assert message["Bcc"] is None and _defects(message) == []
        assert [a.addr_spec for a in message["To"].addresses] in (["lead@police.example.org"], [eve.email])
        assert "\n" not in message["Subject"]
    calendars = [m.calendar for m in db.session.scalars(sa.select(OutboxMessage)) if m.calendar]
    for calendar in calendars:
        assert "\nBcc" not in calendar and "Fake body" not in calendar.split("ATTENDEE")[0]


def test_a_subject_comes_from_its_own_block_not_the_first_line_of_the_body(db):
    session = make_session(course=make_course(title="Line one\nLine two"))
    learner = make_user(Role.STAFF, name="Zoë Adams")
    services.book_place(session.id, learner, by=learner)
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.subject.startswith("Booked: Line one Line two, ")
    assert message.body.startswith("Hello Zoë Adams,")


def test_a_very_long_title_fits_the_subject(db):
    session = make_session(course=make_course(title="T" * 200))
    learner = make_user(Role.STAFF, name="N" * 200)
    colleague = make_user(Role.STAFF, agency=learner.agency, name="C" * 200)
    booking = services.book_place(session.id, learner, by=learner)
    services.transfer_booking(booking.id, colleague, by=learner)
    db.session.commit()
    subjects = db.session.scalars(sa.select(OutboxMessage.subject)).all()
    assert len(subjects) == 3 and all(len(s) <= 250 for s in subjects)
    assert any(s.endswith("…") for s in subjects)
