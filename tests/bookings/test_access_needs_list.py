"""The coordinator's list of access needs for coming sessions: what it shows, in what order, and
marking needs arranged (and not arranged again). Who may open it: tests/core/test_access.py."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_session, make_user, make_venue
from tests.pages import parse, plain, signed_in, submit
from tests.support import counting_queries
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.bookings.models import AccessNeed, Booking, BookingAccessNeeds, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.db import utcnow
from trainapp.timezones import local_to_utc

# When the coordinator presses the button: 2:05pm in London (GMT).
PRESSED = datetime(2029, 12, 3, 14, 5, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>\n=1+1 \x07 bell 🦽"


def needs_for(db, session, person, needs=(), details="", status=BookingStatus.CONFIRMED, **kw):
    booking = Booking(session=session, user=person, agency_id=person.agency_id, status=status, **kw)
    asked = BookingAccessNeeds(booking=booking, details=details)
    asked.needs = list(needs)
    db.session.add_all([booking, asked])
    db.session.flush()
    return asked


@pytest.fixture
def world(db):
    police = make_agency("Wessex Police")
    council = make_agency("Downs Council")
    w = type("World", (), {})()
    w.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
    # Made in the opposite order to the one the list shows.
    w.later = make_session(
        make_course(title="Coercive Control"), local_to_utc(date(2030, 7, 8), time(10)), venue=make_venue("Town Hall")
    )
    w.sooner = make_session(
        make_course(title="Stalking Awareness"), local_to_utc(date(2030, 7, 1), time(9, 30)), venue=make_venue("Depot")
    )
    w.ended = make_session(make_course(title="Already Happened"), (utcnow() - timedelta(days=2)).replace(microsecond=0))
    w.called_off = make_session(
        make_course(title="Called Off"), local_to_utc(date(2030, 7, 2), time(10)), status=SessionStatus.CANCELLED
    )
    w.ann = needs_for(
        db, w.later, make_user(agency=police, name="Ann Able"), [AccessNeed.STEP_FREE], "Uses a wheelchair"
    )
    w.bob = needs_for(
        db, w.sooner, make_user(agency=council, name="Bob Brown"), [AccessNeed.HEARING_LOOP, AccessNeed.LARGE_PRINT]
    )
    w.wendy = needs_for(
        db,
        w.sooner,
        make_user(agency=police, name="Wendy Waiting"),
        [AccessNeed.QUIET_SPACE],
        status=BookingStatus.WAITING,
        queue_position=1,
    )
    needs_for(
        db,
        w.sooner,
        make_user(agency=police, name="Carl Cancelled"),
        [AccessNeed.DIETARY],
        status=BookingStatus.CANCELLED,
    )
    needs_for(db, w.ended, make_user(agency=police, name="Pat Past"), [AccessNeed.BSL_INTERPRETER])
    needs_for(db, w.called_off, make_user(agency=police, name="Oscar Off"), [AccessNeed.OTHER], "Something")
    # A booking with nothing asked for is not on the list.
    db.session.add(
        Booking(session=w.sooner, user=make_user(agency=police, name="Nina None"), status=BookingStatus.CONFIRMED)
    )
    db.session.commit()
    return w


@pytest.fixture
def coordinator(client, world):
    return signed_in(client, world.coordinator)


def people_in_order(response) -> list[str]:
    """Each row's person, as the list shows them, top to bottom."""
    return [row.td.find(string=True, recursive=False).strip() for row in parse(response).select("tbody tr")]


def test_coming_sessions_needs_are_listed_soonest_session_first_places_before_the_waiting_list(coordinator):
    page = coordinator.get("/access-needs")

    assert page.status_code == 200
    headings = [h.get_text(strip=True) for h in parse(page).select("main h2")]
    assert headings == ["Stalking Awareness", "Coercive Control"]
    text = plain(page)
    assert "Monday 1 July 2030, 9:30am to 11:30am, Depot" in text
    assert "Monday 8 July 2030, 10am to midday, Town Hall" in text
    assert people_in_order(page) == ["Bob Brown", "Wendy Waiting", "Ann Able"]
    assert "Downs Council" in text and "Hearing loop Large print" in text
    assert "On the waiting list: number 1" in text
    assert "Step-free access Uses a wheelchair" in text
    for absent in ("Carl Cancelled", "Pat Past", "Oscar Off", "Nina None", "Already Happened", "Called Off"):
        assert absent not in text


def test_marking_arranged_takes_it_off_not_yet_arranged_shows_who_and_when_and_can_be_undone(
    coordinator, db, world, monkeypatch
):
    monkeypatch.setattr("trainapp.bookings.needs_list.utcnow", lambda: PRESSED)

    done = submit(coordinator, f"/access-needs/{world.bob.id}/arranged", {}, form_page="/access-needs")

    assert done.status_code == 302 and done.location == "/access-needs?show=to-arrange"
    to_arrange = coordinator.get(done.location)
    assert "Bob Brown's access needs are marked as arranged." in plain(to_arrange)
    assert people_in_order(to_arrange) == ["Wendy Waiting", "Ann Able"]
    everyone = coordinator.get("/access-needs?show=all")
    assert people_in_order(everyone) == ["Bob Brown", "Wendy Waiting", "Ann Able"]
    assert "Arranged Monday 3 December 2029, 2:05pm by Cora Ordinator" in plain(everyone)

    undone = submit(
        coordinator,
        f"/access-needs/{world.bob.id}/not-arranged?show=all&page=1",
        {},
        form_page="/access-needs?show=all",
    )

    assert undone.location == "/access-needs?show=all&page=1"
    assert "Bob Brown's access needs are marked as not yet arranged." in plain(coordinator.get(undone.location))
    assert people_in_order(coordinator.get("/access-needs")) == ["Bob Brown", "Wendy Waiting", "Ann Able"]
    db.session.expire_all()
    assert (world.bob.arranged_at, world.bob.arranged_by_id) == (None, None)


def test_marking_is_audited_without_what_was_asked_for(coordinator, db, world):
    submit(coordinator, f"/access-needs/{world.ann.id}/arranged", {}, form_page="/access-needs")
    submit(coordinator, f"/access-needs/{world.ann.id}/not-arranged", {}, form_page="/access-needs")

    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "booking_access_needs")).all()
    assert [(e.action, e.entity_id, e.actor_id, e.before, e.after) for e in events] == [
        ("access_needs.arranged", world.ann.id, world.coordinator.id, {"arranged": False}, {"arranged": True}),
        ("access_needs.not_arranged", world.ann.id, world.coordinator.id, {"arranged": True}, {"arranged": False}),
    ]
    assert all("wheelchair" not in str(e.before) + str(e.after) + str(e.reason) for e in events)


def test_pressing_twice_records_it_once(coordinator, db, world):
    for _ in range(2):
        assert (
            submit(coordinator, f"/access-needs/{world.ann.id}/arranged", {}, form_page="/access-needs").status_code
            == 302
        )
    assert (
        db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "access_needs.arranged"))
        == 1
    )


def test_a_post_without_a_csrf_token_changes_nothing(coordinator, db, world):
    assert coordinator.post(f"/access-needs/{world.ann.id}/arranged").status_code == 400
    db.session.expire_all()
    assert world.ann.arranged_at is None


def test_needs_already_erased_cannot_be_marked(coordinator, db, world):
    world.ann.erased_at, world.ann.details, world.ann.needs_text = utcnow(), "", ""
    db.session.commit()

    response = submit(coordinator, f"/access-needs/{world.ann.id}/arranged", {}, form_page="/access-needs")

    assert "These access needs are no longer held" in plain(coordinator.get(response.location))
    db.session.expire_all()
    assert world.ann.arranged_at is None


def test_hostile_details_are_shown_as_text(coordinator, db, world):
    world.ann.details = HOSTILE
    db.session.commit()

    page = coordinator.get("/access-needs")

    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>=1+1" in html
    assert "🦽" in html


def test_an_unknown_view_is_a_bad_request(coordinator):
    assert coordinator.get("/access-needs?show=everything").status_code == 400


def test_with_everything_arranged_the_page_says_so(coordinator, db, world):
    for needs in (world.ann, world.bob, world.wendy):
        needs.arranged_at = utcnow()
    db.session.commit()

    assert "Every access need for coming sessions is arranged." in plain(coordinator.get("/access-needs"))


def test_the_coordinators_home_page_links_to_the_list(coordinator):
    link = parse(coordinator.get("/")).find("a", string="Access needs")
    assert link is not None and link["href"] == "/access-needs"


def test_the_list_runs_the_same_queries_for_a_few_rows_or_many(app, db, coordinator, world):
    def count() -> tuple[int, str]:
        with counting_queries(db.engine) as statements:
            page = coordinator.get("/access-needs?show=all")
        assert page.status_code == 200
        return len(statements), plain(page)

    few, _ = count()
    agency = make_agency("Many Hands")
    for n in range(40):
        session = make_session(make_course(title=f"Course {n:02}"), local_to_utc(date(2030, 6, 1 + n % 28), time(10)))
        needs_for(db, session, make_user(agency=agency, name=f"Person {n:02}"), [AccessNeed.LARGE_PRINT], "Details")
    db.session.commit()
    many, text = count()

    assert many == few
    assert f"Page 1 of 2 ({40 + 3} in all)" in text
