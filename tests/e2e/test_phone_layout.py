"""The training room on a 320px phone: the register, the approvals page and the board report fit
the screen, read in order, and have buttons as wide as the page."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import sign_in
from tests.factories import make_agency, make_course, make_programme, make_session, make_user
from trainapp.accounts.models import AgencyKind, Role

pytestmark = pytest.mark.e2e

PASSWORD = "lantern-thistle-harbour-41"
PHONE = {"width": 320, "height": 640}
COURSE = "Trauma-Informed Practice with Adults"
LONG_AGENCY = "North Estuary and Moorland Community Safety Partnership Trust"
LEARNERS = ("Ola Price", "Piet Varga", "Rhea Stone")
# Set to a directory to keep a full-page screenshot of each phone page, for a person to look at.
SHOTS = os.environ.get("TRAINAPP_SCREENSHOTS")


@pytest.fixture(scope="module")
def people(live_app):
    """A trainer, a lead, a coordinator; a session that ended a few minutes ago with three booked
    (one from an agency with a long name), and a request waiting for the lead's approval."""
    from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
    from trainapp.catalogue.models import SessionStatus
    from trainapp.db import utcnow
    from trainapp.extensions import db

    with live_app.app_context():
        council = make_agency("Reedbank Council", kind=AgencyKind.COUNCIL, domains=["reedbank.example.org"])
        trust = make_agency(LONG_AGENCY, kind=AgencyKind.VOLUNTARY, domains=["estuarytrust.example.org"])
        trainer = make_user(
            Role.TRAINER, agency=council, name="Tam Reed", email="tam.reed@reedbank.example.org", password=PASSWORD
        )
        make_user(
            Role.AGENCY_LEAD,
            agency=council,
            name="Lou Marsh",
            email="lou.marsh@reedbank.example.org",
            password=PASSWORD,
        )
        make_user(Role.COORDINATOR, name="Cass Fenwick", email="cass.fenwick@reedbank.example.org", password=PASSWORD)
        started = (utcnow() - timedelta(hours=2, minutes=5)).replace(second=0, microsecond=0)
        course = make_course(programme=make_programme("Adult Safeguarding"), title=COURSE)
        session = make_session(course=course, starts_at=started, hours=2, capacity=3, trainers=[trainer])
        for name, agency in zip(LEARNERS, (council, trust, council), strict=True):
            person = make_user(agency=agency, name=name)
            db.session.add(Booking(session=session, user=person, agency_id=agency.id, status=BookingStatus.CONFIRMED))
            session.places_taken += 1
        # For the board report: a delivered session last month, everyone there but one.
        earlier = make_session(
            course=course, starts_at=started - timedelta(days=30), capacity=10, status=SessionStatus.DELIVERED
        )
        for n, agency in enumerate((council, trust, trust, council)):
            person = make_user(agency=agency, name=f"Board Learner {n}")
            status = AttendanceStatus.NO_SHOW if n == 0 else AttendanceStatus.ATTENDED
            db.session.add(
                Booking(
                    session=earlier,
                    user=person,
                    agency_id=agency.id,
                    status=BookingStatus.CONFIRMED,
                    attendance=status,
                )
            )
            earlier.places_taken += 1
        # Waiting for the lead's approval.
        asking = make_user(agency=council, name="Uma Hale", email="uma.hale@reedbank.example.org")
        db.session.add(
            Booking(
                session=make_session(course=course, capacity=5),
                user=asking,
                agency_id=council.id,
                status=BookingStatus.AWAITING_APPROVAL,
                approval_due_at=utcnow() + timedelta(days=3),
            )
        )
        db.session.commit()
        period_start = (started - timedelta(days=90)).date()
        db.session.remove()
    return {
        "trainer": "tam.reed@reedbank.example.org",
        "lead": "lou.marsh@reedbank.example.org",
        "coordinator": "cass.fenwick@reedbank.example.org",
        "period": _period(period_start, date.today()),
    }


def _period(start: date, end: date) -> str:
    return f"start={start.day}&start={start.month}&start={start.year}&end={end.day}&end={end.month}&end={end.year}"


def _no_sideways_scroll(page):
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide on a {widths[1]}px screen"


def _as_wide_as_the_page(page, button):
    main = page.get_by_role("main").bounding_box()
    width = button.bounding_box()["width"]
    assert width >= 0.9 * main["width"], f"the button is {width}px wide on a {main['width']}px page"


def _row(page, name):
    import re

    return page.get_by_role("group", name=re.compile(rf"^{re.escape(name)}\b"))


def _screenshot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_on_a_phone_the_register_reads_down_the_screen_and_reveals_minutes_for_a_partial_mark(
    new_page, live_app, people
):
    import re

    from playwright.sync_api import expect

    from trainapp.bookings.models import AttendanceStatus, Booking
    from trainapp.extensions import db

    page = new_page(**PHONE)
    sign_in(page, people["trainer"], PASSWORD, "Tam Reed")
    page.get_by_role("link", name="See the sessions you deliver").click()
    page.get_by_role("link", name="Past").click()
    page.get_by_role("link", name=re.compile(rf"^Take the register for {COURSE}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register: {COURSE}")
    _no_sideways_scroll(page)

    # Each learner's name, then their agency on the line below.
    for name, agency in zip(LEARNERS, ("Reedbank Council", LONG_AGENCY, "Reedbank Council"), strict=True):
        legend = _row(page, name).locator("legend")
        name_box = legend.get_by_text(name, exact=True).bounding_box()
        agency_box = legend.get_by_text(agency, exact=True).bounding_box()
        assert agency_box["y"] >= name_box["y"] + name_box["height"], (name, name_box, agency_box)

    _as_wide_as_the_page(page, page.get_by_role("button", name="Mark everyone attended"))
    _as_wide_as_the_page(page, page.get_by_role("link", name="Add a walk-in"))
    _as_wide_as_the_page(page, page.get_by_role("button", name="Submit the register"))
    _as_wide_as_the_page(page, page.get_by_role("button", name="Save marks"))

    # The minutes box appears only once "Partially attended" is chosen.
    row = _row(page, "Piet Varga")
    for learner in LEARNERS:
        expect(_row(page, learner).get_by_label("Minutes missed")).to_be_hidden()
    row.get_by_label("Partially attended").check()
    expect(row.get_by_label("Minutes missed")).to_be_visible()
    expect(_row(page, "Ola Price").get_by_label("Minutes missed")).to_be_hidden()
    _screenshot(page, "register-320.png")
    row.get_by_label("Minutes missed").fill("20")
    _row(page, "Ola Price").get_by_label("Attended", exact=True).check()
    page.get_by_role("button", name="Save marks").click()

    expect(page.get_by_text("The marks have been saved.")).to_be_visible()
    expect(_row(page, "Piet Varga").get_by_label("Minutes missed")).to_have_value("20")
    expect(_row(page, "Ola Price").get_by_label("Minutes missed")).to_be_hidden()
    _no_sideways_scroll(page)
    with live_app.app_context():
        import sqlalchemy as sa

        from trainapp.accounts.models import User

        saved = db.session.execute(
            sa.select(Booking.attendance, Booking.minutes_missed).join(Booking.user).where(User.name == "Piet Varga")
        ).one()
        db.session.remove()
    assert tuple(saved) == (AttendanceStatus.PARTIAL, 20)


def test_on_a_phone_approve_is_as_wide_as_decline(new_page, people):
    from playwright.sync_api import expect

    page = new_page(**PHONE)
    sign_in(page, people["lead"], PASSWORD, "Lou Marsh")
    page.goto("/approvals")
    expect(page.get_by_role("heading", level=1)).to_have_text("Requests to approve")
    _no_sideways_scroll(page)
    _as_wide_as_the_page(page, page.get_by_role("button", name="Approve Uma Hale"))
    _as_wide_as_the_page(page, page.get_by_role("link", name="Decline Uma Hale"))


def test_on_a_phone_the_board_reports_charts_fit_with_readable_text(new_page, people):
    from playwright.sync_api import expect

    page = new_page(**PHONE)
    sign_in(page, people["coordinator"], PASSWORD, "Cass Fenwick")
    page.goto(f"/reports/board?{people['period']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Board report")
    charts = page.locator("svg.app-chart")
    expect(charts).to_have_count(3)
    for chart in charts.all():
        shown = chart.evaluate(
            """svg => {
                const box = svg.viewBox.baseVal, scale = svg.getBoundingClientRect().width / box.width;
                const texts = [...svg.querySelectorAll('text')];
                return {
                    smallest: Math.min(...texts.map(t => parseFloat(t.getAttribute('font-size')) * scale)),
                    outside: texts.filter(t => {
                        const b = t.getBBox();
                        return b.x < 0 || b.y < 0 || b.x + b.width > box.width || b.y + b.height > box.height;
                    }).map(t => t.textContent),
                };
            }"""
        )
        assert shown["smallest"] >= 16, shown
        assert shown["outside"] == [], f"cut off: {shown['outside']}"
    _screenshot(page, "board-320.png")
    _no_sideways_scroll(page)
