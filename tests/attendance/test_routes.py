"""Register, walk-in, learner record, evaluation and certificate pages through their real forms
(CSRF included).

Who may open which page is covered by tests/core/test_access.py; the rules in depth by test_services.py.
"""

import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from tests.factories import (
    fresh_client,
    make_agency,
    make_course,
    make_session,
    make_user,
)
from tests.pages import error_summary, field_error, parse, plain, signed_in, submit
from tests.support import counting_queries, outbox
from trainapp.accounts.models import AgencyKind, Role, User
from trainapp.attendance.models import Certificate, Evaluation, RegisterSubmission
from trainapp.audit import AuditEvent
from trainapp.bookings.models import AttendanceStatus, Booking, BookingAccessNeeds, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxMessage
from trainapp.timezones import format_date

PROBLEM = "There is a problem"
ATTENDED, PARTIAL, NO_SHOW = AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL, AttendanceStatus.NO_SHOW


# --- helpers ------------------------------------------------------------------------


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def checked(response, booking) -> str | None:
    """The status value checked for a booking's row on the register page."""
    for tag in re.findall(rf'<input[^>]*name="mark-{booking.id}"[^>]*>', response.get_data(as_text=True)):
        if " checked" in tag:
            return re.search(r'value="([^"]+)"', tag).group(1)
    return None


def marks(db, session) -> dict[str, tuple]:
    rows = db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id)
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    ).all()
    return {b.user.name: (b.attendance, b.minutes_missed) for b in rows}


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def now():
    return utcnow().replace(microsecond=0)


def booked(session, person, **kw):
    """A confirmed place, as booking made it (the session's count included)."""
    from trainapp.extensions import db

    booking = Booking(session=session, user=person, agency_id=person.agency_id, status=BookingStatus.CONFIRMED, **kw)
    db.session.add(booking)
    if not booking.is_walk_in:
        session.places_taken += 1
    db.session.flush()
    return booking


class World:
    """Today's two-hour session, under way: its trainer, a coordinator, and three people booked."""

    def __init__(self, db):
        self.police = make_agency("Wessex Police", kind=AgencyKind.POLICE)
        self.council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
        self.police_lead = make_user(
            Role.AGENCY_LEAD, agency=self.police, name="Pat Lead", email="pat.lead@police.example.org"
        )
        self.trainer = make_user(Role.TRAINER, agency=self.police, name="Tess Trainer")
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.course = make_course(title="Safeguarding Adults", cpd_hours=Decimal("2"), refresher_months=12)
        self.session = make_session(
            course=self.course, starts_at=now() - timedelta(hours=1), hours=2, capacity=3, trainers=[self.trainer]
        )
        self.ana = make_user(agency=self.police, name="Ana Ahmed", email="ana@police.example.org")
        self.ben = make_user(agency=self.police, name="Ben Brook", email="ben@police.example.org")
        self.cat = make_user(agency=self.council, name="Cat Cole", email="cat@council.example.org")
        self.ana_booking, self.ben_booking, self.cat_booking = (
            booked(self.session, p) for p in (self.ana, self.ben, self.cat)
        )
        self.path = f"/sessions/{self.session.id}/register"
        db.session.commit()

    def all_marked(self, status=ATTENDED):
        return {f"mark-{b.id}": str(status) for b in (self.ana_booking, self.ben_booking, self.cat_booking)}


@pytest.fixture
def w(db):
    return World(db)


@pytest.fixture
def trainer(client, w):
    return signed_in(client, w.trainer)


UNMARKED = {"Ana Ahmed": (None, None), "Ben Brook": (None, None), "Cat Cole": (None, None)}


# --- the register page ------------------------------------------------------------------


def test_the_register_lists_each_learner_with_their_agency_and_every_mark(trainer, w):
    page = trainer.get(w.path)

    assert page.status_code == 200
    shown = plain(page)
    assert "Register: Safeguarding Adults" in shown
    assert "3 on the register (0 walk-ins)." in shown
    legends = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", legend)).strip()
        for legend in re.findall(r"<legend[^>]*>(.*?)</legend>", text(page), flags=re.S)
    ]
    assert legends == ["Ana Ahmed Wessex Police", "Ben Brook Wessex Police", "Cat Cole Downs Council"]
    assert "&lt;span" not in page.get_data(as_text=True)  # the legend's markup is markup, not text
    labels = re.findall(rf'<label[^>]*for="mark-{w.ana_booking.id}[^"]*">\s*([^<]+?)\s*</label>', text(page))
    assert labels == [
        "Attended",
        "Partially attended",
        "Late and turned away",
        "No-show",
        "Unable to attend (gave notice)",
    ]
    assert f'for="minutes-{w.ben_booking.id}">' in page.get_data(as_text=True)
    for button in ("Mark everyone attended", "Add a walk-in", "Submit the register", "Save marks"):
        assert button in shown
    assert "Reason for the correction" not in shown


def minutes_reveal(response, booking):
    """How a row's minutes box is revealed: (the radios that control it, the box's element, its classes)."""
    page = parse(response)
    controllers = page.find_all("input", attrs={"name": f"mark-{booking.id}", "data-aria-controls": True})
    [box] = [page.find(id=radio["data-aria-controls"]) for radio in controllers] or [None]
    return [radio["value"] for radio in controllers], box, (box.get("class", []) if box else [])


def test_the_minutes_box_is_revealed_by_choosing_partially_attended_and_hidden_otherwise(db, trainer, w):
    w.ben_booking.attendance, w.ben_booking.minutes_missed = PARTIAL, 25
    db.session.commit()
    page = trainer.get(w.path)

    for booking in (w.ana_booking, w.ben_booking, w.cat_booking):
        controllers, box, classes = minutes_reveal(page, booking)
        # Only "Partially attended" reveals the box, and the box holds that row's minutes field.
        assert controllers == ["partial"]
        assert "govuk-radios__conditional" in classes
        assert box.find("input", attrs={"name": f"minutes-{booking.id}", "id": f"minutes-{booking.id}"})
        assert box.find("label", attrs={"for": f"minutes-{booking.id}"}).get_text(strip=True) == "Minutes missed"
    # Hidden for rows not marked partial; shown for the one that is, with its minutes.
    assert "govuk-radios__conditional--hidden" in minutes_reveal(page, w.ana_booking)[2]
    assert "govuk-radios__conditional--hidden" in minutes_reveal(page, w.cat_booking)[2]
    _, ben_box, ben_classes = minutes_reveal(page, w.ben_booking)
    assert "govuk-radios__conditional--hidden" not in ben_classes
    assert ben_box.find("input", attrs={"name": f"minutes-{w.ben_booking.id}"})["value"] == "25"
    # GOV.UK Frontend's radios script only acts inside an element marked as its module.
    radios = parse(page).find("input", attrs={"name": f"mark-{w.ana_booking.id}"}).find_parent(class_="govuk-radios")
    assert radios.get("data-module") == "govuk-radios"


def test_saving_marks_keeps_them_and_shows_them_checked(db, trainer, w):
    response = submit(
        trainer,
        w.path,
        {
            f"mark-{w.ana_booking.id}": "attended",
            f"mark-{w.ben_booking.id}": "partial",
            f"minutes-{w.ben_booking.id}": "25",
            f"mark-{w.cat_booking.id}": "",
            "save": "Save marks",
        },
    )

    assert response.status_code == 302 and response.location == w.path
    assert marks(db, w.session) == {"Ana Ahmed": (ATTENDED, None), "Ben Brook": (PARTIAL, 25), "Cat Cole": (None, None)}
    page = trainer.get(w.path)
    assert "The marks have been saved." in plain(page)
    assert (checked(page, w.ana_booking), checked(page, w.ben_booking), checked(page, w.cat_booking)) == (
        "attended",
        "partial",
        None,
    )
    assert f'id="minutes-{w.ben_booking.id}" name="minutes-{w.ben_booking.id}" type="text" value="25"' in text(page)
    assert w.session.status == SessionStatus.SCHEDULED  # saving is not submitting


@pytest.mark.parametrize("forged", ["late", "ATTENDED", "deleted", "1"])
def test_a_forged_status_is_a_bad_request_and_nothing_is_marked(db, trainer, w, forged):
    response = submit(
        trainer,
        w.path,
        {
            f"mark-{w.ana_booking.id}": "attended",
            f"mark-{w.ben_booking.id}": forged,
            "save": "Save marks",
        },
    )
    assert response.status_code == 400
    assert marks(db, w.session) == UNMARKED
    assert count(db, AuditEvent) == 0


@pytest.mark.parametrize("minutes", ["", "0", "120", "twenty"])
def test_partial_attendance_without_sensible_minutes_shows_the_error_summary(db, trainer, w, minutes):
    response = submit(
        trainer,
        w.path,
        {
            f"mark-{w.ana_booking.id}": "attended",
            f"mark-{w.ben_booking.id}": "partial",
            f"minutes-{w.ben_booking.id}": minutes,
            "save": "Save marks",
        },
    )

    message = "For Ben Brook, enter the minutes missed: between 1 and 119"
    assert response.status_code == 200
    assert error_summary(response) == [message]
    assert field_error(response, f"minutes-{w.ben_booking.id}") == f"Error: {message}"
    assert "<title>Error: Register" in response.get_data(as_text=True)
    # What was chosen is still chosen, so the trainer only adds the minutes.
    assert (checked(response, w.ana_booking), checked(response, w.ben_booking)) == ("attended", "partial")
    assert marks(db, w.session) == UNMARKED


def test_submitting_with_someone_unmarked_says_who_and_saves_nothing(db, trainer, w):
    response = submit(
        trainer,
        w.path,
        {
            f"mark-{w.ana_booking.id}": "attended",
            f"mark-{w.ben_booking.id}": "no_show",
            "submit": "Submit the register",
        },
    )

    assert response.status_code == 200
    assert error_summary(response) == ["Mark everyone before submitting. Not marked: Cat Cole"]
    assert marks(db, w.session) == UNMARKED
    assert count(db, RegisterSubmission) == 0 and outbox(db, w.police_lead.email) == []
    db.session.refresh(w.session)
    assert w.session.status == SessionStatus.SCHEDULED


def test_submitting_the_register_marks_the_session_delivered(app, db, trainer, w):
    data = {**w.all_marked(), f"mark-{w.cat_booking.id}": "unable", "submit": "Submit the register"}
    response = submit(trainer, w.path, data)

    assert response.status_code == 302 and response.location == w.path
    page = plain(trainer.get(w.path))
    assert "The register has been submitted and the session marked delivered." in page
    assert "Submitted by Tess Trainer" in page
    db.session.refresh(w.session)
    assert w.session.status == SessionStatus.DELIVERED
    assert marks(db, w.session)["Cat Cole"] == (AttendanceStatus.UNABLE, None)
    coordinator = signed_in(fresh_client(app), w.coordinator)
    session_page = plain(coordinator.get(f"/sessions/{w.session.id}"))
    assert "Delivered The register has been submitted." in session_page


def test_mark_everyone_attended_then_change_one_to_a_no_show(db, trainer, w):
    response = submit(trainer, f"{w.path}/everyone-attended", {"submit": "Mark everyone attended"}, form_page=w.path)
    assert response.status_code == 302 and response.location == w.path
    page = trainer.get(w.path)
    assert "Everyone is marked attended. Change anyone who was not, then submit the register." in plain(page)
    assert {checked(page, b) for b in (w.ana_booking, w.ben_booking, w.cat_booking)} == {"attended"}

    submit(trainer, w.path, {**w.all_marked(), f"mark-{w.ben_booking.id}": "no_show", "save": "Save marks"})

    assert marks(db, w.session) == {
        "Ana Ahmed": (ATTENDED, None),
        "Ben Brook": (NO_SHOW, None),
        "Cat Cole": (ATTENDED, None),
    }
    [email] = outbox(db, w.police_lead.email)
    assert email.subject == "No-show: Ben Brook, Safeguarding Adults"


# --- when the register may be changed -----------------------------------------------------


def test_before_the_session_starts_the_register_is_shown_but_cannot_be_marked(db, client, w):
    w.session.starts_at, w.session.ends_at = now() + timedelta(hours=2), now() + timedelta(hours=4)
    db.session.commit()
    signed_in(client, w.trainer)

    page = client.get(w.path)
    assert "The register opens when the session starts." in plain(page)
    assert " disabled" in re.search(r'<input class="govuk-radios__input"[^>]*>', page.get_data(as_text=True)).group(0)
    assert "Save marks" not in plain(page) and "Mark everyone attended" not in plain(page)

    forged = submit(client, w.path, {**w.all_marked(), "save": "Save marks"})
    assert forged.status_code == 200
    assert error_summary(forged) == ["The register opens when the session starts"]
    everyone = submit(client, f"{w.path}/everyone-attended", {"submit": "y"}, form_page=w.path)
    assert "The register opens when the session starts" in plain(client.get(everyone.location))
    assert marks(db, w.session) == UNMARKED


def _lock(db, w, days_ago=10):
    w.session.starts_at = now() - timedelta(days=days_ago)
    w.session.ends_at = w.session.starts_at + timedelta(hours=2)
    db.session.commit()


def test_a_locked_register_tells_the_trainer_and_cannot_be_changed(db, client, w):
    w.ana_booking.attendance = ATTENDED
    _lock(db, w)
    signed_in(client, w.trainer)

    page = client.get(w.path)
    assert "The register is locked. Ask a coordinator to correct it." in plain(page)
    radios = re.findall(r'<input class="govuk-radios__input"[^>]*>', page.get_data(as_text=True))
    assert len(radios) == 15 and all(" disabled" in radio for radio in radios)
    assert checked(page, w.ana_booking) == "attended"
    for button in ("Save marks", "Submit the register", "Mark everyone attended", "Add a walk-in"):
        assert button not in plain(page)

    forged = submit(client, w.path, {f"mark-{w.ana_booking.id}": "no_show", "save": "Save marks"})
    assert forged.status_code == 200
    assert error_summary(forged) == ["The register is locked. Ask a coordinator to correct it"]
    everyone = submit(client, f"{w.path}/everyone-attended", {"submit": "y"}, form_page=w.path)
    assert error_summary(client.get(everyone.location)) == ["The register is locked. Ask a coordinator to correct it"]
    walk_in = submit(client, f"{w.path}/walk-in", {"email": w.police_lead.email})
    assert error_summary(walk_in) == ["The register is locked. Ask a coordinator to correct it"]
    assert marks(db, w.session) == {**UNMARKED, "Ana Ahmed": (ATTENDED, None)}
    assert count(db, AuditEvent) == 0


def test_six_days_after_the_end_the_trainer_can_still_change_it(db, client, w):
    _lock(db, w, days_ago=6)
    signed_in(client, w.trainer)
    assert "locked" not in plain(client.get(w.path))
    assert submit(client, w.path, {**w.all_marked(), "save": "y"}).status_code == 302
    assert {m for m, _ in marks(db, w.session).values()} == {ATTENDED}


def test_a_coordinator_correcting_a_locked_register_must_give_a_reason(db, client, w):
    w.ana_booking.attendance = ATTENDED
    _lock(db, w)
    signed_in(client, w.coordinator)

    page = client.get(w.path)
    assert "The register is locked: a correction needs a reason." in plain(page)
    assert " disabled" not in page.get_data(as_text=True)
    assert "Reason for the correction" in plain(page)

    refused = submit(client, w.path, {f"mark-{w.ana_booking.id}": "no_show", "reason": "  ", "save": "y"})
    assert refused.status_code == 200
    assert error_summary(refused) == ["Enter a reason for correcting a locked register"]
    assert field_error(refused, "reason") == "Error: Enter a reason for correcting a locked register"
    assert marks(db, w.session)["Ana Ahmed"] == (ATTENDED, None)

    done = submit(
        client, w.path, {f"mark-{w.ana_booking.id}": "no_show", "reason": "Signed in, then left", "save": "y"}
    )
    assert done.status_code == 302
    assert marks(db, w.session)["Ana Ahmed"] == (NO_SHOW, None)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "attendance.marked")).one()
    assert (event.actor_id, event.reason, event.before["attendance"], event.after["attendance"]) == (
        w.coordinator.id,
        "Signed in, then left",
        "attended",
        "no_show",
    )


# --- walk-ins -----------------------------------------------------------------------------


def test_an_existing_person_is_added_as_a_walk_in_beyond_capacity(db, trainer, w):
    walker = make_user(agency=w.council, name="Wal King", email="wal@council.example.org")
    db.session.commit()

    form = trainer.get(f"{w.path}/walk-in")
    assert form.status_code == 200
    for label in ("Email address", "Full name", "Agency"):
        assert label in plain(form)
    response = submit(trainer, f"{w.path}/walk-in", {"email": "WAL@council.example.org", "agency": "0"})

    assert response.status_code == 302 and response.location == w.path
    page = trainer.get(w.path)
    assert "Wal King has been added as a walk-in and marked attended." in plain(page)
    assert "4 on the register (1 walk-in)." in plain(page)
    assert "Wal King Downs Council · walk-in" in plain(page)
    booking = db.session.scalars(sa.select(Booking).where(Booking.user_id == walker.id)).one()
    assert (booking.is_walk_in, booking.attendance, checked(page, booking)) == (True, ATTENDED, "attended")
    db.session.refresh(w.session)
    assert (w.session.places_taken, w.session.capacity) == (3, 3)


def test_a_new_person_walks_in_and_is_sent_a_link_to_choose_a_password(db, trainer, w):
    response = submit(
        trainer,
        f"{w.path}/walk-in",
        {
            "email": "nia.newcomer@council.example.org",
            "name": "Nia Newcomer",
            "agency": str(w.council.id),
        },
    )

    assert response.status_code == 302
    person = db.session.scalars(sa.select(User).where(User.email == "nia.newcomer@council.example.org")).one()
    assert (person.name, person.agency_id, person.role) == ("Nia Newcomer", w.council.id, Role.STAFF)
    [email] = outbox(db, person.email)
    assert email.subject == "Your training account"
    assert "http://localhost/password/reset/" in email.body
    assert "Nia Newcomer Downs Council · walk-in" in plain(trainer.get(w.path))


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"email": "", "name": "Nia", "agency": "council"}, ["Enter the walk-in's email address"]),
        ({"email": "nia@council.example.org", "name": "", "agency": "council"}, ["Enter the walk-in's full name"]),
        ({"email": "nia@council.example.org", "name": "Nia", "agency": "0"}, ["Choose the walk-in's agency"]),
        (
            {"email": "nia@", "name": "Nia", "agency": "council"},
            ["Enter an email address in the correct format, like name@example.org"],
        ),
        ({"email": "nia@council.example.org", "name": "Nia", "agency": "999999"}, ["Choose agency from the list"]),
    ],
    ids=["no email", "no name", "no agency", "bad email", "forged agency"],
)
def test_a_new_walk_in_with_something_missing_shows_what_and_creates_nothing(db, trainer, w, data, messages):
    if data["agency"] == "council":
        data = {**data, "agency": str(w.council.id)}
    people = count(db, User)
    response = submit(trainer, f"{w.path}/walk-in", data)
    assert response.status_code == 200
    assert error_summary(response) == messages
    assert count(db, User) == people and count(db, OutboxMessage) == 0
    assert len(marks(db, w.session)) == 3


def test_someone_already_booked_cannot_be_added_as_a_walk_in(db, trainer, w):
    response = submit(trainer, f"{w.path}/walk-in", {"email": w.ana.email})
    assert response.status_code == 200
    assert error_summary(response) == ["Ana Ahmed is already on this session's list"]
    assert field_error(response, "email") == "Error: Ana Ahmed is already on this session's list"
    assert marks(db, w.session) == UNMARKED and count(db, AuditEvent) == 0


# --- learner records ----------------------------------------------------------------------


def past_session(course, days_ago, trainer=None):
    start = now() - timedelta(days=days_ago)
    return make_session(course=course, starts_at=start, hours=2, trainers=[trainer] if trainer else None)


@pytest.fixture
def history(db, w):
    """Ana's record: attended in date, due soon and overdue courses, a partial, and a certificate."""
    in_date = make_course(title="Risk Assessment", cpd_hours=Decimal("3"), refresher_months=36)
    due_soon = make_course(title="First Aid", cpd_hours=Decimal("6"), refresher_months=12)
    overdue = make_course(title="Information Sharing", cpd_hours=Decimal("1.5"), refresher_months=6)
    partial = make_course(title="Coercive Control", cpd_hours=Decimal("4"))
    feedback_first = make_course(
        title="Trauma-informed Practice", cpd_hours=Decimal("2"), certificate_needs_evaluation=True
    )
    ana = w.ana
    h = type("History", (), {})()
    h.in_date = booked(past_session(in_date, 30), ana, attendance=ATTENDED)
    h.due_soon = booked(past_session(due_soon, 330), ana, attendance=ATTENDED)
    h.overdue = booked(past_session(overdue, 200), ana, attendance=ATTENDED)
    h.partial = booked(past_session(partial, 20), ana, attendance=PARTIAL, minutes_missed=40)
    h.feedback_first = booked(past_session(feedback_first, 10), ana, attendance=ATTENDED)
    h.certificate = Certificate(booking=h.in_date, number="KQ7MX-2PR9T")
    db.session.add(h.certificate)
    db.session.commit()
    return h


def _history_rows(response) -> dict[str, str]:
    """Each history row's course mapped to the row's text."""
    table = re.search(r"<caption[^>]*>Training history</caption>.*?</table>", text(response), flags=re.S).group(0)
    rows = {}
    for row in re.findall(r"<tr class=\"govuk-table__row\">.*?</tr>", table, flags=re.S)[1:]:
        cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        rows[re.search(r'data-label="Course">([^<]+)<', row).group(1)] = cells
    return rows


def _refreshers(response) -> list[tuple[str, str]]:
    table = re.search(r"<caption[^>]*>Refreshers</caption>.*?</table>", text(response), flags=re.S).group(0)
    return re.findall(
        r'data-label="Course"><a[^>]*>([^<]+)</a>.*?<strong class="govuk-tag[^"]*">([^<]+)</strong>', table, flags=re.S
    )


def test_my_training_shows_history_cpd_total_refreshers_and_certificate_links(db, client, w, history):
    signed_in(client, w.ana)
    page = client.get("/my-training")

    assert page.status_code == 200
    assert "12.5 CPD hours from completed courses." in plain(page)  # 3 + 6 + 1.5 + 2, not the partial
    assert _refreshers(page) == [
        ("Information Sharing", "Overdue"),
        ("First Aid", "Due soon"),
        ("Risk Assessment", "In date"),
    ]
    rows = _history_rows(page)
    assert list(rows) == [
        "Trauma-informed Practice",
        "Coercive Control",
        "Risk Assessment",
        "Information Sharing",
        "First Aid",
    ]  # most recent first; today's session not yet over
    assert "Partially attended (40 minutes missed)" in rows["Coercive Control"]
    assert f"{format_date(history.in_date.session.starts_at)} Attended 3" in rows["Risk Assessment"]
    html = text(page)
    assert f'href="/bookings/{history.in_date.id}/certificate">View' in html
    assert f'href="/bookings/{history.in_date.id}/certificate.pdf">Download PDF' in html
    assert f'action="/bookings/{history.due_soon.id}/certificate/issue"' in html
    assert "Give feedback to get it" in rows["Trauma-informed Practice"]
    assert f'action="/bookings/{history.feedback_first.id}/certificate/issue"' not in html
    assert "/certificate" not in rows["Coercive Control"] and "Get certificate" not in rows["Coercive Control"]


def test_an_agency_lead_sees_a_staff_members_record_and_who_is_due(app, db, w, history):
    lead = signed_in(fresh_client(app), w.police_lead)

    record = lead.get(f"/people/{w.ana.id}/training")
    assert record.status_code == 200
    assert "Training record: Ana Ahmed" in plain(record)
    assert "12.5 CPD hours" in plain(record)
    assert _refreshers(record)[0] == ("Information Sharing", "Overdue")
    assert "Get certificate" not in plain(record)  # only the learner asks for one

    due = plain(lead.get("/refreshers"))
    assert "Staff in Wessex Police whose training is overdue or due within 90 days." in due
    assert "Ana Ahmed Information Sharing" in due and "Overdue" in due
    assert "Ana Ahmed First Aid" in due and "Due soon" in due
    assert "Risk Assessment" not in due  # in date


def test_the_refreshers_page_shows_each_lead_only_their_agencys_staff(app, db, w):
    half_yearly = make_course(title="Information Sharing", refresher_months=6)
    booked(past_session(half_yearly, 200), w.ana, attendance=ATTENDED)
    booked(past_session(half_yearly, 200), w.cat, attendance=ATTENDED)
    db.session.commit()

    lead = signed_in(fresh_client(app), w.police_lead)
    assert "Ana Ahmed" in plain(lead.get("/refreshers")) and "Cat Cole" not in plain(lead.get("/refreshers"))
    coordinator = signed_in(fresh_client(app), w.coordinator)
    everyone = plain(coordinator.get("/refreshers"))
    assert "Staff in every agency" in everyone and "Ana Ahmed" in everyone and "Cat Cole" in everyone


# --- evaluations --------------------------------------------------------------------------


@pytest.fixture
def attended_booking(db, w):
    booking = booked(
        past_session(make_course(title="Trauma-informed Practice", certificate_needs_evaluation=True), 3),
        w.ana,
        attendance=ATTENDED,
    )
    db.session.commit()
    return booking


def test_the_learner_gives_feedback_and_can_then_get_the_certificate(db, client, w, attended_booking):
    signed_in(client, w.ana)
    path = f"/bookings/{attended_booking.id}/evaluation"
    form = client.get(path)
    assert "Before the course, how confident did you feel about this topic?" in plain(form)
    assert "Now, how confident do you feel?" in plain(form)
    assert "1 – not at all confident" in plain(form) and "5 – very confident" in plain(form)

    response = submit(client, path, {"confidence_before": "2", "confidence_after": "4", "comments": "Clear."})

    assert response.status_code == 302 and response.location == "/my-training"
    evaluation = db.session.scalars(sa.select(Evaluation)).one()
    assert (evaluation.confidence_before, evaluation.confidence_after, evaluation.comments) == (2, 4, "Clear.")
    record = client.get("/my-training")
    assert "Thank you. Your answers help the partnership improve its training." in plain(record)
    assert f'action="/bookings/{attended_booking.id}/certificate/issue"' in text(record)


@pytest.mark.parametrize(
    ("before", "after", "messages"),
    [
        ("0", "3", ["Choose a score from 1 to 5"]),
        ("3", "6", ["Choose a score from 1 to 5"]),
        ("-1", "99", ["Choose a score from 1 to 5"] * 2),
        ("", "3", ["Choose a score from 1 to 5"]),
        ("three", "3", ["Choose a score from 1 to 5"]),
    ],
)
def test_scores_outside_one_to_five_are_refused_and_nothing_is_saved(
    db, client, w, attended_booking, before, after, messages
):
    signed_in(client, w.ana)
    response = submit(
        client, f"/bookings/{attended_booking.id}/evaluation", {"confidence_before": before, "confidence_after": after}
    )
    assert response.status_code == 200
    assert error_summary(response) == messages
    assert count(db, Evaluation) == 0


def test_someone_who_did_not_attend_is_told_they_cannot_give_feedback(db, client, w, attended_booking):
    attended_booking.attendance = NO_SHOW
    db.session.commit()
    signed_in(client, w.ana)
    response = submit(
        client, f"/bookings/{attended_booking.id}/evaluation", {"confidence_before": "3", "confidence_after": "3"}
    )
    assert error_summary(response) == ["You can evaluate a course you attended"]
    assert count(db, Evaluation) == 0


def test_an_unknown_kind_of_evaluation_is_a_bad_request(client, w, attended_booking):
    signed_in(client, w.ana)
    assert client.get(f"/bookings/{attended_booking.id}/evaluation?kind=before").status_code == 400


# --- certificates -------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as a reader extracts it (embedded fonts mapped back to Unicode)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def full_attendance(db, w):
    booking = booked(
        past_session(make_course(title="Risk Assessment", cpd_hours=Decimal("3")), 2), w.ana, attendance=ATTENDED
    )
    db.session.commit()
    return booking


def test_the_learner_gets_a_printable_certificate_and_a_pdf(app, db, client, w, full_attendance):
    signed_in(client, w.ana)
    record = client.get("/my-training")
    assert f'action="/bookings/{full_attendance.id}/certificate/issue"' in text(record)

    issued = submit(client, f"/bookings/{full_attendance.id}/certificate/issue", {}, form_page="/my-training")

    assert issued.status_code == 302 and issued.location == f"/bookings/{full_attendance.id}/certificate"
    certificate = db.session.scalars(sa.select(Certificate)).one()
    page = client.get(issued.location)
    shown = plain(page)
    assert "Certificate of attendance" in shown
    assert "This is to certify that Ana Ahmed attended in full Risk Assessment" in shown
    assert f"on {format_date(full_attendance.session.starts_at)} · 3 CPD hours" in shown
    assert f"Certificate number {certificate.number} ." in shown
    assert "Check it at http://localhost/certificates/verify" in shown
    assert "Download as PDF" in shown

    pdf = client.get(f"/bookings/{full_attendance.id}/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="certificate-{certificate.number}.pdf"'
    assert pdf.data.startswith(b"%PDF")
    content = pdf_text(pdf.data)
    assert f"Certificate number {certificate.number}" in content
    assert "Ana Ahmed" in content and "Risk Assessment" in content

    # Asking again gives the same certificate, not a second one.
    again = submit(client, f"/bookings/{full_attendance.id}/certificate/issue", {}, form_page="/my-training")
    assert again.location == issued.location and count(db, Certificate) == 1
    lead = signed_in(fresh_client(app), w.police_lead)
    assert lead.get(f"/bookings/{full_attendance.id}/certificate").status_code == 200


@pytest.mark.parametrize("name", ["Łukasz Żółć", "Zoë Ní Bhriain"])
def test_a_certificate_prints_the_learners_name_as_written(db, client, w, name):
    w.ana.name = name
    booking = booked(past_session(make_course(title="Cymorth Cyntaf — Łódź"), 2), w.ana, attendance=ATTENDED)
    db.session.commit()
    signed_in(client, w.ana)
    submit(client, f"/bookings/{booking.id}/certificate/issue", {}, form_page="/my-training")

    pdf = client.get(f"/bookings/{booking.id}/certificate.pdf")

    assert pdf.status_code == 200
    content = pdf_text(pdf.data)
    assert name in content
    assert "Cymorth Cyntaf — Łódź" in content


@pytest.mark.parametrize("status", [PARTIAL, NO_SHOW, None])
def test_no_certificate_for_someone_who_did_not_attend_in_full(db, client, w, full_attendance, status):
    full_attendance.attendance = status
    full_attendance.minutes_missed = 30 if status == PARTIAL else None
    db.session.commit()
    signed_in(client, w.ana)
    assert f"/bookings/{full_attendance.id}/certificate" not in text(client.get("/my-training"))

    forged = submit(client, f"/bookings/{full_attendance.id}/certificate/issue", {}, form_page="/my-training")

    assert forged.status_code == 302 and forged.location == "/my-training"
    assert error_summary(client.get("/my-training")) == ["Certificates are given for full attendance only"]
    assert count(db, Certificate) == 0
    assert client.get(f"/bookings/{full_attendance.id}/certificate").status_code == 404
    assert client.get(f"/bookings/{full_attendance.id}/certificate.pdf").status_code == 404


def test_a_certificate_that_needs_feedback_first_says_so(db, client, w, attended_booking):
    signed_in(client, w.ana)
    forged = submit(client, f"/bookings/{attended_booking.id}/certificate/issue", {}, form_page="/my-training")
    assert forged.location == "/my-training"
    assert error_summary(client.get("/my-training")) == [
        "Fill in the short evaluation first, then download your certificate"
    ]
    assert count(db, Certificate) == 0


def test_the_public_check_confirms_a_genuine_number_with_name_course_and_date_only(db, w, full_attendance, app):
    db.session.add(Certificate(booking=full_attendance, number="KQ7MX-2PR9T"))
    db.session.commit()
    visitor = fresh_client(app)

    for typed in ("KQ7MX-2PR9T", "kq7mx2pr9t"):
        response = visitor.get("/certificates/verify", query_string={"number": typed})
        assert response.status_code == 200
        shown = plain(response)
        assert "This certificate is genuine" in shown
        assert f"Ana Ahmed Risk Assessment {format_date(full_attendance.session.starts_at)}" in shown
    page = text(response)
    for private in ("ana@police.example.org", "Wessex Police", "CPD", "Attended", str(full_attendance.id)):
        assert private not in page.split("</header>", 1)[1], private
    assert "&lt;br&gt;" not in response.get_data(as_text=True)


def test_a_made_up_certificate_number_is_a_404_with_a_clear_message(db, w, full_attendance, app):
    db.session.add(Certificate(booking=full_attendance, number="KQ7MX-2PR9T"))
    db.session.commit()
    visitor = fresh_client(app)

    response = visitor.get("/certificates/verify?number=ABCDE-FGHJK")

    assert response.status_code == 404
    shown = plain(response)
    assert "No certificate has this number" in shown
    assert "Check the number and try again. Numbers look like KQ7MX-2PR9T." in shown
    assert "Ana Ahmed" not in shown and "genuine" not in shown
    empty = visitor.get("/certificates/verify?number=")
    assert empty.status_code == 200 and error_summary(empty) == ["Enter the certificate number"]
    assert visitor.get("/certificates/verify").status_code == 200


# --- the follow-up job --------------------------------------------------------------------


def test_flask_jobs_run_asks_for_the_eight_week_follow_up_once(app, db, w):
    eight_weeks_ago = booked(past_session(w.course, 57), w.ben, attendance=ATTENDED)
    booked(past_session(w.course, 50), w.cat, attendance=ATTENDED)  # not yet eight weeks
    db.session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["jobs", "run"])
    assert "follow-ups: queued 1" in first.output.splitlines()
    [email] = outbox(db, w.ben.email)
    assert email.subject == "Eight weeks on: Safeguarding Adults"
    assert f"/bookings/{eight_weeks_ago.id}/evaluation?kind=follow_up" in email.body
    assert "follow-ups: queued 0" in runner.invoke(args=["jobs", "run"]).output.splitlines()
    assert outbox(db, w.cat.email) == []


# --- queries per page ---------------------------------------------------------------------


def _more_learners(db, w, n):
    w.session.capacity = 40
    for i in range(n):
        agency = make_agency()
        learner = booked(w.session, make_user(agency=agency, name=f"Learner {i:02}"), attendance=ATTENDED)
        # Adjustments shown under the name must not cost a query a row.
        db.session.add(BookingAccessNeeds(booking=learner, needs_text="quiet_space", details="Near the door"))
    booking = booked(w.session, make_user(agency=make_agency()), is_walk_in=True, attendance=ATTENDED)
    assert booking.is_walk_in
    db.session.commit()


def test_the_register_page_runs_the_same_queries_for_few_or_many_learners(db, trainer, w):
    with counting_queries(db.engine) as few:
        assert trainer.get(w.path).status_code == 200
    _more_learners(db, w, 30)
    with counting_queries(db.engine) as many:
        page = trainer.get(w.path)
    assert "34 on the register (1 walk-in)." in plain(page)
    assert len(many) == len(few), "\n".join(["3 learners:", *few, "", "34 learners:", *many])


def _more_history(db, person, n, first=0):
    for i in range(first, first + n):
        course = make_course(
            title=f"Course {i:02}", refresher_months=6 + i % 12, certificate_needs_evaluation=i % 3 == 0
        )
        booking = booked(
            past_session(course, 10 + i * 7),
            person,
            attendance=[ATTENDED, PARTIAL, NO_SHOW][i % 3],
            minutes_missed=10 if i % 3 == 1 else None,
        )
        if i % 3 == 0 and i % 2 == 0:
            db.session.add(Certificate(booking=booking, number=f"AAAAA-{i:05}"))
            db.session.add(Evaluation(booking=booking, kind="after", confidence_before=2, confidence_after=4))
    db.session.commit()


def test_my_training_runs_the_same_queries_for_a_short_or_long_record(db, client, w):
    _more_history(db, w.ana, 2)
    signed_in(client, w.ana)
    with counting_queries(db.engine) as few:
        assert client.get("/my-training").status_code == 200
    _more_history(db, w.ana, 30, first=2)
    with counting_queries(db.engine) as many:
        page = client.get("/my-training")
    assert len(_history_rows(page)) == 32
    assert len(many) == len(few), "\n".join(["2 courses:", *few, "", "32 courses:", *many])


def test_the_refreshers_page_runs_the_same_queries_for_few_or_many_staff(app, db, w):
    half_yearly = make_course(title="Information Sharing", refresher_months=6)
    old = past_session(half_yearly, 200)
    booked(old, w.ana, attendance=ATTENDED)
    db.session.commit()
    lead = signed_in(fresh_client(app), w.police_lead)
    with counting_queries(db.engine) as few:
        assert lead.get("/refreshers").status_code == 200
    old.capacity = 40
    for i in range(30):
        booked(old, make_user(agency=w.police, name=f"Staff {i:02}"), attendance=ATTENDED)
    db.session.commit()
    with counting_queries(db.engine) as many:
        page = lead.get("/refreshers")
    assert plain(page).count("Overdue") == 25 and "Page 1 of 2 (31 in all)" in plain(page)
    assert len(many) == len(few), "\n".join(["1 person:", *few, "", "31 people:", *many])
