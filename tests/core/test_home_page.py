"""The signed-in home page: what each person needs to do next, by role, in a fixed number of queries."""

import itertools
from datetime import timedelta

import pytest
from bs4 import Tag

from tests.factories import (
    make_access_request,
    make_agency,
    make_course,
    make_session,
    make_user,
    make_venue,
    queue_plain_email,
)
from tests.pages import parse, plain, signed_in
from tests.support import counting_queries
from trainapp.accounts.models import Role
from trainapp.attendance.models import Evaluation, EvaluationKind, RegisterSubmission
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import DeliveryMode, SessionStatus
from trainapp.db import utcnow
from trainapp.extensions import db as _db
from trainapp.notifications.models import OutboxStatus
from trainapp.timezones import format_date, format_datetime

LINK = "https://meet.example.org/j/safeguarding"
_numbers = itertools.count(1)


def now():
    return utcnow().replace(microsecond=0)


def booked(session, person, status=BookingStatus.CONFIRMED, **kw):
    """A place as booking makes it: the session's count of places taken included."""
    booking = Booking(session=session, user=person, agency_id=person.agency_id, status=status, **kw)
    _db.session.add(booking)
    session.places_taken += 1
    _db.session.flush()
    return booking


def attended(person, course, ended_ago: timedelta):
    """A finished session the person was marked as attending."""
    session = make_session(course=course, starts_at=now() - ended_ago - timedelta(hours=2))
    return booked(session, person, attendance=AttendanceStatus.ATTENDED)


def card(response, heading: str) -> Tag:
    """The part of the page under one heading: a summary card, found by its title."""
    for title in parse(response).find_all(["h2", "h3"]):
        if title.get_text(" ", strip=True) == heading:
            found = title.find_parent(class_="govuk-summary-card")
            assert found is not None, f"{heading!r} is not the title of a summary card"
            return found
    raise AssertionError(f"no card titled {heading!r}")


def words(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def links(tag: Tag) -> dict[str, str]:
    """Each link's text (as read aloud, hidden words included) and where it goes."""
    return {" ".join(a.get_text(" ").split()): a["href"] for a in tag.find_all("a")}


def home(client, person):
    signed_in(client, person)
    response = client.get("/")
    assert response.status_code == 200
    return response


# --- anyone -------------------------------------------------------------------------


def test_a_visitor_still_sees_the_sign_in_landing(client, db):
    page = client.get("/")
    assert "Training for partnership staff" in plain(page)
    assert parse(page).find("a", href="/sign-in") is not None
    assert parse(page).find(class_="govuk-summary-card") is None


# --- staff --------------------------------------------------------------------------


def test_staff_see_their_next_session_with_its_date_and_place(client, db):
    person = make_user(Role.STAFF)
    course = make_course(title="Domestic abuse: the basics")
    venue = make_venue("Town Hall, Committee Room 2")
    soonest = make_session(course=course, venue=venue, starts_at=now() + timedelta(days=3))
    later = make_session(course=make_course(title="Stalking awareness"), starts_at=now() + timedelta(days=10))
    booked(later, person)
    booked(soonest, person)
    cancelled = make_session(course=make_course(title="Cancelled course"), starts_at=now() + timedelta(days=1))
    cancelled.status = SessionStatus.CANCELLED
    booked(cancelled, person)

    next_session = card(home(client, person), "Your next session")

    text = words(next_session)
    assert "Domestic abuse: the basics" in text
    assert "Town Hall, Committee Room 2" in text
    assert format_date(soonest.starts_at) in text
    assert format_datetime(soonest.starts_at) in text
    assert "Stalking awareness" not in text and "Cancelled course" not in text
    assert f"/sessions/{soonest.id}" in links(next_session).values()
    assert "/my-bookings" in links(next_session).values()


def test_staff_with_nothing_booked_are_told_so_and_pointed_at_training(client, db):
    person = make_user(Role.STAFF)

    next_session = card(home(client, person), "Your next session")

    assert "You have no training booked" in words(next_session)
    assert "/sessions" in links(next_session).values()


@pytest.mark.parametrize(("starts_in", "shown"), [(timedelta(days=3), False), (timedelta(hours=20), True)])
def test_the_joining_link_shows_only_once_it_is_due(client, db, starts_in, shown):
    person = make_user(Role.STAFF)
    session = make_session(
        starts_at=now() + starts_in, delivery_mode=DeliveryMode.ONLINE, venue=None, joining_link=LINK
    )
    booked(session, person)

    next_session = card(home(client, person), "Your next session")

    assert (LINK in links(next_session).values()) is shown
    if not shown:
        assert "joining link" in words(next_session).lower()


def test_staff_see_an_overdue_refresher(client, db):
    person = make_user(Role.STAFF)
    attended(person, make_course(title="Risk assessment (DASH)", refresher_months=12), timedelta(days=400))

    due = card(home(client, person), "Refreshers due")

    assert "Risk assessment (DASH)" in words(due)
    assert "overdue" in words(due).lower()


def test_staff_with_no_refresher_due_are_told_so(client, db):
    person = make_user(Role.STAFF)
    attended(person, make_course(refresher_months=12), timedelta(days=30))

    assert "No refreshers due" in words(card(home(client, person), "Refreshers due"))


def test_staff_see_an_evaluation_to_fill_in_until_they_have_given_it(client, db):
    person = make_user(Role.STAFF)
    booking = attended(person, make_course(title="Healthy relationships"), timedelta(days=1))
    db.session.commit()

    to_fill = card(home(client, person), "Evaluations to fill in")
    assert "Healthy relationships" in words(to_fill)
    assert f"/bookings/{booking.id}/evaluation" in links(to_fill).values()

    db.session.add(
        Evaluation(booking=booking, kind=EvaluationKind.AFTER, confidence_before=2, confidence_after=4, comments="")
    )
    to_fill = card(client.get("/"), "Evaluations to fill in")
    assert "Healthy relationships" not in words(to_fill)
    assert "No evaluations to fill in" in words(to_fill)


def test_the_eight_week_follow_up_is_an_evaluation_to_fill_in(client, db):
    person = make_user(Role.STAFF)
    booking = attended(person, make_course(title="Up2U practice"), timedelta(weeks=8, days=2))
    db.session.add(
        Evaluation(booking=booking, kind=EvaluationKind.AFTER, confidence_before=2, confidence_after=4, comments="")
    )

    to_fill = card(home(client, person), "Evaluations to fill in")

    assert "Up2U practice" in words(to_fill)
    assert f"/bookings/{booking.id}/evaluation?kind=follow_up" in links(to_fill).values()


def test_no_evaluation_is_asked_of_someone_who_did_not_come(client, db):
    person = make_user(Role.STAFF)
    booking = attended(person, make_course(title="Missed it"), timedelta(days=1))
    booking.attendance = AttendanceStatus.NO_SHOW

    assert "No evaluations to fill in" in words(card(home(client, person), "Evaluations to fill in"))


# --- trainers -----------------------------------------------------------------------


def test_a_trainer_sees_their_next_sessions(client, db):
    trainer = make_user(Role.TRAINER)
    session = make_session(
        course=make_course(title="Train the trainer"), trainers=[trainer], starts_at=now() + timedelta(days=2)
    )
    make_session(course=make_course(title="Someone else's session"), starts_at=now() + timedelta(days=1))

    upcoming = card(home(client, trainer), "Your next sessions")

    assert "Train the trainer" in words(upcoming)
    assert format_date(session.starts_at) in words(upcoming)
    assert "Someone else's session" not in words(upcoming)
    assert f"/sessions/{session.id}" in links(upcoming).values()


def test_a_trainer_sees_registers_still_to_take(client, db):
    trainer = make_user(Role.TRAINER)
    to_take = make_session(
        course=make_course(title="Yesterday's course"), trainers=[trainer], starts_at=now() - timedelta(days=1)
    )
    taken = make_session(
        course=make_course(title="Register done"), trainers=[trainer], starts_at=now() - timedelta(days=2)
    )
    taken.status = SessionStatus.DELIVERED
    db.session.add(RegisterSubmission(session=taken, submitted_at=now(), submitted_by=trainer))
    make_session(course=make_course(title="Not mine"), starts_at=now() - timedelta(days=1))
    upcoming = make_session(course=make_course(title="Not started"), trainers=[trainer])

    registers = card(home(client, trainer), "Registers to take")

    text = words(registers)
    assert "Yesterday's course" in text
    assert format_date(to_take.starts_at) in text
    assert f"/sessions/{to_take.id}/register" in links(registers).values()
    for other in ("Register done", "Not mine", "Not started"):
        assert other not in text
    assert f"/sessions/{upcoming.id}/register" not in links(registers).values()


def test_a_trainer_with_every_register_taken_is_told_so(client, db):
    trainer = make_user(Role.TRAINER)

    page = home(client, trainer)

    assert "No registers to take" in words(card(page, "Registers to take"))
    assert "No sessions coming up" in words(card(page, "Your next sessions"))


# --- agency leads -------------------------------------------------------------------


def test_an_agency_lead_sees_requests_awaiting_their_approval(client, db):
    agency = make_agency("Northshire Police")
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    for name in ("Ann Asker", "Bob Asker"):
        person = make_user(Role.STAFF, agency=agency, name=name)
        booked(
            make_session(), person, status=BookingStatus.AWAITING_APPROVAL, approval_due_at=now() + timedelta(days=2)
        )
    outsider = make_user(Role.STAFF, name="Other Agency Person")
    booked(make_session(), outsider, status=BookingStatus.AWAITING_APPROVAL, approval_due_at=now() + timedelta(days=2))

    approvals = card(home(client, lead), "Requests to approve")

    text = words(approvals)
    assert "Ann Asker" in text and "Bob Asker" in text
    assert "Other Agency Person" not in text
    assert links(approvals).get("Review 2 requests") == "/approvals"


def test_an_agency_lead_sees_their_staffs_overdue_refreshers(client, db):
    agency = make_agency("Northshire Police")
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    course = make_course(title="Risk assessment (DASH)", refresher_months=12)
    attended(make_user(Role.STAFF, agency=agency, name="Olive Overdue"), course, timedelta(days=400))
    attended(make_user(Role.STAFF, agency=agency, name="Ina Date"), course, timedelta(days=30))
    attended(make_user(Role.STAFF, name="Elsewhere Person"), course, timedelta(days=400))

    overdue = card(home(client, lead), "Overdue refreshers")

    text = words(overdue)
    assert "Olive Overdue" in text and "Risk assessment (DASH)" in text
    assert "Ina Date" not in text and "Elsewhere Person" not in text
    assert "/refreshers" in links(overdue).values()


def test_an_agency_lead_with_nothing_waiting_is_told_so(client, db):
    lead = make_user(Role.AGENCY_LEAD)

    page = home(client, lead)

    assert "No requests are waiting" in words(card(page, "Requests to approve"))
    assert "No one is overdue a refresher" in words(card(page, "Overdue refreshers"))


# --- coordinators -------------------------------------------------------------------


def test_a_coordinator_sees_access_requests_waiting(client, db):
    coordinator = make_user(Role.COORDINATOR)
    make_access_request()
    make_access_request()

    requests = card(home(client, coordinator), "Access requests")

    assert links(requests).get("Review 2 access requests") == "/access-requests"


def test_a_coordinator_sees_sessions_short_of_bookings_in_the_next_fortnight(client, db):
    coordinator = make_user(Role.COORDINATOR)
    short = make_session(course=make_course(title="Thinly booked"), capacity=10, starts_at=now() + timedelta(days=5))
    booked(short, make_user())
    booked(short, make_user())
    healthy = make_session(course=make_course(title="Well booked"), capacity=4, starts_at=now() + timedelta(days=5))
    for _ in range(2):
        booked(healthy, make_user())
    make_session(course=make_course(title="Far off"), capacity=10, starts_at=now() + timedelta(days=20))
    make_session(course=make_course(title="Draft course", status="draft"), starts_at=now() + timedelta(days=5))
    gone = make_session(course=make_course(title="Called off"), starts_at=now() + timedelta(days=5))
    gone.status = SessionStatus.CANCELLED

    shortlist = card(home(client, coordinator), "Sessions short of bookings")

    text = words(shortlist)
    assert "Thinly booked" in text
    assert "2 of 10 places booked" in text
    assert format_date(short.starts_at) in text
    assert f"/sessions/{short.id}" in links(shortlist).values()
    for other in ("Well booked", "Far off", "Draft course", "Called off"):
        assert other not in text


def test_a_coordinator_sees_failed_mail_linking_to_the_outbox(client, db):
    coordinator = make_user(Role.COORDINATOR)
    for address in ("gone@council.example.org", "moved@council.example.org"):
        message = queue_plain_email(address)
        message.status, message.failed_at = OutboxStatus.FAILED, now()
    queue_plain_email("waiting@council.example.org")

    failed = card(home(client, coordinator), "Failed email")

    assert links(failed).get("2 emails failed to send") == "/outbox"


def test_a_coordinator_with_nothing_waiting_is_told_so(client, db):
    coordinator = make_user(Role.COORDINATOR)

    page = home(client, coordinator)

    assert "No access requests waiting" in words(card(page, "Access requests"))
    assert "No sessions in the next 14 days are short of bookings" in words(card(page, "Sessions short of bookings"))
    assert "No failed email" in words(card(page, "Failed email"))


# --- a fixed number of queries ------------------------------------------------------


def _seed_staff(person, agency):
    booked(make_session(starts_at=now() + timedelta(days=3)), person)
    attended(person, make_course(refresher_months=12), timedelta(days=400))
    attended(person, make_course(), timedelta(days=1))


def _seed_trainer(person, agency):
    make_session(trainers=[person], starts_at=now() + timedelta(days=3))
    make_session(trainers=[person], starts_at=now() - timedelta(days=1))


def _seed_lead(person, agency):
    asker = make_user(Role.STAFF, agency=agency)
    booked(make_session(), asker, status=BookingStatus.AWAITING_APPROVAL, approval_due_at=now() + timedelta(days=2))
    attended(make_user(Role.STAFF, agency=agency), make_course(refresher_months=12), timedelta(days=400))


def _seed_coordinator(person, agency):
    make_access_request()
    make_session(starts_at=now() + timedelta(days=5))
    queue_plain_email(f"gone{next(_numbers)}@council.example.org").status = OutboxStatus.FAILED


@pytest.mark.parametrize(
    ("role", "seed"),
    [
        (Role.STAFF, _seed_staff),
        (Role.TRAINER, _seed_trainer),
        (Role.AGENCY_LEAD, _seed_lead),
        (Role.COORDINATOR, _seed_coordinator),
    ],
)
def test_the_home_page_runs_the_same_queries_for_one_item_or_twenty(client, db, role, seed):
    agency = make_agency()
    person = make_user(role, agency=None if role == Role.COORDINATOR else agency)
    seed(person, agency)
    signed_in(client, person)
    db.session.commit()

    with counting_queries(db.engine) as few:
        assert client.get("/").status_code == 200
    for _ in range(19):
        seed(person, agency)
    db.session.commit()
    with counting_queries(db.engine) as many:
        assert client.get("/").status_code == 200

    assert len(many) == len(few), "\n".join(["1 of each:", *few, "", "20 of each:", *many])
