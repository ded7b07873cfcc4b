"""Booking pages through their real forms (CSRF included): what staff, agency leads and coordinators
see and do.

Who may open which page is covered by tests/core/test_access.py; the rules in depth by test_services.py.
"""

import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from html import unescape

import pytest
import sqlalchemy as sa

from tests.factories import (
    csrf_token,
    fresh_client,
    make_agency,
    make_course,
    make_session,
    make_user,
)
from tests.pages import plain, signed_in, submit
from tests.support import counting_queries, outbox
from trainapp.accounts.models import AgencyKind, Role
from trainapp.bookings import services
from trainapp.bookings.models import AgencyReservation, Booking, BookingAccessNeeds, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxMessage
from trainapp.timezones import format_date, format_datetime, format_when, to_local

PROBLEM = "There is a problem"


# --- helpers ------------------------------------------------------------------------


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def bookings_on(db, session) -> list[Booking]:
    return db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id)
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    ).all()


def state(db, session) -> list[tuple[str, BookingStatus]]:
    """(name, status) of everyone with a booking on a session, and the session's count."""
    db.session.refresh(session)
    return [(b.user.name, b.status) for b in bookings_on(db, session)], session.places_taken


def listed(response) -> list[tuple[str, str]]:
    """(course title, status tag) of each booking in a booking list."""
    return re.findall(
        r'<a class="govuk-link" href="/sessions/\d+">([^<]+)</a>\s*<strong class="govuk-tag[^"]*">([^<]+)</strong>',
        text(response),
    )


def tables(response) -> dict[str, list[str]]:
    """Each table's caption mapped to the names in its rows, in order."""
    found = {}
    for table in re.findall(r"<table.*?</table>", text(response), flags=re.S):
        caption = re.search(r"<caption[^>]*>([^<]+)</caption>", table).group(1).strip()
        found[caption] = [name.strip() for name in re.findall(r'data-label="Name">([^<]+)', table)]
    return found


def row_of(response, name) -> str:
    """The text of the table row naming this person."""
    for row in re.findall(r"<tr.*?</tr>", text(response), flags=re.S):
        if f'data-label="Name">{name}' in row:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    raise AssertionError(f"no row for {name}")


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def agency(db):
    return make_agency("Wessex Police", kind=AgencyKind.POLICE)


def book(session, person, by=None):
    return services.book_place(session.id, person, by=by or person)


# --- the session page's booking panel -------------------------------------------------


def test_the_booking_panel_shows_places_left_and_held_places_only_to_that_agencys_staff(app, client, db, agency):
    council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
    session = make_session(capacity=5)
    services.reserve_places(
        session.id,
        agency,
        places=2,
        release_at=session.starts_at - timedelta(days=1),
        by=make_user(Role.COORDINATOR),
    )
    book(session, make_user(agency=council))
    insider, outsider = make_user(agency=agency), make_user(agency=council)

    page = plain(signed_in(client, insider).get(f"/sessions/{session.id}"))
    assert "4 places left, including 2 held for Wessex Police." in page
    assert "Book a place" in page

    other = plain(signed_in(fresh_client(app), outsider).get(f"/sessions/{session.id}"))
    assert "2 places left." in other
    assert "held for" not in other and "Wessex Police" not in other


def test_a_full_session_offers_the_waiting_list(client, db, agency):
    session = make_session(course=make_course(title="Safety Planning"), capacity=1)
    book(session, make_user(agency=agency))
    signed_in(client, make_user(agency=agency))

    panel = plain(client.get(f"/sessions/{session.id}"))
    assert "No places left : you can join the waiting list." in panel

    page = text(client.get(f"/sessions/{session.id}/book"))
    assert '<h1 class="govuk-heading-l">Join the waiting list for Safety Planning</h1>' in page
    assert "If a place comes free it is given to the first person waiting" in page
    assert re.search(r"<button[^>]*>\s*Join the waiting list\s*</button>", page)
    assert "Confirm booking" not in page


def test_the_confirmation_page_warns_of_an_overlapping_booking(client, db, agency):
    person = make_user(agency=agency)
    first = make_session(course=make_course(title="Risk Assessment"))
    book(first, person)
    clashing = make_session(course=make_course(title="Safety Planning"), starts_at=first.starts_at + timedelta(hours=1))
    later = make_session(course=make_course(title="Coercive Control"), starts_at=first.starts_at + timedelta(days=1))
    signed_in(client, person)

    page = plain(client.get(f"/sessions/{clashing.id}/book"))
    assert "Book a place on Safety Planning" in page
    assert (
        f"You are already booked on Risk Assessment at an overlapping time ({format_when(first.starts_at, first.ends_at)})"
        in page
    )
    assert "Confirm booking" in page

    assert "overlapping" not in plain(client.get(f"/sessions/{later.id}/book"))


def test_booking_a_second_session_of_a_course_warns_but_still_books(app, client, db, agency):
    course = make_course(title="Safety Planning")
    first = make_session(course=course)
    second = make_session(course=course, starts_at=first.starts_at + timedelta(days=7))
    person = make_user(agency=agency, name="Dana Okoro")
    book(first, person)
    other_course = make_session(course=make_course(title="Risk Assessment"), starts_at=second.starts_at)
    signed_in(client, person)

    page = plain(client.get(f"/sessions/{second.id}/book"))
    assert (
        f"You already have a place on another session of Safety Planning, on {format_when(first.starts_at, first.ends_at)}."
        in page
    )
    assert "Confirm booking" in page
    assert submit(client, f"/sessions/{second.id}/book", {}).location == f"/sessions/{second.id}"
    assert state(db, second) == ([("Dana Okoro", BookingStatus.CONFIRMED)], 1)
    assert "another session" not in plain(client.get(f"/sessions/{other_course.id}/book"))

    # An agency lead booking their staff is warned too, and the booking still goes ahead.
    colleague = make_user(agency=agency, name="Ed Evans")
    awaiting = make_session(course=make_course(title="Coercive Control", requires_approval=True))
    later = make_session(course=awaiting.course, starts_at=awaiting.starts_at + timedelta(days=7))
    book(awaiting, colleague)
    lead = signed_in(fresh_client(app), make_user(Role.AGENCY_LEAD, agency=agency))
    response = submit(lead, f"/sessions/{later.id}/book-for", {"people": [str(colleague.id)]}, follow_redirects=True)
    assert (
        f"Ed Evans already has a place on another session of Coercive Control, on "
        f"{format_when(awaiting.starts_at, awaiting.ends_at)}." in plain(response)
    )
    assert state(db, later) == ([("Ed Evans", BookingStatus.CONFIRMED)], 1)


# --- booking --------------------------------------------------------------------------


def test_booking_a_place_says_so_and_the_panel_shows_the_booking(client, db, agency):
    person = make_user(agency=agency, name="Dana Okoro")
    session = make_session(course=make_course(title="Safety Planning"), capacity=3)
    signed_in(client, person)

    response = submit(client, f"/sessions/{session.id}/book", {})
    assert response.location == f"/sessions/{session.id}"
    page = plain(client.get(response.location))

    assert "You have a place on Safety Planning." in page
    assert "Booked" in page and "Cancel my place" in page
    assert "2 places left." in page
    assert state(db, session) == ([("Dana Okoro", BookingStatus.CONFIRMED)], 1)
    assert [m.subject.split(":")[0] for m in outbox(db, person.email)] == ["Booked"]


def test_booking_a_full_session_puts_the_person_on_the_waiting_list(client, db, agency):
    session = make_session(capacity=1)
    book(session, make_user(agency=agency))
    person = make_user(agency=agency, name="Sam Reed")
    signed_in(client, person)

    page = plain(submit(client, f"/sessions/{session.id}/book", {}, follow_redirects=True))

    assert "The session is full. You are number 1 on the waiting list" in page
    assert "On the waiting list" in page and "Leave the waiting list" in page
    assert state(db, session)[0][1] == ("Sam Reed", BookingStatus.WAITING)


def test_booking_twice_shows_a_clear_message_and_creates_nothing(client, db, agency):
    person = make_user(agency=agency)
    session = make_session(capacity=3)
    signed_in(client, person)
    token = csrf_token(client.get(f"/sessions/{session.id}/book"))
    client.post(f"/sessions/{session.id}/book", data={"csrf_token": token})
    before = state(db, session)

    again = client.post(f"/sessions/{session.id}/book", data={"csrf_token": token}, follow_redirects=True)

    page = plain(again)
    assert PROBLEM in page and "You are already booked for this session" in page
    assert state(db, session) == before
    assert before[1] == 1 and len(before[0]) == 1


def _cancelled(session):
    session.status, session.cancel_reason = SessionStatus.CANCELLED, "Trainer unwell"


def _past(session):
    session.starts_at, session.ends_at = utcnow() - timedelta(days=1), utcnow() - timedelta(days=1, hours=-2)


def _closed(session):
    session.booking_closes_at = utcnow() - timedelta(hours=1)


def _other_kind(session):
    session.course.eligible_kinds = ["nhs", "fire"]


def _prerequisite(session):
    session.course.prerequisite = make_course(title="Awareness")


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_cancelled, "This session has been cancelled"),
        (_past, "This session has already started"),
        (_closed, "Booking for this session has closed"),
        (_other_kind, "Safety Planning is only for staff of these kinds of agency"),
        (_prerequisite, "Awareness must be completed before Safety Planning"),
    ],
    ids=["cancelled", "past", "closed", "other kind of agency", "prerequisite"],
)
def test_a_session_that_cannot_be_booked_says_why_and_a_post_changes_nothing(client, db, agency, spoil, reason):
    session = make_session(course=make_course(title="Safety Planning"), capacity=3)
    spoil(session)
    signed_in(client, make_user(agency=agency))

    page = plain(client.get(f"/sessions/{session.id}/book"))
    assert "You cannot book this session" in page
    assert reason in page
    assert "Confirm booking" not in page and "Join the waiting list" not in page

    response = submit(client, f"/sessions/{session.id}/book", {}, follow_redirects=True)
    assert PROBLEM in plain(response) and reason in plain(response)
    assert state(db, session) == ([], 0)
    assert count(db, OutboxMessage) == 0


# --- my bookings ----------------------------------------------------------------------


def test_my_bookings_tabs_list_the_right_bookings(client, db, agency):
    person = make_user(agency=agency)
    someone_else = make_user(agency=agency)
    soon = utcnow() + timedelta(days=7)

    def titled(title, **kw):
        kw.setdefault("starts_at", soon)
        return make_session(course=make_course(title=title, requires_approval=kw.pop("approval", False)), **kw)

    book(titled("Booked Course"), person)
    book(titled("Approval Course", approval=True, starts_at=soon + timedelta(days=1)), person)
    full = titled("Full Course", capacity=1)
    book(full, someone_else)
    book(full, person)
    gone = book(titled("Cancelled Course"), person)
    services.cancel_booking(gone.id, by=person)
    past = titled("Past Course", starts_at=utcnow() - timedelta(days=30))
    db.session.add(Booking(session=past, user=person, agency_id=agency.id, status=BookingStatus.CONFIRMED))
    book(titled("Not Mine"), someone_else)
    signed_in(client, person)

    assert listed(client.get("/my-bookings")) == [
        ("Booked Course", "Booked"),
        ("Approval Course", "Awaiting approval"),
    ]
    assert listed(client.get("/my-bookings?tab=waiting")) == [("Full Course", "On the waiting list")]
    assert listed(client.get("/my-bookings?tab=past")) == [("Past Course", "Booked")]
    assert listed(client.get("/my-bookings?tab=cancelled")) == [("Cancelled Course", "Cancelled")]
    assert client.get("/my-bookings?tab=everything").status_code == 400


# --- cancelling -----------------------------------------------------------------------


@pytest.mark.parametrize(("days_ahead", "late"), [(60, False), (1, True)], ids=["in good time", "late"])
def test_cancelling_warns_after_the_cut_off_and_records_a_late_cancellation(client, db, agency, days_ahead, late):
    session = make_session(
        course=make_course(title="Safety Planning", cancellation_notice_days=5),
        starts_at=(utcnow() + timedelta(days=days_ahead)).replace(microsecond=0),
    )
    person = make_user(agency=agency)
    booking = book(session, person)
    signed_in(client, person)

    page = plain(client.get(f"/bookings/{booking.id}/cancel"))
    assert "Cancel the booking" in page
    assert ("Cancelling now is recorded as a late cancellation" in page) is late
    assert ("Send a colleague instead" in page) is late

    response = submit(client, f"/bookings/{booking.id}/cancel", {"reason": "Court date"})
    assert response.location == "/my-bookings"
    done = plain(client.get(response.location))
    assert "The booking has been cancelled." in done
    assert ("recorded as a late cancellation" in done) is late

    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED and booking.is_late_cancellation is late
    assert booking.reason == "Court date"
    assert session.places_taken == 0
    cancelled_tab = plain(client.get("/my-bookings?tab=cancelled"))
    assert "Safety Planning Cancelled" in cancelled_tab
    assert ("Late cancellation" in cancelled_tab) is late


def test_someone_elses_booking_cannot_be_cancelled(client, db, agency):
    session = make_session()
    owner, colleague = make_user(agency=agency), make_user(agency=agency)
    booking = book(session, owner)
    signed_in(client, colleague)

    assert client.get(f"/bookings/{booking.id}/cancel").status_code == 404
    response = submit(client, f"/bookings/{booking.id}/cancel", {}, form_page="/my-bookings")
    assert response.status_code == 404
    assert state(db, session) == ([(owner.name, BookingStatus.CONFIRMED)], 1)


# --- transfers ------------------------------------------------------------------------


def test_the_transfer_page_offers_only_colleagues_in_the_same_agency(client, db, agency):
    session = make_session(capacity=3)
    person = make_user(agency=agency, name="Pat Person")
    for name in ("Alex Colleague", "Bo Colleague"):
        make_user(agency=agency, name=name)
    make_user(Role.AGENCY_LEAD, agency=agency, name="Lee Lead")
    make_user(agency=agency, name="Cy Gone", active=False)
    outsider = make_user(agency=make_agency("Downs Council"), name="Olu Outsider")
    make_user(Role.COORDINATOR, name="Cora Ordinator")
    booking = book(session, person)
    signed_in(client, person)

    page = text(client.get(f"/bookings/{booking.id}/transfer"))
    offered = re.findall(r'class="govuk-label govuk-radios__label"[^>]*>\s*([^<]+?)\s*</label>', page)
    assert offered == ["Alex Colleague", "Bo Colleague", "Lee Lead"]

    before = state(db, session)
    forged = submit(client, f"/bookings/{booking.id}/transfer", {"colleague": str(outsider.id)})
    assert forged.status_code == 400
    assert state(db, session) == before


def test_a_place_passes_to_a_colleague_and_not_to_one_already_booked(client, db, agency):
    session = make_session(capacity=3)
    person = make_user(agency=agency, name="Pat Person")
    booked = make_user(agency=agency, name="Alex Colleague")
    free = make_user(agency=agency, name="Bo Colleague")
    booking = book(session, person)
    book(session, booked)
    signed_in(client, person)
    before = state(db, session)

    refused = submit(client, f"/bookings/{booking.id}/transfer", {"colleague": str(booked.id)})
    assert refused.status_code == 200
    assert PROBLEM in plain(refused)
    assert "Alex Colleague is already booked for this session" in plain(refused)
    assert state(db, session) == before

    done = submit(client, f"/bookings/{booking.id}/transfer", {"colleague": str(free.id)})
    assert done.location == "/my-bookings"
    assert "The place now belongs to Bo Colleague." in plain(client.get(done.location))
    assert state(db, session) == (
        [
            ("Pat Person", BookingStatus.CANCELLED),
            ("Alex Colleague", BookingStatus.CONFIRMED),
            ("Bo Colleague", BookingStatus.CONFIRMED),
        ],
        2,
    )
    assert listed(client.get("/my-bookings?tab=cancelled")) == [(session.course.title, "Cancelled")]
    assert "Transferred to Bo Colleague" in plain(client.get("/my-bookings?tab=cancelled"))
    assert outbox(db, free.email)[-1].body.count(session.course.title) >= 1


# --- booking for others -----------------------------------------------------------------


def test_an_agency_lead_books_several_staff_in_one_go_and_sees_who_was_refused(client, db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency, name="Lena Lead")
    first = make_user(agency=agency, name="Ann Already")
    second = make_user(agency=agency, name="Ben Booked")
    third = make_user(agency=agency, name="Cat Waiting")
    make_user(agency=make_agency("Downs Council"), name="Olu Outsider")
    session = make_session(course=make_course(title="Safety Planning"), capacity=2)
    book(session, first)
    signed_in(client, lead)

    form = text(client.get(f"/sessions/{session.id}/book-for"))
    offered = re.findall(r'class="govuk-label govuk-checkboxes__label" for="people[^"]*">\s*([^<]+?)\s*</label>', form)
    assert offered == ["Ann Already", "Ben Booked", "Cat Waiting", "Lena Lead"]

    response = submit(
        client, f"/sessions/{session.id}/book-for", {"people": [str(first.id), str(second.id), str(third.id)]}
    )
    assert response.location == "/agency/bookings"
    page = plain(client.get(response.location))

    assert "Ben Booked has a place on Safety Planning." in page
    assert "Cat Waiting is number 1 on the waiting list" in page
    assert PROBLEM in page and "Ann Already: Ann Already is already booked for this session" in page
    assert state(db, session) == (
        [
            ("Ann Already", BookingStatus.CONFIRMED),
            ("Ben Booked", BookingStatus.CONFIRMED),
            ("Cat Waiting", BookingStatus.WAITING),
        ],
        2,
    )
    assert {b.user.name: b.booked_by.name for b in bookings_on(db, session)} == {
        "Ann Already": "Ann Already",
        "Ben Booked": "Lena Lead",
        "Cat Waiting": "Lena Lead",
    }


def test_a_forged_person_from_another_agency_in_book_for_is_refused(client, db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    mine = make_user(agency=agency)
    outsider = make_user(agency=make_agency("Downs Council"))
    session = make_session(capacity=5)
    signed_in(client, lead)

    response = submit(client, f"/sessions/{session.id}/book-for", {"people": [str(mine.id), str(outsider.id)]})

    assert response.status_code == 400
    assert state(db, session) == ([], 0)


# --- approvals --------------------------------------------------------------------------


@pytest.fixture
def requests_to_decide(db, agency):
    """A lead, a request from their own agency's staff, and one from another agency's."""
    lead = make_user(Role.AGENCY_LEAD, agency=agency, name="Lena Lead")
    session = make_session(course=make_course(title="Safety Planning", requires_approval=True), capacity=3)
    mine = book(session, make_user(agency=agency, name="Ann Asker"))
    theirs = book(session, make_user(agency=make_agency("Downs Council"), name="Ben Other"))
    return lead, mine, theirs


def test_the_approvals_queue_shows_only_the_leads_agency(app, client, db, requests_to_decide):
    lead, mine, theirs = requests_to_decide
    page = plain(signed_in(client, lead).get("/approvals"))
    assert "Ann Asker: Safety Planning" in page
    assert "Ben Other" not in page

    everyone = plain(signed_in(fresh_client(app), make_user(Role.COORDINATOR)).get("/approvals"))
    assert "Ann Asker: Safety Planning" in everyone and "Ben Other: Safety Planning" in everyone


def test_a_lead_approves_once_and_a_second_approval_says_it_was_decided(client, db, requests_to_decide):
    lead, mine, theirs = requests_to_decide
    signed_in(client, lead)

    response = submit(client, f"/bookings/{mine.id}/approve", {}, form_page="/approvals")
    assert response.location == "/approvals"
    page = plain(client.get("/approvals"))
    assert "Ann Asker's place is approved." in page
    assert "No requests are waiting." in page
    db.session.refresh(mine)
    assert mine.status == BookingStatus.CONFIRMED
    assert outbox(db, mine.user.email)[-1].subject.startswith("Approved:")

    again = plain(submit(client, f"/bookings/{mine.id}/approve", {}, form_page="/approvals", follow_redirects=True))
    assert PROBLEM in again and "This request has already been decided: it is booked" in again
    db.session.refresh(mine)
    assert mine.status == BookingStatus.CONFIRMED
    assert len(outbox(db, mine.user.email)) == 2  # "awaiting approval", then "approved" once

    other = submit(client, f"/bookings/{theirs.id}/approve", {}, form_page="/approvals")
    assert other.status_code == 403
    db.session.refresh(theirs)
    assert theirs.status == BookingStatus.AWAITING_APPROVAL


def test_declining_needs_a_reason_and_emails_it_to_the_learner(client, db, requests_to_decide, mail_dir):
    from trainapp.notifications.services import send_due_messages

    lead, mine, _ = requests_to_decide
    signed_in(client, lead)

    empty = submit(client, f"/bookings/{mine.id}/decline", {"reason": "  "})
    assert empty.status_code == 200
    assert PROBLEM in plain(empty) and "Enter a reason: the person will be told it" in plain(empty)
    assert '<a href="#reason">Enter a reason' in text(empty)
    db.session.refresh(mine)
    assert mine.status == BookingStatus.AWAITING_APPROVAL

    done = submit(client, f"/bookings/{mine.id}/decline", {"reason": "Not needed for your role"})
    assert done.location == "/approvals"
    assert "Ann Asker's request has been declined and they have been told why." in plain(client.get("/approvals"))
    db.session.refresh(mine)
    assert mine.status == BookingStatus.DECLINED and mine.session.places_taken == 1

    send_due_messages()
    sent = [message_from_bytes(p.read_bytes(), policy=default_policy) for p in sorted(mail_dir.glob("*.eml"))]
    [declined] = [m for m in sent if m["To"] == mine.user.email and m["Subject"].startswith("Not approved")]
    assert "Not needed for your role" in declined.get_body(preferencelist=("plain",)).get_content()


# --- the coordinator's list of a session's bookings --------------------------------------------


def test_the_session_list_groups_bookings_and_a_coordinator_reorders_the_waiting_list(client, db, agency):
    coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
    lead = make_user(Role.AGENCY_LEAD, agency=agency, name="Lena Lead")
    session = make_session(course=make_course(title="Safety Planning", requires_approval=True), capacity=3)
    person = {
        name: make_user(agency=agency, name=name)
        for name in ("Gus Gone", "Ada Asking", "Bea Booked", "Cal Booked", "Dan", "Eve", "Fay")
    }
    gone = book(session, person["Gus Gone"])
    services.cancel_booking(gone.id, by=person["Gus Gone"], reason="Clash with court")
    book(session, person["Ada Asking"])
    book(session, person["Bea Booked"], by=lead)
    book(session, person["Cal Booked"], by=coordinator)
    for name in ("Dan", "Eve", "Fay"):
        book(session, person[name])
    signed_in(client, coordinator)

    response = client.get(f"/sessions/{session.id}/bookings")
    assert tables(response) == {
        "Booked (2)": ["Bea Booked", "Cal Booked"],
        "Awaiting approval (1)": ["Ada Asking"],
        "Waiting list (3)": ["Dan", "Eve", "Fay"],
        "Cancelled, declined or expired (1)": ["Gus Gone"],
    }
    assert "3 of 3 places taken" in plain(response)
    bea = db.session.scalar(sa.select(Booking).where(Booking.user_id == person["Bea Booked"].id))
    assert f"{format_datetime(bea.created_at)} by Lena Lead" in row_of(response, "Bea Booked")
    gus_row = row_of(response, "Gus Gone")
    assert "Cancelled" in gus_row
    assert f"{format_datetime(gone.updated_at)} by Gus Gone: Clash with court" in gus_row

    fay = db.session.scalar(sa.select(Booking).where(Booking.user_id == person["Fay"].id))
    no_reason = submit(
        client,
        f"/bookings/{fay.id}/move",
        {"position": "1", "reason": ""},
        form_page=f"/sessions/{session.id}/bookings",
        follow_redirects=True,
    )
    assert "Enter a reason for moving this person" in plain(no_reason)
    assert tables(no_reason)["Waiting list (3)"] == ["Dan", "Eve", "Fay"]

    too_far = submit(
        client,
        f"/bookings/{fay.id}/move",
        {"position": "9", "reason": "Priority"},
        form_page=f"/sessions/{session.id}/bookings",
        follow_redirects=True,
    )
    assert "Choose a position from 1 to 3" in plain(too_far)
    assert tables(too_far)["Waiting list (3)"] == ["Dan", "Eve", "Fay"]

    moved = submit(
        client,
        f"/bookings/{fay.id}/move",
        {"position": "1", "reason": "Safeguarding lead for the area"},
        form_page=f"/sessions/{session.id}/bookings",
        follow_redirects=True,
    )
    assert "Fay is now number 1 on the waiting list." in plain(moved)
    assert tables(moved)["Waiting list (3)"] == ["Fay", "Dan", "Eve"]


# --- holding places for an agency -----------------------------------------------------------


def _release_boxes(session, days_before):
    day = to_local(session.starts_at).date() - timedelta(days=days_before)
    return [str(day.day), str(day.month), str(day.year)]


def test_holding_places_checks_the_numbers_and_shows_the_hold(client, db, agency):
    session = make_session(capacity=3, starts_at=(utcnow() + timedelta(days=30)).replace(microsecond=0))
    book(session, make_user(agency=make_agency("Downs Council")))
    signed_in(client, make_user(Role.COORDINATOR))
    path = f"/sessions/{session.id}/reservations"

    empty = submit(client, path, {"agency": "0", "places": ""})
    assert PROBLEM in plain(empty)
    assert "Choose an agency" in plain(empty) and "Enter how many places to hold" in plain(empty)

    too_many = submit(client, path, {"agency": str(agency.id), "places": "3", "release_on": _release_boxes(session, 7)})
    assert too_many.status_code == 200
    assert "Only 2 places can be held: the others are booked or held" in plain(too_many)
    assert count(db, AgencyReservation) == 0

    past = submit(client, path, {"agency": str(agency.id), "places": "2", "release_on": _release_boxes(session, 40)})
    assert "The release date must be in the future" in plain(past)
    assert count(db, AgencyReservation) == 0

    held = submit(client, path, {"agency": str(agency.id), "places": "2", "release_on": _release_boxes(session, 7)})
    assert held.location == path
    page = client.get(path)
    assert "2 places are held for Wessex Police." in plain(page)
    assert re.search(r'data-label="Agency">Wessex Police</td>\s*<td[^>]*data-label="Places">2</td>', text(page))
    assert "Release now for Wessex Police" in plain(page)


def test_releasing_held_places_now_promotes_the_waiting_list(client, db, agency):
    coordinator = make_user(Role.COORDINATOR)
    session = make_session(capacity=2)
    services.reserve_places(
        session.id, agency, places=2, release_at=session.starts_at - timedelta(days=1), by=coordinator
    )
    outsider = make_user(agency=make_agency("Downs Council"), name="Olu Outsider")
    book(session, outsider)
    assert state(db, session) == ([("Olu Outsider", BookingStatus.WAITING)], 0)
    [reservation] = db.session.scalars(sa.select(AgencyReservation)).all()
    signed_in(client, coordinator)

    response = submit(
        client,
        f"/reservations/{reservation.id}/release",
        {},
        form_page=f"/sessions/{session.id}/reservations",
        follow_redirects=True,
    )

    page = plain(response)
    assert "The held places are now open to everyone." in page and "came off the waiting list" in page
    assert "Release now" not in page and "Released" in page
    assert state(db, session) == ([("Olu Outsider", BookingStatus.CONFIRMED)], 1)
    assert outbox(db, outsider.email)[-1].subject.startswith("A place has come free")

    again = submit(
        client,
        f"/reservations/{reservation.id}/release",
        {},
        form_page=f"/sessions/{session.id}/reservations",
        follow_redirects=True,
    )
    assert "These places have already been released" in plain(again)
    assert state(db, session) == ([("Olu Outsider", BookingStatus.CONFIRMED)], 1)


# --- scheduled jobs ---------------------------------------------------------------------------


def test_flask_jobs_run_expires_releases_and_reminds_exactly_once(app, db, agency, mail_dir):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    coordinator = make_user(Role.COORDINATOR)
    far = (utcnow() + timedelta(days=40)).replace(microsecond=0)

    approval = make_session(course=make_course(requires_approval=True), starts_at=far, capacity=1)
    undecided = book(approval, make_user(agency=agency, name="Ann Asker"))
    undecided.approval_due_at = utcnow() - timedelta(minutes=1)
    book(approval, make_user(agency=agency, name="Ben Waiting"), by=lead)

    held = make_session(starts_at=far, capacity=1)
    services.reserve_places(held.id, agency, places=1, release_at=utcnow() + timedelta(days=1), by=coordinator)
    book(held, make_user(agency=make_agency("Downs Council"), name="Olu Outsider"))
    # The release date has come since.
    db.session.execute(sa.update(AgencyReservation).values(release_at=utcnow() - timedelta(minutes=1)))

    soon = make_session(starts_at=(utcnow() + timedelta(days=2)).replace(microsecond=0))
    reminded = make_user(agency=agency, name="Rae Reminded")
    book(soon, reminded)
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["jobs", "run"])

    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    # Other features add their own jobs to the report: only the bookings' lines are checked here.
    for line in [
        "release-reservations: released 1",
        "expire-requests: expired 1",
        "reminders: queued 1",
    ]:
        assert line in lines, first.output
    assert state(db, approval) == (
        [("Ann Asker", BookingStatus.EXPIRED), ("Ben Waiting", BookingStatus.CONFIRMED)],
        1,
    )
    assert state(db, held) == ([("Olu Outsider", BookingStatus.CONFIRMED)], 1)
    sent = sorted(mail_dir.glob("*.eml"))

    second = runner.invoke(args=["jobs", "run"])

    assert second.exit_code == 0, second.output
    for line in [
        "release-reservations: released 0",
        "expire-requests: expired 0",
        "reminders: queued 0",
        "outbox: sent 0, failed 0, dropped 0",
    ]:
        assert line in second.output.splitlines(), second.output
    assert state(db, approval)[0][0][1] == BookingStatus.EXPIRED
    assert sorted(mail_dir.glob("*.eml")) == sent
    reminders = [m.subject for m in outbox(db, reminded.email) if m.subject.startswith("Reminder")]
    assert reminders == [f"Reminder: {soon.course.title}, {format_date(soon.starts_at)}"]


# --- list pages run a fixed number of queries -----------------------------------------------


def _viewer_and_builder(db, kind):
    """Who opens the page, the path, and a builder for one more row on it (each on its own session,
    course, programme, venue and people, so loading any of them per row would show)."""
    agency = make_agency("Home Agency")
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    n = iter(range(1000))
    asked = iter(range(1000))

    def booking(user, session=None, status=BookingStatus.CONFIRMED, **kw):
        kw.setdefault("booked_by", lead)
        row = Booking(
            session=session or make_session(),
            user=user,
            agency_id=user.agency_id,
            status=status,
            updated_by=lead,
            **kw,
        )
        db.session.add(row)
        # Every other row asked for adjustments: showing them must not cost a query a row.
        if next(asked) % 2:
            db.session.add(BookingAccessNeeds(booking=row, needs_text="hearing_loop,other", details="A ramp"))
        return row

    if kind in ("/my-bookings", "/my-bookings?tab=cancelled"):
        viewer = make_user(agency=agency)

        def build():
            if kind == "/my-bookings":
                booking(viewer, status=[BookingStatus.CONFIRMED, BookingStatus.AWAITING_APPROVAL][next(n) % 2])
            else:
                booking(viewer, status=BookingStatus.CANCELLED, transferred_to=make_user(agency=agency))

        return viewer, kind, build
    if kind == "/approvals":

        def build():
            booking(make_user(agency=agency), status=BookingStatus.AWAITING_APPROVAL)

        return lead, kind, build
    if kind == "/agency/bookings":

        def build():
            if next(n) % 2:
                booking(make_user(agency=agency))
            else:
                booking(
                    make_user(agency=agency),
                    status=BookingStatus.CANCELLED,
                    transferred_to=make_user(agency=agency),
                )

        return lead, kind, build
    coordinator = make_user(Role.COORDINATOR)
    session = make_session(capacity=100)

    def build():
        # Someone who has moved agency since booking: the booking keeps the agency they booked from.
        person = make_user(agency=make_agency())
        moved_from = make_agency()
        status = [BookingStatus.CONFIRMED, BookingStatus.WAITING, BookingStatus.CANCELLED][next(n) % 3]
        row = booking(
            person,
            session=session,
            status=status,
            booked_by=make_user(agency=moved_from),
            transferred_to=make_user(agency=moved_from) if status == BookingStatus.CANCELLED else None,
        )
        row.agency_id = moved_from.id
        row.queue_position = next(n) if status == BookingStatus.WAITING else None

    return coordinator, f"/sessions/{session.id}/bookings", build


def _rows_on(response) -> int:
    page = text(response)
    return page.count('data-label="Name"') or page.count('class="app-session-list__item"')


@pytest.mark.parametrize(
    "kind",
    [
        "/my-bookings",
        "/my-bookings?tab=cancelled",
        "/approvals",
        "/agency/bookings",
        "/sessions/<id>/bookings",
    ],
)
def test_booking_lists_run_a_fixed_number_of_queries(app, client, db, kind):
    viewer, path, build = _viewer_and_builder(db, kind)
    for _ in range(4):
        build()
    signed_in(client, viewer)

    with counting_queries(db.engine) as few:
        small = client.get(path)
    assert small.status_code == 200
    assert _rows_on(small) == 4

    for _ in range(32):
        build()
    db.session.commit()

    with counting_queries(db.engine) as many:
        large = client.get(path)
    assert large.status_code == 200
    assert _rows_on(large) == (36 if kind.startswith("/sessions") else app.config["PAGE_SIZE"])
    assert len(many) == len(few), "\n".join(["4 bookings:", *few, "", "36 bookings:", *many])
