"""Cancelling sessions through the coordinator's pages (real forms, CSRF included): one session,
a whole weekly series, or a series from a date. Whichever way, everyone booked, awaiting
approval or waiting loses their booking, is emailed with a calendar CANCEL, and nobody is charged.
"""

from datetime import date, time, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_session, make_user, make_venue
from tests.pages import error_summary, field_error, plain, signed_in, submit
from trainapp.accounts.models import AgencyKind, Role
from trainapp.audit import AuditEvent
from trainapp.bookings import services
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.catalogue import services as catalogue
from trainapp.catalogue.models import DeliveryMode, SessionStatus, TrainingSession
from trainapp.db import utcnow
from trainapp.funding.models import Charge
from trainapp.notifications.models import OutboxMessage
from trainapp.timezones import to_local

LIVE_STATUSES = {BookingStatus.CONFIRMED, BookingStatus.AWAITING_APPROVAL, BookingStatus.WAITING}


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR, name="Cora Lane")


@pytest.fixture
def agency(db):
    return make_agency("Wessex Police", kind=AgencyKind.POLICE)


def weekly_series(coordinator, *, course, weeks=4, capacity=2):
    """A weekly series starting about a fortnight ahead (so nobody's cancellation is late)."""
    first_on = to_local(utcnow()).date() + timedelta(days=14)
    template = catalogue.SessionDetails(
        starts_at=utcnow(),
        ends_at=utcnow(),
        delivery_mode=DeliveryMode.IN_PERSON,
        venue=make_venue(),
        joining_link="",
        capacity=capacity,
        trainers=[make_user(Role.TRAINER)],
    )
    return catalogue.create_series(
        course,
        catalogue.SeriesDetails(
            weekday=first_on.weekday(),
            start_time=time(10),
            end_time=time(12),
            first_on=first_on,
            last_on=first_on + timedelta(weeks=weeks - 1),
            skip=set(),
            template=template,
        ),
        by=coordinator,
    )


def fill(session, agency, *, booked=1, asking=1, waiting=1, lead=None):
    """Book people onto a session: confirmed (booked by their lead), awaiting approval, waiting."""
    people = []
    for _ in range(booked):
        person = make_user(agency=agency)
        services.book_place(session.id, person, by=lead or person)
        people.append(person)
    for _ in range(asking + waiting):
        person = make_user(agency=agency)
        services.book_place(session.id, person, by=person)
        people.append(person)
    return people


def bookings_of(db, session) -> list[Booking]:
    return db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id)
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    ).all()


def cancellation_emails(db, person) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == person.email, OutboxMessage.subject.like("Session cancelled%"))
        .order_by(OutboxMessage.id)
    ).all()


def assert_told_with_a_calendar_cancel(db, person, session):
    """One cancellation email whose attached calendar removes this session's event."""
    [email] = cancellation_emails(db, person)
    assert email.calendar_method == "CANCEL"
    calendar = icalendar.Calendar.from_ical(email.calendar)
    assert str(calendar["METHOD"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]).startswith(f"session-{session.id}@")
    assert str(event["STATUS"]) == "CANCELLED"


def no_charges(db) -> bool:
    return db.session.scalar(sa.select(sa.func.count(Charge.id))) == 0


def test_cancelling_a_whole_series_cancels_every_booking_and_sends_everyone_a_calendar_cancel(
    client, db, coordinator, agency
):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    course = make_course(title="Safety Planning", requires_approval=True)
    series = weekly_series(coordinator, course=course, weeks=3, capacity=2)
    first, second, third = series.sessions
    # Two sessions full, with people booked, awaiting approval and waiting; the third untouched.
    people = {first.id: fill(first, agency, lead=lead), second.id: fill(second, agency, lead=lead, waiting=2)}
    assert {b.status for b in bookings_of(db, first) + bookings_of(db, second)} == LIVE_STATUSES
    db.session.commit()
    signed_in(client, coordinator)

    response = submit(
        client,
        f"/series/{series.id}/cancel",
        {"which": "all", "from_on": ["", "", ""], "reason": "The trainer has left"},
        form_page=f"/series/{series.id}",
    )

    assert response.status_code == 302 and response.location == f"/series/{series.id}"
    page = plain(client.get(response.location))
    assert "3 sessions have been cancelled. Everyone booked or waiting has been told." in page
    for session in (first, second, third):
        db.session.refresh(session)
        assert session.status == SessionStatus.CANCELLED and session.places_taken == 0
    for session in (first, second):
        bookings = bookings_of(db, session)
        assert [b.status for b in bookings] == [BookingStatus.CANCELLED] * len(people[session.id])
        assert not any(b.is_late_cancellation for b in bookings)
        for person in people[session.id]:
            assert_told_with_a_calendar_cancel(db, person, session)
    # The cancelled session's waiting list is not promoted into the places it freed.
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.subject.like("A place has come free%"))
        )
        == 0
    )
    audited = db.session.scalars(
        sa.select(AuditEvent.entity_id).where(AuditEvent.action == "booking.session_cancelled")
    ).all()
    assert sorted(audited) == sorted(b.id for s in (first, second) for b in bookings_of(db, s))
    assert no_charges(db)


def test_cancelling_a_series_from_a_date_ends_only_the_later_sessions_bookings(client, db, coordinator, agency):
    series = weekly_series(coordinator, course=make_course(), weeks=3, capacity=1)
    first, second, third = series.sessions
    kept = fill(first, agency, booked=1, asking=0, waiting=1)
    later = fill(second, agency, booked=1, asking=0, waiting=1) + fill(third, agency, booked=1, asking=0, waiting=0)
    db.session.commit()
    signed_in(client, coordinator)

    response = submit(
        client,
        f"/series/{series.id}/cancel",
        {
            "which": "from",
            "from_on": [str(d) for d in _boxes(to_local(second.starts_at).date())],
            "reason": "Funding ended",
        },
        form_page=f"/series/{series.id}",
    )

    assert response.status_code == 302
    assert "2 sessions have been cancelled." in plain(client.get(response.location))
    assert [b.status for b in bookings_of(db, first)] == [BookingStatus.CONFIRMED, BookingStatus.WAITING]
    assert all(b.status == BookingStatus.CANCELLED for s in (second, third) for b in bookings_of(db, s))
    for person in kept:
        assert cancellation_emails(db, person) == []
    for person, session in zip(later, (second, second, third), strict=True):
        assert_told_with_a_calendar_cancel(db, person, session)
    assert no_charges(db)


def _boxes(day: date) -> list[int]:
    return [day.day, day.month, day.year]


def test_cancelling_one_session_through_its_page_cancels_its_bookings_without_a_late_charge(
    client, db, coordinator, agency
):
    from trainapp.funding import charges  # noqa: F401  (connects the late-cancellation receiver)

    # Two days ahead: well inside the 5 working days' notice, so a person's own cancellation is late.
    session = make_session(
        course=make_course(title="Risk Assessment"),
        capacity=2,
        starts_at=(utcnow() + timedelta(days=2)).replace(microsecond=0),
    )
    booked, other, waiting = (make_user(agency=agency) for _ in range(3))
    for person in (booked, other, waiting):
        services.book_place(session.id, person, by=person)
    # The control: this person's own cancellation now is late and charged.
    services.cancel_booking(bookings_of(db, session)[1].id, by=other)
    assert db.session.scalar(sa.select(sa.func.count(Charge.id))) == 1
    db.session.commit()
    signed_in(client, coordinator)

    response = submit(client, f"/sessions/{session.id}/cancel", {"reason": "Venue flooded"})

    assert response.status_code == 302 and response.location == f"/sessions/{session.id}"
    statuses = {b.user_id: b for b in bookings_of(db, session)}
    assert statuses[booked.id].status == BookingStatus.CANCELLED
    assert statuses[waiting.id].status == BookingStatus.CANCELLED  # promoted into the freed place, then cancelled
    assert not statuses[booked.id].is_late_cancellation and not statuses[waiting.id].is_late_cancellation
    assert db.session.scalar(sa.select(sa.func.count(Charge.id))) == 1  # only the control's
    for person in (booked, waiting):
        assert_told_with_a_calendar_cancel(db, person, session)
    assert cancellation_emails(db, other) == []  # they had already cancelled
    db.session.refresh(session)
    assert session.places_taken == 0
    page = plain(client.get(response.location))
    assert "The session has been cancelled. Everyone booked or waiting has been told." in page


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"from_on": ["", "", ""]}, "which", "Choose which sessions to cancel"),
        ({"which": "from", "from_on": ["", "", ""]}, "from_on", "Enter the date to cancel from"),
        ({"which": "all", "from_on": ["", "", ""], "reason": " "}, "reason", "Enter a reason for cancelling"),
    ],
    ids=["no choice", "no date", "no reason"],
)
def test_cancelling_a_series_with_missing_answers_is_explained_and_changes_nothing(
    client, db, coordinator, agency, data, field, message
):
    series = weekly_series(coordinator, course=make_course(), weeks=2)
    person = make_user(agency=agency)
    services.book_place(series.sessions[0].id, person, by=person)
    db.session.commit()
    signed_in(client, coordinator)

    response = submit(
        client, f"/series/{series.id}/cancel", {"reason": "Funding ended", **data}, form_page=f"/series/{series.id}"
    )

    assert response.status_code == 400
    assert message in error_summary(response)[0] and message in field_error(response, field)
    statuses = db.session.scalars(sa.select(TrainingSession.status)).all()
    assert statuses == [SessionStatus.SCHEDULED] * 2
    assert [b.status for b in bookings_of(db, series.sessions[0])] == [BookingStatus.CONFIRMED]
    assert cancellation_emails(db, person) == []
