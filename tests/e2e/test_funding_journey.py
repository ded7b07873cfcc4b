"""A coordinator, in a real browser, creates a grant, allocates it to a programme, adds a session's
cost, marks a no-show on the register, and sees the charge and the dashboard change."""

from datetime import date, timedelta

import pytest

from tests.factories import make_agency, make_course, make_programme, make_session, make_user
from trainapp.accounts.models import AgencyKind, Role

pytestmark = pytest.mark.e2e

PASSWORD = "plover-ledger-saffron-41"
PROGRAMME = "Coastal Whole-Family Pilot"
COURSE = "Costed Safety Planning"
GRANT = "Coastal Families Fund"
LEARNER = "Nia Marsh"
AGENCY = "Saltmarsh Council"


@pytest.fixture(scope="module")
def journey(live_app):
    """A coordinator, and a three-hour session of the programme's course that took place
    yesterday, with one person from a partner agency booked on it."""
    from trainapp.bookings.models import Booking, BookingStatus
    from trainapp.db import utcnow
    from trainapp.extensions import db

    with live_app.app_context():
        make_user(Role.COORDINATOR, name="Fay Funder", email="fay.funder@partnership.example.org", password=PASSWORD)
        agency = make_agency(AGENCY, kind=AgencyKind.COUNCIL, domains=["saltmarsh.example.org"], is_partner=True)
        learner = make_user(agency=agency, name=LEARNER, email="nia.marsh@saltmarsh.example.org")
        course = make_course(programme=make_programme(PROGRAMME), title=COURSE)
        started = (utcnow() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        session = make_session(course=course, starts_at=started, hours=3, capacity=8)
        db.session.add(Booking(session=session, user=learner, agency_id=agency.id, status=BookingStatus.CONFIRMED))
        session.places_taken = 1
        db.session.commit()
        path = f"/sessions/{session.id}"
        db.session.remove()
    return path


def _fill_date(page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_coordinator_funds_a_session_and_a_no_show_is_charged(page, journey):
    from playwright.sync_api import expect

    this_year = date.today().year
    page.goto("/sign-in")
    page.get_by_label("Email address", exact=True).fill("fay.funder@partnership.example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Fay Funder")

    # The grant.
    page.get_by_role("link", name="Funding", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Funding")
    page.get_by_role("link", name="Add a grant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a grant")
    page.get_by_label("Grant name").fill(GRANT)
    page.get_by_label("Funder", exact=True).fill("Coastal Community Trust")
    page.get_by_label("Funder's reference").fill("CCT-2041")
    page.get_by_label("Amount", exact=True).fill("£5,000.00")
    # Wide enough that yesterday's session is inside it whatever today is.
    _fill_date(page, "Delivery window starts", date(this_year - 1, 1, 1))
    _fill_date(page, "Delivery window ends", date(this_year + 1, 12, 31))
    page.get_by_label("Awarded").check()
    page.get_by_role("button", name="Save grant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(GRANT)
    expect(page.get_by_text(f"{GRANT} has been saved.")).to_be_visible()

    # Part of it for the programme.
    page.get_by_role("link", name="Allocate money").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Allocate money")
    page.get_by_label("Programme or course").select_option(label=f"Programme: {PROGRAMME}")
    page.get_by_label("Amount").fill("2,000")
    page.get_by_role("button", name="Save allocation").click()
    expect(page.get_by_text("The allocation has been saved.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=PROGRAMME).get_by_role("cell")).to_have_text(
        [PROGRAMME, "£2,000.00", "£0.00", "£2,000.00"]
    )

    # The trainer's fee for yesterday's session, from the session's page.
    page.goto(journey)
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    page.get_by_role("link", name="Add a cost").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a cost")
    page.get_by_label("Charge to").select_option(label=f"{GRANT}: {PROGRAMME} (£2,000)")
    page.get_by_label("Category").select_option(label="Trainer")
    page.get_by_label("Amount").fill("450")
    page.get_by_label("Paid", exact=True).check()
    page.get_by_label("Supplier").fill("Ann Trainer Ltd")
    page.get_by_role("button", name="Add cost").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(GRANT)
    expect(page.get_by_text("The cost has been added.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Ann Trainer Ltd")).to_contain_text("£450.00")
    expect(page.get_by_role("row").filter(has_text=PROGRAMME).get_by_role("cell")).to_have_text(
        [PROGRAMME, "£2,000.00", "£450.00", "£1,550.00"]
    )

    # The register: the one person booked did not come.
    page.goto(journey)
    page.get_by_role("link", name="Take the register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register: {COURSE}")
    page.get_by_role("group", name=LEARNER + " " + AGENCY).get_by_label("No-show").check()
    page.get_by_role("button", name="Submit the register").click()
    expect(page.get_by_text("The register has been submitted and the session marked delivered.")).to_be_visible()

    # The charge to the agency: a partner's half day.
    page.get_by_role("link", name="Funding", exact=True).first.click()
    page.get_by_role("link", name="Charges", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Charges")
    charge = page.get_by_role("row").filter(has_text=LEARNER)
    expect(charge).to_have_count(1)
    expect(charge).to_contain_text(AGENCY)
    expect(charge).to_contain_text(COURSE)
    expect(charge.get_by_role("cell").nth(3)).to_have_text("No-show")
    expect(charge.get_by_role("cell").nth(4)).to_have_text("£35.00")
    expect(charge.get_by_role("link", name=f"Waive the charge for {LEARNER}")).to_be_visible()

    # The dashboard: the grant's money and the programme's delivery, cost and charges.
    page.get_by_role("link", name="Funding", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Funding")
    grant_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=GRANT, exact=True))
    # Amount, allocated, committed, paid, remaining.
    expect(grant_row.get_by_role("cell").nth(1)).to_have_text("£5,000.00")
    expect(grant_row.get_by_role("cell").nth(2)).to_have_text("£2,000.00")
    expect(grant_row.get_by_role("cell").nth(3)).to_have_text("£0.00")
    expect(grant_row.get_by_role("cell").nth(4)).to_have_text("£450.00")
    expect(grant_row.get_by_role("cell").nth(5)).to_have_text("£4,550.00")
    expect(grant_row.get_by_role("cell").nth(7)).to_have_text("9%")  # £450 of £5,000
    # One session delivered, 8 places, nobody attended; £450 / 8 places = £56.25; one charge of £35.
    expect(page.get_by_role("row").filter(has_text=PROGRAMME).get_by_role("cell")).to_have_text(
        [PROGRAMME, "1", "8", "0", "£450.00", "£56.25", "–", "1 (£35.00)", "0 (£0.00)"]
    )
