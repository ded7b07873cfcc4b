"""A person registers, signs out and back in, in a real browser, as they would by hand."""

import re

import pytest

from tests.factories import make_agency

pytestmark = pytest.mark.e2e

PASSWORD = "lantern-orchard-ferry-42"


@pytest.fixture(scope="module")
def police_agency(live_app):
    """An agency whose staff register with their police.example.org addresses."""
    from trainapp.extensions import db

    with live_app.app_context():
        agency = make_agency("Wessex Police", domains=["police.example.org"])
        db.session.commit()
        name = agency.name
        db.session.remove()
    return name


def _open_the_emailed_link(live_app, page, email):
    """Read the newest email to this address, as its owner would, and follow its link to register."""
    from tests.support import registration_link
    from trainapp.extensions import db

    with live_app.app_context():
        link = registration_link(db, email)
        db.session.remove()
    page.goto(link)


def test_a_new_member_of_staff_registers_signs_out_and_signs_back_in(page, live_app, police_agency):
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_role("link", name="Register", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")

    page.get_by_label("Work email address").fill("Dana.Okoro@police.example.org")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    _open_the_emailed_link(live_app, page, "dana.okoro@police.example.org")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    page.get_by_label("Full name").fill("Dana Okoro")
    page.get_by_label("Job title").fill("Domestic Abuse Officer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dana Okoro")
    expect(page.get_by_text(f"You are registered with {police_agency}.")).to_be_visible()
    expect(page.get_by_text(f"Staff, {police_agency}")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # A signed-out person going back home sees the public page, then signs in from there.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Training for partnership staff")
    page.get_by_role("link", name="Sign in", exact=True).first.click()
    expect(page).to_have_title(re.compile(r"^Sign in"))
    page.get_by_label("Email address", exact=True).fill("dana.okoro@police.example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dana Okoro")
    expect(page.get_by_text(f"Staff, {police_agency}")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_an_empty_sign_in_form_shows_the_error_summary_linked_to_each_field(page):
    from playwright.sync_api import expect

    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()

    # Reaching the server at all shows the form carries novalidate: otherwise the
    # browser's own required-field bubble would stop the submission.
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    # GOV.UK Frontend moves focus to the summary, so a screen reader announces it first.
    expect(page.locator(":focus").get_by_role("heading", name="There is a problem")).to_be_visible()

    email = page.get_by_label("Email address", exact=True)
    password = page.get_by_label("Password", exact=True)
    expect(email).to_have_accessible_description(re.compile("Enter your email address"))
    expect(password).to_have_accessible_description(re.compile("Enter your password"))

    summary.get_by_role("link", name="Enter your password").click()
    expect(password).to_be_focused()
    summary.get_by_role("link", name="Enter your email address").click()
    expect(email).to_be_focused()


def test_an_empty_registration_details_form_lists_every_missing_answer(page, live_app, police_agency):
    from playwright.sync_api import expect

    page.goto("/register")
    page.get_by_label("Work email address").fill("sam.reed@police.example.org")
    page.get_by_role("button", name="Continue").click()
    _open_the_emailed_link(live_app, page, "sam.reed@police.example.org")
    page.get_by_role("button", name="Create account").click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_text(
        ["Enter your full name", "Enter your job title", "Enter a password", "Confirm your password"]
    )
    summary.get_by_role("link", name="Enter your job title").click()
    expect(page.get_by_label("Job title")).to_be_focused()


@pytest.mark.parametrize("path", ["/sign-in", "/register"])
def test_public_pages_fit_a_320_pixel_phone_without_sideways_scrolling(new_page, path):
    from playwright.sync_api import expect

    page = new_page(width=320, height=640)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320, f"{path} is {scroll_width}px wide on a 320px screen"
