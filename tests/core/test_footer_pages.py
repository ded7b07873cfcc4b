"""The footer pages every public service publishes: accessibility, privacy, cookies, contact."""

from datetime import date
from html import unescape

import pytest

from tests.factories import fresh_client, make_user, sign_in
from trainapp.accounts.models import Role
from trainapp.config import ConfigError, from_environment

FOOTER_PAGES = ["/accessibility", "/privacy", "/cookies", "/contact"]

ORGANISATION = {
    "ORGANISATION_NAME": "Northshire Community Safety Partnership",
    "ORGANISATION_EMAIL": "csp.training@northshire.example.gov.uk",
    "ORGANISATION_ADDRESS": "County Hall, Market Street, Northtown NT1 1AA",
    "DATA_PROTECTION_OFFICER_EMAIL": "dpo@northshire.example.gov.uk",
}


@pytest.fixture
def organisation(app, monkeypatch):
    """The app is shared by the session's tests: settings changed here are put back afterwards."""
    for name, value in ORGANISATION.items():
        monkeypatch.setitem(app.config, name, value)
    return ORGANISATION


@pytest.fixture
def visitor(app, db):
    return fresh_client(app)


@pytest.fixture
def member_of_staff(app, db):
    client = fresh_client(app)
    assert sign_in(client, make_user(Role.STAFF)).location == "/"
    return client


def html(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("path", FOOTER_PAGES)
@pytest.mark.parametrize("who", ["visitor", "member_of_staff"])
def test_each_footer_page_is_open_to_everyone_and_names_the_organisation(request, organisation, path, who):
    client = request.getfixturevalue(who)

    response = client.get(path)

    assert response.status_code == 200
    page = html(response)
    assert organisation["ORGANISATION_NAME"] in page
    assert f'href="mailto:{organisation["ORGANISATION_EMAIL"]}"' in page or path == "/cookies"


@pytest.mark.parametrize("path", ["/", "/sign-in", "/accessibility"])
def test_the_footer_of_every_page_links_to_the_four_pages(visitor, path):
    page = html(visitor.get(path))
    footer = page[page.index('class="govuk-footer') :]
    for link in FOOTER_PAGES:
        assert f'href="{link}"' in footer, link


def test_a_signed_in_page_has_the_footer_links_too(member_of_staff):
    page = html(member_of_staff.get("/my-bookings"))
    footer = page[page.index('class="govuk-footer') :]
    for link in FOOTER_PAGES:
        assert f'href="{link}"' in footer, link


def test_the_accessibility_statement_says_when_the_service_was_tested_and_how_to_complain(
    app, visitor, organisation, monkeypatch
):
    monkeypatch.setitem(app.config, "ACCESSIBILITY_TESTED_ON", date(2027, 3, 9))

    page = html(visitor.get("/accessibility"))

    assert "This service was last tested on 9 March 2027" in page
    assert "WCAG 2.2 AA" in page
    assert "Equality Advisory and Support Service" in page
    assert "Equality and Human Rights Commission" in page
    assert organisation["ORGANISATION_ADDRESS"] in page


def test_the_privacy_notice_shows_the_configured_retention_and_contacts(app, visitor, organisation, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_KEEP_SENT_DAYS", 45)
    monkeypatch.setitem(app.config, "OUTBOX_KEEP_FAILED_DAYS", 60)

    page = html(visitor.get("/privacy"))

    assert "deleted 45 days after it was sent" in page
    assert "60 days after it failed" in page
    assert f'href="mailto:{organisation["DATA_PROTECTION_OFFICER_EMAIL"]}"' in page
    assert organisation["ORGANISATION_ADDRESS"] in page
    for held in ["job title", "agency", "bookings", "attendance", "evaluations", "signing in", "emails"]:
        assert held in page, held
    assert "public task" in page
    assert "legitimate interests" in page


def test_the_cookies_page_names_the_one_cookie_signing_in_sets(app, db, visitor):
    page = html(visitor.get("/cookies"))
    assert 'data-label="Name">session</td>' in page
    assert "7 days after you sign in" in page

    browser = fresh_client(app)
    sign_in(browser, make_user(Role.STAFF), remember=True)

    assert browser.get_cookie("session") is not None
    assert browser.get_cookie("remember_token") is None


def test_a_page_without_an_address_leaves_the_postal_line_out(app, visitor, monkeypatch):
    monkeypatch.setitem(app.config, "ORGANISATION_ADDRESS", "")

    page = html(visitor.get("/contact"))

    assert "Post:" not in page
    assert f'href="mailto:{app.config["ORGANISATION_EMAIL"]}"' in page


@pytest.fixture
def environment(monkeypatch):
    for name in [
        "ORGANISATION_EMAIL",
        "ORGANISATION_ADDRESS",
        "DATA_PROTECTION_OFFICER_EMAIL",
        "ACCESSIBILITY_TESTED_ON",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAINAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-for-this-test-only")
    monkeypatch.setenv("MAIL_FROM", "training@csp.example.org")
    return monkeypatch


def test_the_organisations_contacts_default_to_the_training_mailbox(environment, tmp_path):
    settings = from_environment(tmp_path)

    assert settings["ORGANISATION_EMAIL"] == "training@csp.example.org"
    assert settings["DATA_PROTECTION_OFFICER_EMAIL"] == "training@csp.example.org"
    assert settings["ORGANISATION_ADDRESS"] == ""
    assert isinstance(settings["ACCESSIBILITY_TESTED_ON"], date)


def test_the_organisations_contacts_come_from_the_environment(environment, tmp_path):
    environment.setenv("ORGANISATION_EMAIL", "hello@csp.example.org")
    environment.setenv("DATA_PROTECTION_OFFICER_EMAIL", "dpo@council.example.gov.uk")
    environment.setenv("ORGANISATION_ADDRESS", "Town Hall, Northtown NT1 1AA")
    environment.setenv("ACCESSIBILITY_TESTED_ON", "2027-03-09")

    settings = from_environment(tmp_path)

    assert settings["ORGANISATION_EMAIL"] == "hello@csp.example.org"
    assert settings["DATA_PROTECTION_OFFICER_EMAIL"] == "dpo@council.example.gov.uk"
    assert settings["ORGANISATION_ADDRESS"] == "Town Hall, Northtown NT1 1AA"
    assert settings["ACCESSIBILITY_TESTED_ON"] == date(2027, 3, 9)


def test_a_testing_date_that_is_not_a_date_is_refused_with_the_reason(environment, tmp_path):
    environment.setenv("ACCESSIBILITY_TESTED_ON", "March 2027")

    with pytest.raises(
        ConfigError, match="ACCESSIBILITY_TESTED_ON must be a date such as 2026-12-01, not 'March 2027'"
    ):
        from_environment(tmp_path)
