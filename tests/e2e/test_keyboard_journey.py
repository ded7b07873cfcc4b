"""Keyboard only: a member of staff books and cancels a place, makes a mistake, and a trainer takes a
register, pressing only Tab, Shift+Tab, Enter and Space and typing into what has focus. After every
submit, focus lands on the success banner or the error summary, so it is announced, also when the
person used "Skip to main content" on the page first."""

import re
from datetime import timedelta

import pytest

from tests.factories import make_agency, make_course, make_session, make_user
from trainapp.accounts.models import AgencyKind, Role

pytestmark = pytest.mark.e2e

PASSWORD = "kestrel-harbour-violet-41"
COURSE = "Trauma-Informed Practice"
REGISTER_COURSE = "Working with Interpreters"
MAX_TABS = 80

# What a person hears for the focused element: its text, label, or the legend of its group.
DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", type: "", text: "", label: "", legend: "", classes: ""};
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  const legend = el.closest("fieldset")?.querySelector("legend")?.innerText || "";
  const text = (el.innerText || el.value || "").trim();
  return {tag: el.tagName.toLowerCase(), type: el.type || "", text, label: label.trim(), legend: legend.trim(),
          classes: el.className || ""};
}"""


def focused(page) -> dict:
    return page.evaluate(DESCRIBE_FOCUS)


def tab_to(page, wanted, *, backwards=False, limit=MAX_TABS) -> dict:
    """Press Tab (or Shift+Tab) until the focused element is the one wanted.

    ``wanted`` is the text or label a person would hear (matched exactly, ignoring case and
    surrounding space), or a function of the focused element's description.
    """
    if isinstance(wanted, str):
        name = " ".join(wanted.split()).lower()

        def matches(seen):
            return name in (" ".join(seen["text"].split()).lower(), " ".join(seen["label"].split()).lower())
    else:
        matches = wanted
    seen_on_the_way = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        seen = focused(page)
        if matches(seen):
            return seen
        seen_on_the_way.append(seen["text"] or seen["label"] or seen["tag"])
    pytest.fail(f"{wanted!r} not reached in {limit} presses of Tab on {page.url}; focus went: {seen_on_the_way}")


def skip_to_main_content(page) -> None:
    """The first Tab on a page reaches the skip link; Enter follows it."""
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    # Following a fragment link updates the address a moment after the key press.
    page.wait_for_url(lambda url: url.endswith("#main-content"))


def focus_lands_on(page, selector: str) -> None:
    """The element announced after the page loaded: the banner or the summary has focus."""
    page.wait_for_function(
        "selector => document.activeElement && document.activeElement.matches(selector)", arg=selector
    )
    # Still there a moment later: nothing (a fragment, a late script) took focus away again.
    page.wait_for_timeout(300)
    assert page.evaluate("selector => document.activeElement.matches(selector)", selector), (
        f"focus moved to {focused(page)} on {page.url}"
    )
    assert "#" not in page.url, f"{page.url} still carries a fragment"


BANNER = ".govuk-notification-banner"
SUMMARY = ".govuk-error-summary"


def sign_in(page, email, name) -> None:
    page.goto("/sign-in")
    tab_to(page, "Email address")
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_function("name => document.querySelector('h1')?.innerText === 'Hello, ' + name", arg=name)


@pytest.fixture(scope="module")
def people(live_app):
    """A member of staff, a session a week away to book, and a trainer whose session has just ended."""
    from trainapp.bookings.models import Booking, BookingStatus
    from trainapp.db import utcnow
    from trainapp.extensions import db

    with live_app.app_context():
        agency = make_agency("Fenland Council", kind=AgencyKind.COUNCIL, domains=["fenland.example.org"])
        make_user(agency=agency, name="Kit Keys", email="kit.keys@fenland.example.org", password=PASSWORD)
        trainer = make_user(
            Role.TRAINER, agency=agency, name="Tam Tabber", email="tam@fenland.example.org", password=PASSWORD
        )
        session = make_session(course=make_course(title=COURSE), capacity=5)
        ended = make_session(
            course=make_course(title=REGISTER_COURSE),
            starts_at=(utcnow() - timedelta(hours=2, minutes=5)).replace(second=0, microsecond=0),
            hours=2,
            capacity=2,
            trainers=[trainer],
        )
        for name in ("Lou Learner", "Max Mover"):
            person = make_user(agency=agency, name=name, email=name.lower().replace(" ", ".") + "@fenland.example.org")
            db.session.add(Booking(session=ended, user=person, agency_id=agency.id, status=BookingStatus.CONFIRMED))
            ended.places_taken += 1
        db.session.commit()
        paths = {"session": f"/sessions/{session.id}", "register": f"/sessions/{ended.id}/register"}
        db.session.remove()
    return paths


def test_booking_cancelling_and_a_mistake_by_keyboard_alone(page, people):
    sign_in(page, "kit.keys@fenland.example.org", "Kit Keys")

    # Book: the session page, then the confirmation page reached through the skip link.
    page.goto(people["session"])
    skip_to_main_content(page)
    tab_to(page, "Book a place")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/book$"))
    skip_to_main_content(page)
    tab_to(page, "Confirm booking")
    page.keyboard.press("Enter")
    focus_lands_on(page, BANNER)
    assert f"You have a place on {COURSE}." in page.inner_text(BANNER)

    # Cancel, from the person's bookings, again after skipping to the main content.
    page.goto("/my-bookings")
    skip_to_main_content(page)
    tab_to(page, f"Cancel {COURSE}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/cancel$"))
    skip_to_main_content(page)
    tab_to(page, "Cancel the booking")
    page.keyboard.press("Enter")
    focus_lands_on(page, BANNER)
    assert "The booking has been cancelled." in page.inner_text(BANNER)

    # A mistake: changing the password with the current one wrong, without and with the skip link.
    for use_skip_link in (False, True):
        page.goto("/account/password")
        if use_skip_link:
            skip_to_main_content(page)
        tab_to(page, "Current password")
        page.keyboard.type("not my password")
        tab_to(page, lambda seen: seen["tag"] == "button" and "password" in seen["text"].lower())
        page.keyboard.press("Enter")
        focus_lands_on(page, SUMMARY)
        # The summary's first link takes the person to the field to put right.
        page.keyboard.press("Tab")
        assert focused(page)["tag"] == "a"
        page.keyboard.press("Enter")
        assert focused(page)["tag"] == "input"


def test_taking_a_register_by_keyboard_alone(page, people):
    sign_in(page, "tam@fenland.example.org", "Tam Tabber")
    page.goto(people["register"])
    skip_to_main_content(page)

    # Each person's choices are a group of radios: Tab reaches the group, Space chooses.
    for name in ("Lou Learner", "Max Mover"):
        tab_to(page, lambda seen, name=name: seen["type"] == "radio" and seen["legend"].startswith(name))
        seen = focused(page)
        if seen["label"] != "Attended":
            pytest.fail(f"the first choice for {name} is {seen['label']!r}, not 'Attended'")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
    tab_to(page, "Submit the register")
    page.keyboard.press("Enter")
    focus_lands_on(page, BANNER)
    assert "The register has been submitted" in page.inner_text(BANNER)


def test_a_mistake_on_a_page_reached_through_the_skip_link_focuses_the_error_summary(page, people):
    """The plainest case of the bug: the form's own page, "#main-content" in the address bar, then submit."""
    page.goto("/sign-in")
    skip_to_main_content(page)
    tab_to(page, "Email address")
    page.keyboard.type("kit.keys@fenland.example.org")
    tab_to(page, "Password")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    focus_lands_on(page, SUMMARY)
    assert page.title().startswith("Error: ")
