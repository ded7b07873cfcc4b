"""Access needs asked for when booking: the question on the booking forms, the profile's saved
needs, who sees them on which page, the email to coordinators for a late booking, and the trail."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import fresh_client, make_agency, make_course, make_session, make_user
from tests.pages import error_summary, parse, plain, signed_in, submit
from tests.support import outbox
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.bookings import services
from trainapp.bookings.access_needs import (
    NeedsAnswer,
    can_see_access_needs,
    visible_access_needs,
)
from trainapp.bookings.models import AccessNeed, Booking, BookingAccessNeeds, BookingStatus, SavedAccessNeeds
from trainapp.db import utcnow
from trainapp.timezones import local_to_utc, to_local
from trainapp.workdays import add_working_days, working_days_before

PROBLEM = "There is a problem"
NEEDS_LINE = "Hearing loop, Quiet space"
DETAILS = "Please seat me near the front"


def far_ahead():
    """A session more than 10 working days away, whatever the bank holidays."""
    return (utcnow() + timedelta(days=40)).replace(microsecond=0)


def soon():
    return (utcnow() + timedelta(days=2)).replace(microsecond=0)


def booking_of(db, session, person) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.session_id == session.id, Booking.user_id == person.id)
        .execution_options(populate_existing=True)
    )


def needs_of(db, booking) -> BookingAccessNeeds | None:
    return db.session.scalar(
        sa.select(BookingAccessNeeds)
        .where(BookingAccessNeeds.booking_id == booking.id)
        .execution_options(populate_existing=True)
    )


def saved_of(db, person) -> SavedAccessNeeds | None:
    return db.session.scalar(
        sa.select(SavedAccessNeeds)
        .where(SavedAccessNeeds.user_id == person.id)
        .execution_options(populate_existing=True)
    )


def answer(*needs, details="", save=False) -> dict:
    data: dict = {"needs": [n.value for n in needs], "needs_details": details}
    if save:
        data["save_needs"] = "y"
    return data


def book_through_form(client, session, data):
    return submit(client, f"/sessions/{session.id}/book", data)


def checked_needs(response) -> list[str]:
    return [
        box["value"] for box in parse(response).find_all("input", attrs={"name": "needs"}) if box.has_attr("checked")
    ]


def details_box(response) -> str:
    return parse(response).find("textarea", attrs={"name": "needs_details"}).get_text()


def coordinators_mail(db):
    return [m for m in outbox(db) if m.kind == "access_needs_late"]


# --- booking with needs -----------------------------------------------------------------------


def test_booking_for_yourself_with_needs_records_them_and_shows_them_on_your_bookings(client, db):
    person = make_user(name="Ana Ahmed")
    session = make_session(starts_at=far_ahead())
    db.session.commit()
    signed_in(client, person)

    form = client.get(f"/sessions/{session.id}/book")
    assert "Do you need any adjustments to take part?" in plain(form)
    assert "Tell us more" in plain(form)
    assert checked_needs(form) == []

    response = book_through_form(
        client, session, answer(AccessNeed.HEARING_LOOP, AccessNeed.QUIET_SPACE, details=DETAILS)
    )
    assert response.status_code == 302

    booking = booking_of(db, session, person)
    assert booking.status == BookingStatus.CONFIRMED
    recorded = needs_of(db, booking)
    assert recorded.needs == [AccessNeed.HEARING_LOOP, AccessNeed.QUIET_SPACE]
    assert recorded.details == DETAILS
    mine = plain(client.get("/my-bookings"))
    assert f"Needs: {NEEDS_LINE}" in mine and DETAILS in mine
    assert saved_of(db, person) is None  # not saved unless asked


def test_booking_without_needs_records_none(client, db):
    person = make_user()
    session = make_session(starts_at=far_ahead())
    db.session.commit()
    signed_in(client, person)

    assert book_through_form(client, session, answer()).status_code == 302

    assert needs_of(db, booking_of(db, session, person)) is None
    assert "Needs:" not in plain(client.get("/my-bookings"))


def test_needs_saved_when_booking_fill_in_the_next_booking_form(client, db):
    person = make_user()
    first, second = make_session(starts_at=far_ahead()), make_session(starts_at=far_ahead())
    db.session.commit()
    signed_in(client, person)

    book_through_form(client, first, answer(AccessNeed.DIETARY, details="Vegan, no nuts", save=True))

    saved = saved_of(db, person)
    assert saved.needs == [AccessNeed.DIETARY] and saved.details == "Vegan, no nuts"
    form = client.get(f"/sessions/{second.id}/book")
    assert checked_needs(form) == ["dietary"]
    assert details_box(form).strip() == "Vegan, no nuts"


def test_the_account_page_changes_and_clears_saved_needs(client, db):
    person = make_user()
    db.session.add(SavedAccessNeeds(user=person, needs_text="step_free", details="I use a wheelchair"))
    db.session.commit()
    signed_in(client, person)

    account = plain(client.get("/account"))
    assert "Access needs" in account
    page = client.get("/account/access-needs")
    assert checked_needs(page) == ["step_free"] and "I use a wheelchair" in details_box(page)

    changed = submit(client, "/account/access-needs", answer(AccessNeed.LARGE_PRINT, details=""))
    assert changed.status_code == 302
    assert saved_of(db, person).needs == [AccessNeed.LARGE_PRINT]
    assert saved_of(db, person).details == ""

    cleared = submit(client, "/account/access-needs", {"clear": "Clear my access needs"})
    assert cleared.status_code == 302
    assert saved_of(db, person) is None
    assert checked_needs(client.get(f"/sessions/{make_session().id}/book")) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (answer(AccessNeed.OTHER), "Tell us more about the other adjustment you need"),
        (answer(AccessNeed.DIETARY, details="   "), "Tell us more about your dietary requirement"),
        (
            answer(AccessNeed.OTHER, details="Needs\x1b[31m a ramp"),
            "Tell us more must not contain tabs or other special characters",
        ),
        (answer(AccessNeed.OTHER, details="x" * 1001), "Tell us more must be 1,000 characters or fewer"),
        ({"needs": ["teleport"], "needs_details": ""}, "Select adjustments from the list"),
        (
            answer(details="A ramp"),
            "Select the adjustments you need, or Other if they are not in the list",
        ),
    ],
)
def test_a_wrong_answer_books_nothing_and_says_what_to_put_right(client, db, data, message):
    person = make_user()
    session = make_session(starts_at=far_ahead())
    db.session.commit()
    signed_in(client, person)

    response = book_through_form(client, session, {**data, "save_needs": "y"})

    assert response.status_code == 400
    assert PROBLEM in plain(response)
    assert message in error_summary(response)
    assert booking_of(db, session, person) is None
    assert saved_of(db, person) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BookingAccessNeeds)) == 0


def test_line_breaks_emoji_and_formulas_in_the_details_are_kept_as_text(client, db):
    person = make_user()
    session = make_session(starts_at=far_ahead())
    db.session.commit()
    signed_in(client, person)
    details = "=1+1\r\nVegan 🌱 <b>please</b>"

    assert book_through_form(client, session, answer(AccessNeed.DIETARY, details=details)).status_code == 302

    assert needs_of(db, booking_of(db, session, person)).details == "=1+1\nVegan 🌱 <b>please</b>"
    page = client.get("/my-bookings")
    assert "<b>please</b>" not in page.get_data(as_text=True)
    assert "Vegan 🌱 <b>please</b>" in plain(page)


# --- booking on behalf of others ---------------------------------------------------------------


def test_an_agency_lead_booking_for_staff_records_their_needs(client, db):
    agency = make_agency()
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    ana, ben = make_user(agency=agency, name="Ana Ahmed"), make_user(agency=agency, name="Ben Brook")
    session = make_session(starts_at=far_ahead())
    db.session.commit()
    signed_in(client, lead)
    path = f"/sessions/{session.id}/book-for"
    form = client.get(path)
    assert "Do they need any adjustments to take part?" in plain(form)
    assert "Save these for my next booking" not in plain(form)

    response = submit(
        client, path, {"people": [ana.id], **answer(AccessNeed.BSL_INTERPRETER, details="Two interpreters")}
    )
    assert response.status_code == 302

    recorded = needs_of(db, booking_of(db, session, ana))
    assert recorded.needs == [AccessNeed.BSL_INTERPRETER] and recorded.details == "Two interpreters"
    assert saved_of(db, ana) is None
    lead_list = plain(client.get("/agency/bookings"))
    assert "Needs: British Sign Language (BSL) interpreter" in lead_list

    wrong = submit(client, path, {"people": [ben.id], **answer(AccessNeed.OTHER)})
    assert wrong.status_code == 400
    assert "Tell us more about the other adjustment they need" in error_summary(wrong)
    assert booking_of(db, session, ben) is None


# --- changing needs on a booking -------------------------------------------------------------------


def test_the_person_changes_their_needs_on_a_live_booking_and_the_trail_keeps_no_content(client, db):
    person = make_user()
    session = make_session(starts_at=far_ahead())
    booking = services.book_place(session.id, person, by=person)
    db.session.commit()
    signed_in(client, person)
    path = f"/bookings/{booking.id}/access-needs"
    assert f'href="{path}"' in client.get("/my-bookings").get_data(as_text=True)

    added = submit(client, path, answer(AccessNeed.LARGE_PRINT, details="Size 18 at least"))
    assert added.status_code == 302
    assert needs_of(db, booking).needs == [AccessNeed.LARGE_PRINT]
    changed = submit(client, path, answer(AccessNeed.STEP_FREE))
    assert changed.status_code == 302
    assert needs_of(db, booking).needs == [AccessNeed.STEP_FREE]
    assert needs_of(db, booking).details == ""

    trail = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("booking.access_needs%")).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in trail] == ["booking.access_needs_added", "booking.access_needs_changed"]
    everything = " ".join(f"{e.before} {e.after} {e.reason}" for e in trail)
    assert "large" not in everything.lower() and "step" not in everything.lower() and "18" not in everything


def test_needs_cannot_be_changed_on_a_cancelled_booking_but_are_kept(client, db):
    person = make_user()
    session = make_session(starts_at=far_ahead())
    booking = services.book_place(
        session.id, person, by=person, needs=NeedsAnswer([AccessNeed.QUIET_SPACE], "", save_to_profile=False)
    )
    services.cancel_booking(booking.id, by=person)
    db.session.commit()
    signed_in(client, person)

    response = submit(
        client, f"/bookings/{booking.id}/access-needs", answer(AccessNeed.HEARING_LOOP), form_page="/my-bookings"
    )

    assert response.status_code == 400
    assert "This booking is cancelled: its access needs can no longer be changed" in error_summary(response)
    assert needs_of(db, booking).needs == [AccessNeed.QUIET_SPACE]


def test_someone_elses_booking_needs_cannot_be_changed(client, db):
    owner, stranger = make_user(), make_user()
    session = make_session(starts_at=far_ahead())
    booking = services.book_place(session.id, owner, by=owner)
    db.session.commit()
    signed_in(client, stranger)

    assert client.get(f"/bookings/{booking.id}/access-needs").status_code == 404


# --- who sees them ------------------------------------------------------------------------------


class Matrix:
    """A booking with needs, and one person of each kind who might look at it."""

    def __init__(self, db):
        home, other = make_agency("Home Agency"), make_agency("Other Agency")
        self.people = {
            "person": make_user(agency=home, name="Ana Ahmed"),
            "own lead": make_user(Role.AGENCY_LEAD, agency=home),
            "other agency's lead": make_user(Role.AGENCY_LEAD, agency=other),
            "session trainer": make_user(Role.TRAINER, agency=home),
            "other trainer": make_user(Role.TRAINER, agency=home),
            "coordinator": make_user(Role.COORDINATOR),
            "other staff": make_user(agency=home),
        }
        # Started an hour ago, so the register is open as on the day.
        self.session = make_session(
            starts_at=(utcnow() - timedelta(hours=1)).replace(microsecond=0),
            hours=3,
            trainers=[self.people["session trainer"]],
        )
        self.booking = Booking(
            session=self.session, user=self.people["person"], agency_id=home.id, status=BookingStatus.CONFIRMED
        )
        self.session.places_taken += 1
        db.session.add(self.booking)
        db.session.flush()
        needs = BookingAccessNeeds(booking=self.booking, details=DETAILS)
        needs.needs = [AccessNeed.HEARING_LOOP, AccessNeed.QUIET_SPACE]
        db.session.add(needs)
        db.session.commit()


VIEWERS = [
    "person",
    "own lead",
    "other agency's lead",
    "session trainer",
    "other trainer",
    "coordinator",
    "other staff",
]
PAGES = {
    "my bookings": ("/my-bookings", {"person"}),
    "session bookings": ("/sessions/{id}/bookings", {"session trainer", "coordinator"}),
    "register": ("/sessions/{id}/register", {"session trainer", "coordinator"}),
    "agency bookings": ("/agency/bookings", {"own lead"}),
}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("page", PAGES)
def test_needs_are_shown_only_to_the_person_their_lead_the_sessions_trainers_and_coordinators(app, db, page, viewer):
    m = Matrix(db)
    path, sees = PAGES[page]
    client = signed_in(fresh_client(app), m.people[viewer])

    response = client.get(path.format(id=m.session.id))

    shown = plain(response)
    if viewer in sees:
        assert response.status_code == 200
        assert f"Needs: {NEEDS_LINE}" in shown and DETAILS in shown
    else:
        assert "Hearing loop" not in shown and DETAILS not in shown


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_rule_and_its_query_agree_for_everyone(db, viewer):
    m = Matrix(db)
    who = m.people[viewer]
    allowed = viewer in {"person", "own lead", "session trainer", "coordinator"}

    assert can_see_access_needs(who, m.booking) is allowed
    assert (m.booking.id in visible_access_needs(who, [m.booking])) is allowed


def test_erased_needs_are_shown_to_nobody(db):
    m = Matrix(db)
    m.booking.access_needs.erased_at = utcnow()
    m.booking.access_needs.needs = []
    m.booking.access_needs.details = ""
    db.session.commit()

    assert visible_access_needs(m.people["coordinator"], [m.booking]) == {}


# --- the email to coordinators for a late booking --------------------------------------------


def test_a_late_booking_with_needs_emails_the_coordinators_mailbox(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "COORDINATORS_EMAIL", "training-team@partnership.example.org")
    person = make_user(name="Ana Ahmed")
    session = make_session(starts_at=soon(), course=make_course(title="Safeguarding Adults"))
    db.session.commit()
    signed_in(client, person)

    book_through_form(client, session, answer(AccessNeed.HEARING_LOOP, AccessNeed.OTHER, details="A ramp, please"))

    [message] = coordinators_mail(db)
    assert message.recipient == "training-team@partnership.example.org"
    assert "Safeguarding Adults" in message.subject
    for private in ("Hearing", "ramp", "Other"):
        assert private not in message.subject
    assert "Ana Ahmed" in message.body
    assert "Hearing loop" in message.body and "A ramp, please" in message.body
    assert f"http://localhost/sessions/{session.id}/bookings" in message.body
    assert "Safeguarding Adults" in message.body


def test_without_a_mailbox_every_active_coordinator_is_emailed(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "COORDINATORS_EMAIL", "")
    cora, colm = make_user(Role.COORDINATOR), make_user(Role.COORDINATOR)
    make_user(Role.COORDINATOR, active=False)
    person = make_user()
    session = make_session(starts_at=soon())

    services.book_place(session.id, person, by=person, needs=NeedsAnswer([AccessNeed.STEP_FREE], ""))

    assert sorted(m.recipient for m in coordinators_mail(db)) == sorted([cora.email, colm.email])


def _session_on(day):
    return make_session(starts_at=local_to_utc(day, time(10)))


def test_the_email_goes_only_when_fewer_than_ten_working_days_are_left(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "COORDINATORS_EMAIL", "team@example.org")
    session_day = add_working_days(to_local(utcnow()).date(), 30)
    session = _session_on(session_day)
    ten_ahead = local_to_utc(working_days_before(session_day, 10), time(9))
    nine_ahead = local_to_utc(working_days_before(session_day, 9), time(9))
    needs = NeedsAnswer([AccessNeed.LARGE_PRINT], "")

    services.book_place(session.id, make_user(), by=make_user(Role.COORDINATOR), now=ten_ahead, needs=needs)
    assert coordinators_mail(db) == []
    services.book_place(session.id, make_user(), by=make_user(Role.COORDINATOR), now=nine_ahead, needs=needs)
    assert len(coordinators_mail(db)) == 1


def test_a_late_booking_without_needs_sends_no_email(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "COORDINATORS_EMAIL", "team@example.org")
    person = make_user()
    services.book_place(make_session(starts_at=soon()).id, person, by=person, needs=NeedsAnswer([], ""))
    services.book_place(make_session(starts_at=soon()).id, person, by=person)

    assert coordinators_mail(db) == []


def test_changing_needs_late_emails_the_coordinators_again(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "COORDINATORS_EMAIL", "team@example.org")
    person = make_user(name="Ana Ahmed")
    session = make_session(starts_at=soon())
    booking = services.book_place(session.id, person, by=person)
    db.session.commit()
    signed_in(client, person)
    path = f"/bookings/{booking.id}/access-needs"

    submit(client, path, answer(AccessNeed.STEP_FREE))
    submit(client, path, answer(AccessNeed.STEP_FREE))  # nothing changed: nothing new to arrange
    submit(client, path, answer(AccessNeed.STEP_FREE, AccessNeed.LARGE_PRINT))

    bodies = [m.body for m in coordinators_mail(db)]
    assert len(bodies) == 2
    assert "has asked for adjustments" in bodies[0]
    assert "has changed the adjustments they need" in bodies[1]
    assert "Step-free access, Large print" in bodies[1]
