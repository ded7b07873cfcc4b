"""Three colleagues book a two-place session in a real browser: the third waits, gets the place
that comes free when the first cancels, and is emailed about it."""

from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.factories import make_agency, make_course, make_session, make_user
from trainapp.accounts.models import AgencyKind

pytestmark = pytest.mark.e2e

PASSWORD = "otter-beacon-quarry-58"
COURSE = "Safety Planning with Families"
STAFF = [
    ("Asha Patel", "asha.patel@harbour.example.org"),
    ("Ben Cole", "ben.cole@harbour.example.org"),
    ("Cleo Grant", "cleo.grant@harbour.example.org"),
]


@pytest.fixture(scope="module")
def session_path(live_app):
    """Three staff of one agency and a published two-place session a week away."""
    from trainapp.extensions import db

    with live_app.app_context():
        agency = make_agency("Harbour Council", kind=AgencyKind.COUNCIL, domains=["harbour.example.org"])
        for name, email in STAFF:
            make_user(agency=agency, name=name, email=email, password=PASSWORD)
        session = make_session(course=make_course(title=COURSE), capacity=2)
        db.session.commit()
        path = f"/sessions/{session.id}"
        db.session.remove()
    return path


def _signed_in(new_page, name, email):
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/sign-in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")
    return page


def _my_booking(page):
    """The entry for the course on the person's bookings page."""
    return page.get_by_role("listitem").filter(has=page.get_by_role("link", name=COURSE, exact=True))


def _delivered_to(live_app, recipient):
    """Deliver the outbox as `flask outbox send` would, then read what reached this person."""
    from trainapp.notifications.services import send_due_messages

    with live_app.app_context():
        send_due_messages()
    messages = [
        message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(Path(live_app.config["MAIL_DIR"]).glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == recipient]


def test_a_place_freed_by_a_cancellation_goes_to_the_first_person_waiting(new_page, live_app, session_path):
    from playwright.sync_api import expect

    first, second, third = (_signed_in(new_page, name, email) for name, email in STAFF)

    for page in (first, second):
        page.goto(session_path)
        expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
        page.get_by_role("link", name="Book a place").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Book a place on {COURSE}")
        page.get_by_role("button", name="Confirm booking").click()
        expect(page.get_by_text(f"You have a place on {COURSE}.")).to_be_visible()

    third.goto(session_path)
    expect(third.get_by_text("No places left")).to_be_visible()
    third.get_by_role("link", name="Join the waiting list").click()
    expect(third.get_by_role("heading", level=1)).to_have_text(f"Join the waiting list for {COURSE}")
    third.get_by_role("button", name="Join the waiting list").click()
    expect(third.get_by_text("You are number 1 on the waiting list")).to_be_visible()
    third.get_by_role("link", name="Your bookings").first.click()
    third.get_by_role("link", name="Waiting lists").click()
    expect(_my_booking(third)).to_contain_text("On the waiting list")

    first.goto("/my-bookings")
    first.get_by_role("link", name=f"Cancel {COURSE}").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Cancel the booking")
    first.get_by_role("button", name="Cancel the booking").click()
    expect(first.get_by_text("The booking has been cancelled.")).to_be_visible()
    expect(_my_booking(first)).to_have_count(0)

    third.goto("/my-bookings")
    expect(_my_booking(third)).to_contain_text("Booked")
    third.get_by_role("link", name="Waiting lists").click()
    expect(third.get_by_text("Nothing here.")).to_be_visible()

    emails = _delivered_to(live_app, STAFF[2][1])
    freed = [m for m in emails if m["Subject"].startswith(f"A place has come free: {COURSE}")]
    assert len(freed) == 1, [m["Subject"] for m in emails]
    assert "it is yours: you are booked" in freed[0].get_body(preferencelist=("plain",)).get_content()
