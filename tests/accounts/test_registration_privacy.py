"""Registering never tells a stranger whether an email address already has an account.

The first step answers the same for every address: it sends an email. A new address gets a link
to go on registering; the owner of an existing account is told someone tried, and how to sign in
or reset their password.
"""

import re

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD, fresh_client, make_agency, make_user
from tests.pages import plain, submit
from tests.support import outbox
from trainapp.accounts.models import AccessRequest, User


@pytest.fixture
def browser(app, db):
    return lambda: fresh_client(app)


def _start(client, email):
    """The first step, followed to the page it ends on: (status codes and places, page text)."""
    response = submit(client, "/register", {"email": email})
    steps = [(response.status_code, response.location)]
    page = client.get(response.location) if response.status_code == 302 else response
    steps.append((page.status_code, None))
    return steps, plain(page)


def _link(db, recipient, prefix):
    [message] = outbox(db, recipient)
    match = re.search(r"http://localhost(" + re.escape(prefix) + r"\S*)", message.body)
    assert match, message.body
    return message, match.group(1)


@pytest.mark.parametrize("domain", ["police.example.org", "charity.example.org"])
def test_a_new_and_an_existing_address_get_the_same_answer(db, browser, domain):
    make_agency("Northshire Police", domains=["police.example.org"])
    make_user(email=f"taken@{domain}", name="Tara Taken")

    new_steps, new_page = _start(browser(), f"newcomer@{domain}")
    old_steps, old_page = _start(browser(), f"TAKEN@{domain}")

    assert new_steps == old_steps
    assert new_page.replace(f"newcomer@{domain}", "EMAIL") == old_page.replace(f"taken@{domain}", "EMAIL")
    assert "Check your email" in new_page


def test_the_owner_of_an_existing_account_is_told_by_email(db, browser):
    make_agency("Northshire Police", domains=["police.example.org"])
    owner = make_user(email="taken@police.example.org", name="Tara Taken")

    _start(browser(), "taken@police.example.org")

    message, _ = _link(db, owner.email, "/password/forgot")
    assert message.subject == "Someone tried to register with your email address"
    assert "/sign-in" in message.body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_new_address_goes_on_registering_through_the_link_in_its_email(db, browser):
    police = make_agency("Northshire Police", domains=["police.example.org"])
    client = browser()
    _start(client, "  Ann.Smith@Police.Example.org ")
    # Without the link, the next step is not open.
    assert client.get("/register/details").location == "/register"

    message, link = _link(db, "ann.smith@police.example.org", "/register/continue/")
    assert message.subject == "Finish registering"
    opened = client.get(link)
    assert opened.location == "/register/details"
    assert "Registering as ann.smith@police.example.org" in plain(client.get("/register/details"))
    response = submit(
        client,
        "/register/details",
        {"name": "Ann Smith", "job_title": "PC", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.location == "/"
    assert "You are registered with Northshire Police." in plain(client.get("/"))
    user = db.session.scalar(sa.select(User).where(User.email == "ann.smith@police.example.org"))
    assert user.agency_id == police.id


def test_the_link_works_in_another_browser_and_leads_outsiders_to_ask_for_access(db, browser):
    _start(browser(), "xan@charity.example.org")
    _, link = _link(db, "xan@charity.example.org", "/register/continue/")
    other = browser()
    assert other.get(link).location == "/register/request-access"
    response = submit(
        other,
        "/register/request-access",
        {
            "name": "Xan Helper",
            "job_title": "Volunteer",
            "organisation": "Small Charity",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.location == "/register/requested"
    assert db.session.scalar(sa.select(AccessRequest.email)) == "xan@charity.example.org"


def test_a_changed_link_does_not_work(db, browser):
    client = browser()
    _start(client, "xan@charity.example.org")
    _, link = _link(db, "xan@charity.example.org", "/register/continue/")
    response = client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert response.status_code == 404
    assert "This link has expired or does not work" in plain(response)
    assert client.get("/register/details").location == "/register"
