"""Pages that reflow at 320px (WCAG 1.4.10): a wide table scrolls sideways inside its own region, which
a keyboard can reach and a screen reader names, and a long email address wraps instead of pushing the
page sideways. The browser crawl (tests/e2e/test_accessibility_crawl.py) measures the pages; these
rules keep the markup that makes them fit."""

import re

import pytest

from tests.factories import fresh_client, make_access_request, make_agency, make_user
from tests.pages import parse, signed_in
from trainapp.accounts.models import Role

# Three or more columns do not fit beside each other at 320px; one or two do.
WIDE_TABLE_COLUMNS = 3
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
WRAPPING_CLASSES = {"app-wrap-anywhere", "govuk-!-text-break-word"}
LONG_EMAIL = "firstname.lastname-with-hyphens@bourne-valley-hospitals.nhs.example.net"


@pytest.fixture
def people(db):
    agency = make_agency(
        "Bourne Valley Hospitals NHS Foundation Trust", domains=["bourne-valley-hospitals.nhs.example.net"]
    )
    coordinator = make_user(Role.COORDINATOR)
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    member = make_user(Role.STAFF, agency=agency, email=LONG_EMAIL)
    request = make_access_request(email="a.very.long.name@a-small-charity-with-a-long-name.example.org")
    db.session.commit()
    return {"coordinator": coordinator, "lead": lead, "member": member, "request": request}


def wide_tables(response):
    for table in parse(response).find_all("table"):
        if "app-table--stack" in (table.get("class") or []):
            continue
        if max(len(row.find_all(["th", "td"])) for row in table.find_all("tr")) >= WIDE_TABLE_COLUMNS:
            yield table


@pytest.mark.parametrize("path", ["/funding", "/reports/board"])
def test_every_wide_table_scrolls_in_a_focusable_region_named_after_its_caption(app, people, path):
    response = signed_in(fresh_client(app), people["coordinator"]).get(path)

    tables = list(wide_tables(response))
    assert tables, "the page shows no wide table to check"
    for table in tables:
        caption = table.caption.get_text(" ", strip=True)
        region = table.parent
        assert "app-table-wrapper" in (region.get("class") or []), f"table {caption!r} is not in a scrolling region"
        assert (region.get("tabindex"), region.get("role"), region.get("aria-label")) == ("0", "region", caption)


def unwrappable_emails(response) -> list[str]:
    """Email addresses shown as text with nothing around them that lets them break."""
    found = []
    for text in parse(response).body.find_all(string=EMAIL):
        classes = {name for parent in text.parents for name in (parent.get("class") or [])}
        if not classes & WRAPPING_CLASSES:
            found.append(text.strip())
    return found


@pytest.mark.parametrize(
    "who, path",
    [
        ("coordinator", "/users"),
        ("coordinator", "/users/{member}"),
        ("coordinator", "/users/{member}/edit"),
        ("coordinator", "/access-requests"),
        ("coordinator", "/access-requests/{request}"),
        ("lead", "/agency/staff"),
        ("member", "/account"),
        ("member", "/account/your-data"),
        ("coordinator", "/users/{member}/data"),
    ],
)
def test_long_email_addresses_can_wrap(app, people, who, path):
    client = signed_in(fresh_client(app), people[who])

    response = client.get(path.format(member=people["member"].id, request=people["request"].id))

    assert response.status_code == 200
    assert EMAIL.search(parse(response).body.get_text()), "the page shows no email address to check"
    assert unwrappable_emails(response) == []
