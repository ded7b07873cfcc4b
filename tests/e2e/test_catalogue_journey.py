"""A coordinator builds a course and its weekly series in a real browser, then finds it in the catalogue."""

import re

import pytest

from tests.factories import make_programme, make_user, make_venue
from trainapp.accounts.models import Role

pytestmark = pytest.mark.e2e

PASSWORD = "kestrel-harbour-lamp-77"
COURSE = "Whole-Family Working"


@pytest.fixture(scope="module")
def coordinator_email(live_app):
    """A coordinator, a trainer, a venue and a programme, already in the database."""
    from trainapp.extensions import db

    with live_app.app_context():
        coordinator = make_user(
            Role.COORDINATOR, email="cora.lane@partnership.example.org", name="Cora Lane", password=PASSWORD
        )
        make_user(Role.TRAINER, name="Tess Trainer")
        make_venue("Riverside Centre")
        make_programme("Up2U Family Practice")
        db.session.commit()
        email = coordinator.email
        db.session.remove()
    return email


def _fill_date(page, legend: str, day: int, month: int, year: int) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day))
    group.get_by_label("Month").fill(str(month))
    group.get_by_label("Year").fill(str(year))


def test_a_coordinator_creates_a_course_and_a_weekly_series_and_finds_it(page, coordinator_email):
    from playwright.sync_api import expect

    page.goto("/sign-in")
    page.get_by_label("Email address", exact=True).fill(coordinator_email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Cora Lane")

    # The course.
    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_role("link", name="Add a course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a course")
    page.get_by_label("Programme").select_option(label="Up2U Family Practice")
    page.get_by_label("Course title").fill(COURSE)
    page.get_by_label("Level").select_option(label="Level 2")
    page.get_by_label("Summary").fill("Working with the whole family, not one person at a time.")
    page.get_by_label("Duration in hours").fill("2")
    page.get_by_label("CPD hours").fill("2")
    page.get_by_label("Police").check()
    page.get_by_label("Council").check()
    page.get_by_label("Places per session").fill("14")
    page.get_by_label("Published: staff can find and book it").check()
    page.get_by_role("button", name="Save course").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    expect(page.get_by_text(f"{COURSE} has been saved.")).to_be_visible()
    expect(page.get_by_text("Police, Council")).to_be_visible()

    # The weekly series, Thursdays from November to January, started from the course's page.
    page.get_by_role("link", name="Add a weekly series").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a weekly series")
    expect(page.get_by_label("Course", exact=True)).to_have_value(re.compile(r"^\d+$"))
    expect(page.get_by_label("Places", exact=True)).to_have_value("14")
    page.get_by_label("Thursday").check()
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End time").fill("12:00")
    _fill_date(page, "First date", 4, 11, 2027)
    _fill_date(page, "Last date", 27, 1, 2028)
    page.get_by_label("In person").check()
    page.get_by_label("Venue").select_option(label="Riverside Centre")
    page.get_by_label("Tess Trainer (trainer)").check()
    page.get_by_role("button", name="Check the dates").click()

    expect(page.get_by_role("heading", name="13 dates")).to_be_visible()
    expect(page.get_by_label("Thursday 4 November 2027")).not_to_be_checked()
    expect(page.get_by_label("Thursday 27 January 2028")).to_be_visible()
    page.get_by_role("button", name="Create the sessions").click()

    expect(page.get_by_text(f"13 sessions of {COURSE} have been created.")).to_be_visible()
    expect(page.get_by_role("table").get_by_role("link")).to_have_count(13)

    # Staff-facing catalogue: the series' sessions are listed, soonest first.
    page.get_by_role("link", name="Find training").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find training")
    page.get_by_label("Course", exact=True).select_option(label=COURSE)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("13 sessions", exact=True)).to_be_visible()
    sessions = page.get_by_role("link", name=COURSE, exact=True)
    expect(sessions).to_have_count(13)
    expect(page.get_by_text("Thursday 4 November 2027, 10am to midday")).to_be_visible()

    sessions.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    expect(page.get_by_text("Thursday 4 November 2027, 10am to midday")).to_be_visible()
    expect(page.get_by_text("Riverside Centre")).to_be_visible()
    expect(page.get_by_text("Tess Trainer")).to_be_visible()
    expect(page.get_by_text("14 of 14")).to_be_visible()
