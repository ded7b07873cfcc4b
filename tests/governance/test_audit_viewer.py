"""Coordinators search the audit trail by person, session, action and dates, page through it and export it."""

import csv
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_session, make_user
from tests.pages import error_summary, field_error, parse, plain, signed_in, table
from trainapp import audit
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.bookings.models import Booking, BookingStatus

CAPTION = "Audit events"


def _at(month: int, day: int = 1) -> datetime:
    return datetime(2030, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    agency = make_agency("Northshire Police")
    cora = make_user(Role.COORDINATOR, name="Cora Ordinator", email="cora@example.org")
    sam = make_user(Role.STAFF, agency=agency, name="Sam Learner", email="sam@example.org")
    # Her address holds Sam's: an email address picks out one person, not everyone it is part of.
    jo = make_user(Role.STAFF, agency=agency, name="Jo Other", email="jo.sam@example.org")
    session = make_session(course=make_course(title="Domestic abuse awareness"))
    other_session = make_session(course=make_course(title="Healthy relationships"))
    sams_booking = Booking(session=session, user=sam, agency_id=agency.id, status=BookingStatus.CONFIRMED)
    jos_booking = Booking(session=other_session, user=jo, agency_id=agency.id, status=BookingStatus.CONFIRMED)
    db.session.add_all([sams_booking, jos_booking])
    db.session.flush()
    events = SimpleNamespace(
        sam_renamed=audit.record(
            cora, "user.updated", sam, {"job_title": "Constable"}, {"job_title": "PCSO"}, at=_at(1, 10)
        ),
        sam_booked=audit.record(sam, "booking.created", sams_booking, after={"status": "confirmed"}, at=_at(2)),
        moved=audit.record(cora, "session.rescheduled", session, reason="Trainer ill", at=_at(3)),
        agency_renamed=audit.record(cora, "agency.updated", agency, at=_at(4)),
        jo_cancelled=audit.record(jo, "booking.cancelled", jos_booking, at=_at(5)),
    )
    db.session.commit()
    return SimpleNamespace(cora=cora, sam=sam, jo=jo, session=session, events=events)


def _search(client, **filters):
    return client.get("/audit", query_string=filters)


def _whats(response) -> list[str]:
    """The 'What happened' column, newest first."""
    return [row[2] for row in table(response, CAPTION, body_only=True)]


def test_coordinators_reach_the_audit_trail_from_their_home_page(client, world):
    home = parse(signed_in(client, world.cora).get("/"))

    assert home.find("a", string="The audit trail")["href"] == "/audit"


def test_the_trail_shows_every_event_newest_first_with_who_what_and_where(client, world):
    signed_in(client, world.cora)

    response = _search(client)

    assert response.status_code == 200
    rows = table(response, CAPTION, body_only=True)
    assert [row[2] for row in rows] == [
        "Booking cancelled",
        "Agency: updated",
        "Session: rescheduled",
        "Place booked",
        "Details changed",
    ]
    renamed = rows[-1]
    assert renamed[1] == "Cora Ordinator"
    assert "Sam Learner" in renamed[3]
    assert "Job title: Constable → PCSO" in renamed[4]
    assert "Trainer ill" in rows[2]


def test_searching_by_person_finds_what_they_did_and_what_was_done_to_them(client, world):
    signed_in(client, world.cora)

    assert _whats(_search(client, person="sam@example.org")) == ["Place booked", "Details changed"]
    assert _whats(_search(client, person="Cora")) == ["Agency: updated", "Session: rescheduled", "Details changed"]
    # A name finds everyone it matches: Sam, and Jo's address.
    assert _whats(_search(client, person="sam")) == ["Booking cancelled", "Place booked", "Details changed"]


def test_searching_by_session_finds_the_session_and_its_bookings(client, world):
    signed_in(client, world.cora)

    assert _whats(_search(client, session=world.session.id)) == ["Session: rescheduled", "Place booked"]


def test_searching_by_action(client, world):
    signed_in(client, world.cora)
    response = _search(client, action="booking.created")

    assert _whats(response) == ["Place booked"]
    assert parse(response).find("select", id="action").find("option", selected=True)["value"] == "booking.created"


def test_searching_by_dates_includes_both_days(client, world):
    signed_in(client, world.cora)

    response = _search(client, start=["1", "2", "2030"], end=["1", "3", "2030"])

    assert _whats(response) == ["Session: rescheduled", "Place booked"]


def test_an_unknown_session_is_explained(client, world):
    signed_in(client, world.cora)

    response = _search(client, session="999999")

    assert response.status_code == 400
    assert error_summary(response) == ["There is no session numbered 999999"]
    assert not parse(response).find("caption", string=CAPTION)


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        ({"start": ["31", "2", "2030"]}, "start", "From must be a real date, like 27 3 2027"),
        (
            {"start": ["1", "3", "2030"], "end": ["1", "2", "2030"]},
            "end",
            "The end date must be on or after the start date",
        ),
    ],
    ids=["no such day", "to before from"],
)
def test_bad_dates_are_explained_in_the_error_summary(client, world, dates, field, message):
    signed_in(client, world.cora)

    response = _search(client, **dates)

    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert field_error(response, field) == f"Error: {message}"
    assert parse(response).title.string.startswith("Error: ")
    assert not parse(response).find("caption", string=CAPTION)


def test_the_trail_is_paginated_and_keeps_its_filters(app, client, db, world):
    for n in range(app.config["PAGE_SIZE"] + 3):
        audit.record(world.cora, "user.updated", world.jo, reason=f"Batch {n}", at=_at(6) + timedelta(minutes=n))
    db.session.commit()
    signed_in(client, world.cora)

    first = _search(client, action="user.updated")
    next_link = parse(first).find("a", rel="next")

    assert len(_whats(first)) == app.config["PAGE_SIZE"]
    assert "Page 1 of 2 (29 in all)" in plain(first)
    assert "action=user.updated" in next_link["href"] and "page=2" in next_link["href"]
    second = client.get(next_link["href"])
    assert len(_whats(second)) == 4
    assert "Batch 0" in plain(second)


def test_the_trail_exports_as_csv_and_the_export_is_itself_audited(client, db, world, security_log):
    signed_in(client, world.cora)
    page = parse(_search(client, action="booking.created"))
    link = page.find("a", string="Download these events (CSV)")

    response = client.get(link["href"])

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-trail.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["When", "Who", "Action", "What happened", "About", "Change", "Reason", "Client address"]
    assert [row[2] for row in rows[1:]] == ["booking.created"]
    assert rows[1][1] == "Sam Learner"
    db.session.expire_all()
    export = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.downloaded")).one()
    assert export.actor_id == world.cora.id
    assert export.after == {"what": "audit trail", "filters": {"action": "booking.created"}, "rows": 1}
    assert export.client_address == "127.0.0.1"
    [logged] = security_log.named("export.downloaded")
    assert (logged["what"], logged["filters"], logged["rows"]) == ("audit trail", {"action": "booking.created"}, 1)


def test_a_bad_filter_exports_nothing(client, db, world):
    signed_in(client, world.cora)

    response = client.get("/audit.csv", query_string={"start": ["31", "2", "2030"]})

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export.downloaded")) is None
