"""A person's own data (UK GDPR Article 15): on a page and as a JSON file, for them and for a coordinator."""

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.factories import fresh_client, make_agency, make_course, make_session, make_user
from tests.pages import parse, plain, signed_in
from tests.support import counting_queries
from trainapp.accounts.models import Role
from trainapp.attendance.models import Certificate, Evaluation, EvaluationKind
from trainapp.audit import AuditEvent
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.funding.models import Charge, ChargeReason

PAST = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def _bookings_for(person, count: int, *, first_title: str = "Course") -> list[Booking]:
    """Past sessions the person attended, each with a certificate, an evaluation and a charge."""
    made = []
    for n in range(count):
        session = make_session(course=make_course(title=f"{first_title} {n + 1}"), starts_at=PAST + timedelta(days=n))
        booking = Booking(
            session=session,
            user=person,
            agency_id=person.agency_id,
            status=BookingStatus.CONFIRMED,
            attendance=AttendanceStatus.ATTENDED,
        )
        made.append(booking)
    return made


@pytest.fixture
def world(db):
    agency = make_agency("Northshire Police")
    person = make_user(Role.STAFF, agency=agency, name="Sam Learner", email="sam.learner@example.org", job_title="PCSO")
    attended = Booking(
        session=make_session(course=make_course(title="Domestic abuse awareness"), starts_at=PAST),
        user=person,
        agency_id=agency.id,
        status=BookingStatus.CONFIRMED,
        attendance=AttendanceStatus.ATTENDED,
    )
    missed = Booking(
        session=make_session(course=make_course(title="Healthy relationships"), starts_at=PAST + timedelta(days=7)),
        user=person,
        agency_id=agency.id,
        status=BookingStatus.CONFIRMED,
        attendance=AttendanceStatus.NO_SHOW,
    )
    upcoming = Booking(
        session=make_session(course=make_course(title="Up2U Family Practice")),
        user=person,
        agency_id=agency.id,
        status=BookingStatus.WAITING,
        queue_position=1,
    )
    someone_else = make_user(Role.STAFF, agency=agency, name="Olive Other", email="olive@example.org")
    theirs = Booking(
        session=attended.session,
        user=someone_else,
        agency_id=agency.id,
        status=BookingStatus.CONFIRMED,
        attendance=AttendanceStatus.ATTENDED,
    )
    db.session.add_all(
        [
            attended,
            missed,
            upcoming,
            theirs,
            Certificate(booking=attended, number="KX7QP-M2W9T"),
            Evaluation(
                booking=attended,
                kind=EvaluationKind.AFTER,
                confidence_before=2,
                confidence_after=4,
                comments="The role play made it real.",
            ),
            Evaluation(
                booking=theirs,
                kind=EvaluationKind.AFTER,
                confidence_before=1,
                confidence_after=1,
                comments="Not for me.",
            ),
            Charge(booking=missed, agency_id=agency.id, reason=ChargeReason.NO_SHOW, amount_pence=50_00),
        ]
    )
    coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
    colleague = make_user(Role.STAFF, agency=agency)
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    db.session.commit()
    return SimpleNamespace(
        person=person, someone_else=someone_else, coordinator=coordinator, colleague=colleague, lead=lead
    )


def _audit_rows(db) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def test_the_account_page_links_to_your_data(client, world):
    page = parse(signed_in(client, world.person).get("/account"))

    assert page.find("a", string="See the personal data we hold about you")["href"] == "/account/your-data"


def test_a_person_reads_their_own_data_on_a_page(client, world):
    signed_in(client, world.person)

    response = client.get("/account/your-data")

    assert response.status_code == 200
    text = plain(response)
    for expected in [
        "Sam Learner",
        "sam.learner@example.org",
        "PCSO",
        "Northshire Police",
        "Domestic abuse awareness",
        "Healthy relationships",
        "Up2U Family Practice",
        "On the waiting list",
        "No-show",
        "KX7QP-M2W9T",
        "The role play made it real.",
        "£50",
    ]:
        assert expected in text, expected
    assert "Olive Other" not in text and "Not for me." not in text
    download = parse(response).find("a", string="Download your data (JSON)")
    assert download["href"] == "/account/your-data.json"


def test_a_person_downloads_their_own_data_as_a_json_file(client, world, security_log):
    signed_in(client, world.person)

    response = client.get("/account/your-data.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="personal-data-sam-learner.json"'
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["name"] == "Sam Learner"
    assert data["profile"]["email"] == "sam.learner@example.org"
    assert data["profile"]["agency"] == "Northshire Police"
    assert sorted(b["course"] for b in data["bookings"]) == [
        "Domestic abuse awareness",
        "Healthy relationships",
        "Up2U Family Practice",
    ]
    assert {(a["course"], a["attendance"]) for a in data["attendance"]} == {
        ("Domestic abuse awareness", "Attended"),
        ("Healthy relationships", "No-show"),
    }
    assert [c["number"] for c in data["certificates"]] == ["KX7QP-M2W9T"]
    [evaluation] = data["evaluations"]
    assert (evaluation["confidence_before"], evaluation["confidence_after"]) == (2, 4)
    assert evaluation["comments"] == "The role play made it real."
    [charge] = data["charges"]
    assert (charge["course"], charge["amount_pence"], charge["status"]) == ("Healthy relationships", 5000, "Raised")
    assert charge["session_starts_at"] == "2030-01-14T10:00:00+00:00"
    text = response.get_data(as_text=True)
    assert "Olive Other" not in text and "Not for me." not in text
    assert data["profile"]["authenticator_app_set_up_at"] is None
    assert "password" not in text and world.person.session_token not in text
    assert [(line["event"], line["what"], line["actor_id"]) for line in security_log.events()[-1:]] == [
        ("export.downloaded", "personal data", world.person.id)
    ]


def test_a_coordinator_produces_a_persons_data_and_it_is_audited(client, db, world, security_log):
    signed_in(client, world.coordinator)
    person_page = parse(client.get(f"/users/{world.person.id}"))
    link = person_page.find("a", string="Their personal data")
    assert link["href"] == f"/users/{world.person.id}/data"

    page = client.get(link["href"])
    download = client.get(f"/users/{world.person.id}/data.json")

    assert page.status_code == 200 and "KX7QP-M2W9T" in plain(page)
    assert download.status_code == 200
    assert json.loads(download.get_data(as_text=True))["profile"]["email"] == "sam.learner@example.org"
    exports = [e for e in _audit_rows(db) if e.action == "export.downloaded"]
    assert [(e.actor_id, e.entity_type, e.entity_id) for e in exports] == [
        (world.coordinator.id, "users", world.person.id),
        (world.coordinator.id, "users", world.person.id),
    ]
    assert [e.after["filters"] for e in exports] == [{"format": "page"}, {"format": "json"}]
    assert {e.after["what"] for e in exports} == {"personal data"}
    logged = security_log.named("export.downloaded")
    assert [(line["what"], line["filters"], line["actor_id"]) for line in logged] == [
        ("personal data", {"format": "page"}, world.coordinator.id),
        ("personal data", {"format": "json"}, world.coordinator.id),
    ]


@pytest.mark.parametrize("who", ["colleague", "lead"])
def test_no_one_else_gets_a_persons_data_and_the_refusal_is_logged(client, db, world, security_log, who):
    signed_in(client, getattr(world, who))

    for path in (f"/users/{world.person.id}/data", f"/users/{world.person.id}/data.json"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Sam Learner" not in response.get_data(as_text=True)
    assert _audit_rows(db) == []
    refusals = [line for line in security_log.events() if line.get("route", "").startswith("/users/<int:user_id>/data")]
    assert len(refusals) == 2 and all(line["actor_id"] == getattr(world, who).id for line in refusals)


def _queries_for_a_download(app, db, person) -> int:
    client = fresh_client(app)
    signed_in(client, person)
    client.get("/account")  # the first request of a session loads what every page shares
    with counting_queries(db.engine) as statements:
        assert client.get("/account/your-data.json").status_code == 200
    return len(statements)


def test_the_export_reads_the_same_number_of_queries_however_many_bookings(app, db):
    few, many = make_user(Role.STAFF), make_user(Role.STAFF)
    for person, count in ((few, 1), (many, 20)):
        for booking in _bookings_for(person, count, first_title=f"For {person.id}"):
            db.session.add_all(
                [
                    booking,
                    Certificate(booking=booking, number=f"C{person.id}-{booking.session.id}"),
                    Evaluation(booking=booking, kind=EvaluationKind.AFTER, confidence_before=2, confidence_after=3),
                    Charge(booking=booking, agency_id=person.agency_id, reason=ChargeReason.NO_SHOW, amount_pence=1),
                ]
            )
    db.session.commit()

    assert _queries_for_a_download(app, db, few) == _queries_for_a_download(app, db, many)


def test_a_persons_copy_holds_their_saved_access_needs_and_those_asked_for_on_each_booking(client, db, world):
    from trainapp.bookings.models import AccessNeed, BookingAccessNeeds, SavedAccessNeeds

    person = world.person
    bookings = {
        b.session.course.title: b for b in db.session.scalars(sa.select(Booking).where(Booking.user_id == person.id))
    }
    saved = SavedAccessNeeds(user=person, details="Hearing aid <b>user</b>")
    saved.needs = [AccessNeed.HEARING_LOOP]
    asked = BookingAccessNeeds(booking=bookings["Up2U Family Practice"], details="A seat near the front")
    asked.needs = [AccessNeed.HEARING_LOOP, AccessNeed.LARGE_PRINT]
    erased = BookingAccessNeeds(booking=bookings["Domestic abuse awareness"], erased_at=PAST + timedelta(days=31))
    db.session.add_all([saved, asked, erased])
    theirs = BookingAccessNeeds(
        booking=db.session.scalar(sa.select(Booking).where(Booking.user_id == world.someone_else.id)),
        details="Olive's own needs",
    )
    db.session.add(theirs)
    db.session.commit()
    signed_in(client, person)

    data = json.loads(client.get("/account/your-data.json").get_data(as_text=True))
    page = client.get("/account/your-data")

    assert data["saved_access_needs"]["needs"] == ["Hearing loop"]
    assert data["saved_access_needs"]["details"] == "Hearing aid <b>user</b>"
    assert [(n["course"], n["needs"], n["details"], n["erased_at"] is not None) for n in data["access_needs"]] == [
        ("Up2U Family Practice", ["Hearing loop", "Large print"], "A seat near the front", False),
        ("Domestic abuse awareness", [], "", True),
    ]
    assert "Olive's own needs" not in json.dumps(data)
    text = plain(page)
    assert "Access needs saved for next time" in text
    assert "Needs Hearing loop Details Hearing aid <b>user</b>" in text
    assert "Hearing loop, Large print A seat near the front" in text
    assert "Olive's own needs" not in text
