"""An agency lead imports staff from a spreadsheet in a real browser; a new person then sets a
password from the emailed link and signs in."""

import re
from pathlib import Path

import pytest

from tests.e2e.test_accessibility_crawl import ALLOWED_VIOLATIONS, AXE_JS, PHONE_RULES, WCAG_TAGS, WIDEST_ELEMENT_JS
from tests.factories import make_agency, make_user

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "heron-quarry-lantern-58"
LEAD_PASSWORD = "willow-beacon-meadow-31"
# The live app is shared by every browser test in a worker: this module's own agency and domain.
AGENCY = "Riverside Housing Trust"
DOMAIN = "riverside-housing.example.org"


@pytest.fixture(scope="module")
def lead(live_app):
    """An agency lead whose staff have riverside-housing addresses."""
    from trainapp.accounts.models import Role
    from trainapp.extensions import db

    with live_app.app_context():
        agency = make_agency(AGENCY, domains=[DOMAIN])
        person = make_user(
            Role.AGENCY_LEAD, agency=agency, email=f"rita.lead@{DOMAIN}", name="Rita Lead", password=LEAD_PASSWORD
        )
        db.session.commit()
        email = person.email
        db.session.remove()
    return email


def _set_password_link(live_app, email: str) -> str:
    """The path of the link in the newest email to this address, as its owner would open it."""
    from tests.support import outbox
    from trainapp.extensions import db

    with live_app.app_context():
        body = outbox(db, email)[-1].body
        db.session.remove()
    [path] = re.findall(r"https?://[^/\s]+(/password/reset/\S+)", body)
    return path


def _no_accessibility_problems(page) -> None:
    """No sideways scrolling at 320px, and axe-core's WCAG 2.2 A and AA rules as the accessibility crawl runs them."""
    allowed = [[rule, selector] for rule, selector, _ in ALLOWED_VIOLATIONS]
    found = []
    for width, run_only in (
        (320, {"type": "rule", "values": PHONE_RULES}),
        (1024, {"type": "tag", "values": WCAG_TAGS}),
    ):
        page.set_viewport_size({"width": width, "height": 768})
        assert page.evaluate(WIDEST_ELEMENT_JS) is None, f"{page.url} scrolls sideways at {width}px"
        violations = page.evaluate(AXE_JS, [run_only, allowed])
        found += [f"{v['id']} at {target} ({v['help']}) at {width}px" for v in violations for target in v["targets"]]
    assert found == [], f"{page.url}: {found}"


def test_an_agency_lead_imports_staff_and_a_new_person_signs_in(page, live_app, lead):
    from playwright.sync_api import expect

    from tests.e2e.conftest import sign_in

    # Loaded before each page's own scripts, so the strict Content-Security-Policy does not stop it.
    page.context.add_init_script(path=str(AXE))
    sign_in(page, lead, LEAD_PASSWORD, "Rita Lead")
    page.get_by_role("link", name="Import staff or leavers from a spreadsheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import staff from a spreadsheet")
    expect(page.get_by_text(f"Everyone in the file will belong to {AGENCY}.")).to_be_visible()
    _no_accessibility_problems(page)

    staff_list = (
        "Full name,Email address,Job title\r\n"
        f"Nia Newton,nia.newton@{DOMAIN},Tenancy Support Officer\r\n"
        "Owen Bad,owen.bad-at-example,Housing Officer\r\n"
        f"Priya Patel,priya.patel@{DOMAIN},Housing Officer\r\n"
    ).encode()
    page.get_by_label("New and existing staff").check()
    page.get_by_label("Upload a file").set_input_files(
        {"name": "riverside-staff.csv", "mimeType": "text/csv", "buffer": staff_list}
    )
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the staff list")
    errors = page.get_by_role("table", name="Rows with errors")
    expect(errors.get_by_role("row")).to_have_count(2)
    expect(errors.get_by_role("cell", name="3", exact=True)).to_be_visible()
    expect(errors).to_contain_text("is not an email address in the correct format")
    _no_accessibility_problems(page)

    # Without the box ticked the rows with errors stop it; nothing changes.
    page.get_by_role("button", name="Add 2 people").click()
    expect(page.get_by_role("heading", level=2, name="There is a problem")).to_be_visible()
    _no_accessibility_problems(page)
    page.get_by_label("Apply the valid rows and leave out the rows with errors").check()
    page.get_by_role("button", name="Add 2 people").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your staff")
    expect(page.get_by_text("2 people added. 1 row with errors was not applied.")).to_be_visible()
    expect(page.get_by_role("link", name="Nia Newton")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()

    page.goto(_set_password_link(live_app, f"nia.newton@{DOMAIN}"))
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password has been changed. Sign in with your new password.")).to_be_visible()

    sign_in(page, f"nia.newton@{DOMAIN}", PASSWORD, "Nia Newton")
    expect(page.get_by_text(f"Staff, {AGENCY}")).to_be_visible()
