"""Accounts through the real pages: signing in and out, registering, passwords, people, agencies.

Every form is sent as a browser sends it, with the CSRF token from the page.
"""

import re
from html import unescape
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.accounts.signing_in import is_signed_in
from tests.factories import (
    PASSWORD,
    csrf_token,
    fresh_client,
    make_access_request,
    make_agency,
    make_user,
    sign_in,
)
from tests.pages import plain
from tests.support import outbox, registration_link
from trainapp.accounts.models import (
    AccessRequest,
    AccessRequestStatus,
    Agency,
    Role,
    SignInAttempt,
    User,
)
from trainapp.audit import AuditEvent
from trainapp.notifications.models import OutboxMessage

NEW_PASSWORD = "lantern orchard velvet compass"


@pytest.fixture
def client(app, db):
    return fresh_client(app)


@pytest.fixture
def browser(app, db):
    """A second, separate browser."""
    return lambda: fresh_client(app)


# --- helpers ------------------------------------------------------------------------


def html(response) -> str:
    """The page as a person reads it (entities such as &#39; turned back into characters)."""
    return unescape(response.get_data(as_text=True))


def title(response) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", html(response), re.S)
    assert match, "page has no title"
    return " ".join(match.group(1).split())


def error_summary(response) -> str:
    """The text of the GOV.UK error summary, or '' when the page has none."""
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', html(response), re.S)
    if not match:
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def assert_error_page(response, *messages, status=200):
    """A form sent back with its errors: summary at the top, 'Error:' in the title."""
    assert response.status_code == status, title(response)
    summary = error_summary(response)
    assert summary.startswith("There is a problem"), "no error summary on the page"
    assert title(response).startswith("Error: ")
    for message in messages:
        assert message in summary


def submit(client, url, data, *, page=None):
    """Open the page with the form (``page``, default ``url``) and send it with its CSRF token."""
    form_page = client.get(page or url)
    assert form_page.status_code == 200, f"{page or url}: {form_page.status_code}"
    return client.post(url, data={"csrf_token": csrf_token(form_page), **data})


def signed_in(client, user, **kw):
    response = sign_in(client, user, **kw)
    assert response.status_code == 302 and response.location == "/", "sign-in failed"
    return client


def link_in(message: OutboxMessage, path_prefix: str) -> str:
    match = re.search(r"http://localhost(" + re.escape(path_prefix) + r"\S*)", message.body)
    assert match, f"no {path_prefix} link in: {message.body}"
    return match.group(1)


def _register_email(client, db, email):
    """The first step of registering, then the link it emails: where that link leads."""
    submit(client, "/register", {"email": email})
    return client.get(registration_link(db, email.strip().lower()))


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- signing in ---------------------------------------------------------------------


def test_signing_in_goes_to_the_home_page(client, db):
    user = make_user(name="Priya Shah")
    response = sign_in(client, user)
    assert response.status_code == 302
    assert response.location == "/"
    assert "Hello, Priya Shah" in html(client.get("/"))


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(client, db):
    user = make_user()
    unknown = submit(client, "/sign-in", {"email": "nobody@example.org", "password": PASSWORD})
    wrong = submit(client, "/sign-in", {"email": user.email, "password": "not the password at all"})

    assert_error_page(unknown, "Enter a correct email address and password")
    assert_error_page(wrong, "Enter a correct email address and password")
    assert error_summary(unknown) == error_summary(wrong)
    assert not is_signed_in(client)


def test_repeated_failures_stop_even_the_right_password_for_a_while(client, browser, db):
    user = make_user()
    bystander = make_user()
    for _ in range(5):
        submit(client, "/sign-in", {"email": user.email, "password": "a wrong guess again"})

    response = submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})

    assert_error_page(response, "Too many failed attempts to sign in from here. Wait 30 seconds")
    assert not is_signed_in(client)
    # The wait is for this account from this address: someone else at the same address signs in.
    assert sign_in(browser(), bystander).location == "/"


def test_a_protected_page_sends_you_back_to_it_after_signing_in(client, db):
    user = make_user()
    bounced = client.get("/account")
    assert bounced.status_code == 302
    sign_in_url = bounced.location
    assert sign_in_url == "/sign-in?next=%2Faccount"

    form_page = client.get(sign_in_url)
    assert 'name="next" type="hidden" value="/account"' in html(form_page)
    response = client.post(
        sign_in_url,
        data={"csrf_token": csrf_token(form_page), "email": user.email, "password": PASSWORD, "next": "/account"},
    )
    assert response.status_code == 302
    assert response.location == "/account"


@pytest.mark.parametrize(
    "forged",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "https:/evil.example",
        "/\t/evil.example",
    ],
)
def test_next_never_leads_off_the_site(client, db, forged):
    user = make_user()
    url = "/sign-in?next=" + quote(forged, safe="")
    form_page = client.get(url)
    response = client.post(
        url,
        data={"csrf_token": csrf_token(form_page), "email": user.email, "password": PASSWORD, "next": forged},
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_a_signed_in_person_opening_sign_in_goes_home(client, db):
    signed_in(client, make_user())
    response = client.get("/sign-in")
    assert response.status_code == 302
    assert response.location == "/"


# --- ending sessions ----------------------------------------------------------------


def _copy_cookies(source, target, names):
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie to copy"
        target.set_cookie(name, cookie.value)


def test_signing_out_ends_every_copy_of_the_session_and_remember_me(client, browser, db):
    user = make_user()
    signed_in(client, user, remember=True)
    stolen = browser()
    _copy_cookies(client, stolen, ["session"])
    # Kept signed in: the same cookie, kept after the browser closes.
    remembered = browser()
    _copy_cookies(client, remembered, ["session"])
    assert is_signed_in(stolen) and is_signed_in(remembered)

    response = client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})

    assert response.status_code == 302
    assert response.location == "/sign-in"
    assert "You have signed out." in html(client.get("/sign-in"))
    assert not is_signed_in(client)
    assert not is_signed_in(stolen)
    assert not is_signed_in(remembered)
    # Signing in again works, and is a new session.
    assert sign_in(client, user).location == "/"
    assert not is_signed_in(stolen)


def test_sign_out_is_a_post_a_link_cannot_sign_you_out(client, db):
    signed_in(client, make_user())
    assert client.get("/sign-out").status_code == 405
    assert is_signed_in(client)


def test_changing_password_ends_other_sessions_but_keeps_this_one(client, browser, db):
    user = make_user()
    signed_in(client, user)
    laptop = signed_in(browser(), user, remember=True)
    remembered = browser()
    _copy_cookies(laptop, remembered, ["session"])
    assert is_signed_in(remembered)

    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.location == "/account"
    page = html(client.get("/account"))
    assert "You have been signed out everywhere else" in page
    assert is_signed_in(client)
    assert not is_signed_in(laptop)
    assert not is_signed_in(remembered)
    assert sign_in(browser(), user, password=PASSWORD).status_code == 200
    assert sign_in(browser(), user, password=NEW_PASSWORD).location == "/"


def test_a_wrong_current_password_changes_nothing(client, browser, db):
    user = make_user()
    signed_in(client, user)
    other = signed_in(browser(), user)
    response = submit(
        client,
        "/account/password",
        {"current_password": "not my password!", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert_error_page(response, "Your current password is not correct")
    assert is_signed_in(other)
    assert sign_in(browser(), user, password=PASSWORD).location == "/"


def test_deactivating_someone_ends_their_sessions_at_once(client, browser, db):
    coordinator = make_user(Role.COORDINATOR)
    person = make_user(name="Dee Activated")
    their_browser = signed_in(browser(), person, remember=True)
    signed_in(client, coordinator)

    response = submit(client, f"/users/{person.id}/deactivate", {}, page=f"/users/{person.id}")

    assert response.status_code == 302
    assert response.location == f"/users/{person.id}"
    page = html(client.get(f"/users/{person.id}"))
    assert "Dee Activated's account has been deactivated." in page
    assert "Reactivate account" in page
    assert not is_signed_in(their_browser)
    refused = sign_in(browser(), person)
    assert_error_page(refused, "Enter a correct email address and password")


def test_the_last_coordinator_cannot_be_deactivated(client, db):
    coordinator = make_user(Role.COORDINATOR, name="Only Coordinator")
    signed_in(client, coordinator)
    response = submit(client, f"/users/{coordinator.id}/deactivate", {}, page=f"/users/{coordinator.id}")
    assert response.status_code == 302
    page = client.get(response.location)
    assert "The service needs at least one active coordinator" in error_summary(page)
    assert is_signed_in(client)


# --- registering --------------------------------------------------------------------


def test_registering_with_an_agency_domain_gives_an_account_straight_away(client, db):
    police = make_agency("Northshire Police", domains=["police.example.org"])

    response = _register_email(client, db, "  Ann.Smith@Police.Example.org ")
    assert response.status_code == 302
    assert response.location == "/register/details"
    details = client.get("/register/details")
    assert "Registering as ann.smith@police.example.org" in plain(details)
    assert "Which agency do you work for?" not in html(details)

    response = submit(
        client,
        "/register/details",
        {"name": "Ann Smith", "job_title": "PC", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"
    home = html(client.get("/"))
    assert "Your account is ready. You are registered with Northshire Police." in home
    assert "Hello, Ann Smith" in home
    user = db.session.scalar(sa.select(User).where(User.email == "ann.smith@police.example.org"))
    assert (user.role, user.agency_id) == (Role.STAFF, police.id)


def test_a_shared_domain_asks_which_agency(client, db):
    make_agency("Hospital Trust", domains=["nhs.example.net"])
    community = make_agency("Community Trust", domains=["nhs.example.net"])
    _register_email(client, db, "nurse@nhs.example.net")
    details = {"name": "Nia Nurse", "job_title": "Nurse", "password": PASSWORD, "confirm": PASSWORD}

    page = html(client.get("/register/details"))
    assert "Which agency do you work for?" in page
    assert "Hospital Trust" in page and "Community Trust" in page

    unchosen = submit(client, "/register/details", details)
    assert_error_page(unchosen, "Select the agency you work for")
    assert count(db, User) == 0

    response = submit(client, "/register/details", {**details, "agency": str(community.id)})
    assert response.status_code == 302
    assert "You are registered with Community Trust." in html(client.get("/"))


def test_an_already_registered_email_is_told_to_sign_in_by_email(client, db):
    make_agency(domains=["police.example.org"])
    make_user(email="taken@police.example.org")
    response = submit(client, "/register", {"email": "TAKEN@police.example.org"})
    assert response.location == "/register/check-email"
    assert outbox(db, "taken@police.example.org")[-1].subject == "Someone tried to register with your email address"
    assert client.get("/register/details").location == "/register"


def test_a_badly_formed_email_is_explained(client, db):
    response = submit(client, "/register", {"email": "not an email"})
    assert_error_page(response, "Enter an email address in the correct format")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Password must be 12 characters or more"),
        ("password1234", "This password is too common"),
        ("1234567890123", "This password is too common"),
    ],
)
def test_a_weak_password_is_explained_and_creates_nothing(client, db, password, message):
    make_agency(domains=["police.example.org"])
    _register_email(client, db, "new@police.example.org")
    response = submit(
        client,
        "/register/details",
        {"name": "New Person", "job_title": "PC", "password": password, "confirm": password},
    )
    assert_error_page(response, message)
    assert count(db, User) == 0


def test_mismatched_passwords_are_explained(client, db):
    make_agency(domains=["police.example.org"])
    _register_email(client, db, "new@police.example.org")
    response = submit(
        client,
        "/register/details",
        {"name": "New Person", "job_title": "PC", "password": PASSWORD, "confirm": PASSWORD + "x"},
    )
    assert_error_page(response, "The passwords do not match")
    assert count(db, User) == 0


def _ask_for_access(client, db, email="xan@charity.example.org", password=PASSWORD):
    response = _register_email(client, db, email)
    assert response.location == "/register/request-access"
    return submit(
        client,
        "/register/request-access",
        {
            "name": "Xan Helper",
            "job_title": "Volunteer",
            "organisation": "Small Charity",
            "password": password,
            "confirm": password,
        },
    )


def test_an_unknown_domain_asks_for_access_and_a_coordinator_approves(client, browser, db):
    coordinator = make_user(Role.COORDINATOR)
    agency = make_agency("Youth Service")

    response = _ask_for_access(client, db)
    assert response.status_code == 302
    assert response.location == "/register/requested"
    assert "Request sent" in html(client.get("/register/requested"))
    assert db.session.scalar(sa.select(User).where(User.email == "xan@charity.example.org")) is None
    [notice] = outbox(db, coordinator.email)
    review_url = link_in(notice, "/access-requests/")

    coord = signed_in(browser(), coordinator)
    assert "Review 1 access request" in html(coord.get("/"))
    assert "Xan Helper" in html(coord.get("/access-requests"))
    assert "Small Charity" in html(coord.get(review_url))
    response = submit(
        coord,
        review_url,
        {"approve-agency": str(agency.id), "approve-role": "staff"},
    )
    assert response.status_code == 302
    assert response.location == "/access-requests"
    listing = html(coord.get("/access-requests"))
    assert "Xan Helper now has an account with Youth Service." in listing
    assert "No requests are waiting." in listing
    welcome = outbox(db, "xan@charity.example.org")[-1]
    assert welcome.subject == "Your account is ready"

    person = db.session.scalar(sa.select(User).where(User.email == "xan@charity.example.org"))
    assert person.agency_id == agency.id
    assert sign_in(browser(), person).location == "/"
    # A decided request is no longer open for review.
    assert coord.get(review_url).status_code == 404


def test_rejecting_needs_a_reason_and_an_empty_one_changes_nothing(client, browser, db):
    coordinator = make_user(Role.COORDINATOR)
    access_request = make_access_request(name="Rae Jected")
    coord = signed_in(client, coordinator)
    review_url = f"/access-requests/{access_request.id}"
    messages_before = len(outbox(db))

    response = submit(coord, review_url + "/reject", {"reject-reason": "   "}, page=review_url)

    assert_error_page(response, "Enter a reason for rejecting the request", status=400)
    db.session.expire_all()
    assert access_request.status == AccessRequestStatus.PENDING
    assert len(outbox(db)) == messages_before
    assert "Rae Jected" in html(coord.get("/access-requests"))

    response = submit(
        coord,
        review_url + "/reject",
        {"reject-reason": "Please use your work email."},
        page=review_url,
    )
    assert response.status_code == 302
    assert "The request from Rae Jected has been rejected." in html(coord.get("/access-requests"))
    [refusal] = outbox(db, access_request.email)
    assert "Please use your work email." in refusal.body


def test_asking_twice_for_access_is_explained(client, db):
    make_user(Role.COORDINATOR)
    _ask_for_access(client, db)
    response = _ask_for_access(client, db)
    assert_error_page(response, "You have already asked for access with this email address")
    assert count(db, AccessRequest) == 1


def test_an_access_request_with_a_weak_password_creates_nothing(client, db):
    response = _ask_for_access(client, db, password="short")
    assert_error_page(response, "Password must be 12 characters or more")
    assert count(db, AccessRequest) == 0


# --- forgotten passwords ------------------------------------------------------------


def test_a_reset_link_from_the_email_works_once(client, browser, db):
    user = make_user(email="forgetful@example.org")
    elsewhere = signed_in(browser(), user)

    response = submit(client, "/password/forgot", {"email": "Forgetful@Example.org"})
    assert response.status_code == 302
    assert response.location == "/sign-in"
    assert "If an account uses that address" in html(client.get("/sign-in"))
    [message] = outbox(db, user.email)
    reset_url = link_in(message, "/password/reset/")

    assert "Choose a new password" in html(client.get(reset_url))
    mismatch = submit(client, reset_url, {"password": NEW_PASSWORD, "confirm": "something else"})
    assert_error_page(mismatch, "The passwords do not match")
    response = submit(client, reset_url, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.location == "/sign-in"
    assert "Your password has been changed" in html(client.get("/sign-in"))

    assert not is_signed_in(elsewhere)
    assert sign_in(browser(), user, password=PASSWORD).status_code == 200
    assert sign_in(browser(), user, password=NEW_PASSWORD).location == "/"

    used = client.get(reset_url)
    assert used.status_code == 404
    assert "This link is not valid" in html(used)
    assert "This link has expired or has already been used" in html(used)


def test_a_used_link_cannot_set_a_password(client, browser, db):
    user = make_user()
    submit(client, "/password/forgot", {"email": user.email})
    reset_url = link_in(outbox(db, user.email)[0], "/password/reset/")
    submit(client, reset_url, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    again = submit(
        client,
        reset_url,
        {"password": "a third passphrase", "confirm": "a third passphrase"},
        page="/sign-in",
    )
    assert again.status_code == 404
    assert sign_in(browser(), user, password=NEW_PASSWORD).location == "/"


def test_a_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client, db):
    response = submit(client, "/password/forgot", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.location == "/sign-in"
    assert "If an account uses that address" in html(client.get("/sign-in"))
    assert outbox(db) == []


# --- requests the service refuses ---------------------------------------------------


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(client, db):
    signed_in(client, make_user(Role.COORDINATOR))
    response = client.post(
        "/agencies/new",
        data={"name": "Forged Agency", "kind": "police", "domains": "", "is_partner": "yes"},
    )
    assert response.status_code == 400
    assert "Your form could not be sent" in html(response)
    assert db.session.scalar(sa.select(Agency).where(Agency.name == "Forged Agency")) is None


def test_a_csrf_token_from_another_browser_is_refused(client, browser, db):
    coordinator = make_user(Role.COORDINATOR)
    signed_in(client, coordinator)
    attacker = browser()
    foreign_token = csrf_token(attacker.get("/sign-in"))
    response = client.post(
        "/agencies/new",
        data={"csrf_token": foreign_token, "name": "Forged Agency", "kind": "police", "is_partner": "yes"},
    )
    assert response.status_code == 400
    assert count(db, Agency) == 0


def test_signing_in_without_a_csrf_token_is_refused(client, db):
    user = make_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert not is_signed_in(client)
    assert count(db, SignInAttempt) == 0


def _oversized(app) -> dict:
    """Three fields, each small enough on its own, that together pass MAX_CONTENT_LENGTH."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit and limit <= 1024 * 1024, "uploads should be capped"
    piece = "a" * (limit // 3 + 1)
    return {"filler1": piece, "filler2": piece, "filler3": piece}


def test_an_oversized_form_is_refused(client, app, db):
    signed_in(client, make_user(Role.COORDINATOR))
    token = csrf_token(client.get("/agencies/new"))
    response = client.post(
        "/agencies/new",
        data={"csrf_token": token, "name": "Huge", "kind": "police", "is_partner": "yes", **_oversized(app)},
    )
    assert response.status_code == 413
    assert "What you sent is too large" in html(response)
    assert count(db, Agency) == 0


def test_an_oversized_sign_in_is_refused(client, app, db):
    user = make_user()
    token = csrf_token(client.get("/sign-in"))
    response = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD, **_oversized(app)},
    )
    assert response.status_code == 413
    assert "What you sent is too large" in html(response)
    assert not is_signed_in(client)


# --- agencies -----------------------------------------------------------------------

AGENCY = {
    "name": "Northshire Police",
    "kind": "police",
    "is_partner": "yes",
    "domains": "police.example.org, @Custody.Example.org\npolice.example.org",
}


def test_a_coordinator_adds_an_agency_whose_staff_can_then_register(client, browser, db):
    signed_in(client, make_user(Role.COORDINATOR))

    response = submit(client, "/agencies/new", AGENCY)

    assert response.status_code == 302
    assert response.location == "/agencies"
    listing = html(client.get("/agencies"))
    assert "Northshire Police has been saved." in listing
    assert "custody.example.org, police.example.org" in listing
    newcomer = browser()
    assert _register_email(newcomer, db, "pc@custody.example.org").location == "/register/details"


def test_a_bad_domain_is_shown_beside_the_field_and_saves_nothing(client, db):
    signed_in(client, make_user(Role.COORDINATOR))
    response = submit(client, "/agencies/new", {**AGENCY, "domains": "police.example.org\nnot_a domain!"})
    assert_error_page(response, "is not an email domain: enter domains like police.example.org")
    assert 'href="#domains"' in html(response)
    assert 'id="domains-error"' in html(response)
    assert count(db, Agency) == 0


def test_agency_names_are_unique_whatever_the_case(client, db):
    existing = make_agency("Northshire Police")
    other = make_agency("Fire Service")
    signed_in(client, make_user(Role.COORDINATOR))

    created = submit(client, "/agencies/new", {**AGENCY, "name": "NORTHSHIRE police"})
    assert_error_page(created, "An agency with this name already exists")
    assert 'id="name-error"' in html(created)

    renamed = submit(client, f"/agencies/{other.id}/edit", {**AGENCY, "name": "northshire police"})
    assert_error_page(renamed, "An agency with this name already exists")
    db.session.expire_all()
    assert other.name == "Fire Service"
    assert count(db, Agency) == 2
    assert existing.name == "Northshire Police"


def test_editing_an_agency_is_saved_and_audited(client, db):
    agency = make_agency("Fire Service", kind="fire", domains=["fire.example.org", "old.example.org"])
    coordinator = make_user(Role.COORDINATOR)
    signed_in(client, coordinator)

    form_page = html(client.get(f"/agencies/{agency.id}/edit"))
    assert "fire.example.org\nold.example.org" in form_page
    response = submit(
        client,
        f"/agencies/{agency.id}/edit",
        {"name": "Northshire Fire and Rescue", "kind": "fire", "is_partner": "no", "domains": "fire.example.org"},
    )

    assert response.status_code == 302
    listing = html(client.get("/agencies"))
    assert "Northshire Fire and Rescue has been saved." in listing
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "agency.updated"))
    assert event.actor_id == coordinator.id
    assert event.before == {
        "name": "Fire Service",
        "is_partner": True,
        "domains": ["fire.example.org", "old.example.org"],
    }
    assert event.after == {"name": "Northshire Fire and Rescue", "is_partner": False, "domains": ["fire.example.org"]}


def test_a_deactivated_agency_stops_registering_its_staff_until_reactivated(client, browser, db):
    agency = make_agency("Closing Agency", domains=["closing.example.org"])
    signed_in(client, make_user(Role.COORDINATOR))

    response = submit(client, f"/agencies/{agency.id}/deactivate", {}, page="/agencies")
    assert response.status_code == 302
    assert response.location == "/agencies"
    assert "Closing Agency has been deactivated." in html(client.get("/agencies"))
    assert _register_email(browser(), db, "a@closing.example.org").location == "/register/request-access"

    submit(client, f"/agencies/{agency.id}/reactivate", {}, page="/agencies")
    assert "Closing Agency has been reactivated." in html(client.get("/agencies"))
    assert _register_email(browser(), db, "a@closing.example.org").location == "/register/details"


# --- people -------------------------------------------------------------------------


def test_a_coordinator_changes_someones_role_and_agency_and_it_is_audited(client, db):
    home = make_agency("Home Agency")
    other = make_agency("Other Agency")
    person = make_user(Role.STAFF, agency=home, name="Moving Person")
    coordinator = make_user(Role.COORDINATOR)
    signed_in(client, coordinator)

    form_page = html(client.get(f"/users/{person.id}/edit"))
    assert re.search(r'<option value="staff" selected', form_page)
    assert re.search(rf'<option value="{home.id}" selected', form_page)
    response = submit(
        client,
        f"/users/{person.id}/edit",
        {"name": "Moving Person", "job_title": "Team leader", "role": "agency_lead", "agency": str(other.id)},
    )

    assert response.status_code == 302
    assert response.location == f"/users/{person.id}"
    page = html(client.get(f"/users/{person.id}"))
    assert "Moving Person's details have been saved." in page
    assert "Agency lead" in page and "Other Agency" in page
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.updated"))
    assert event.actor_id == coordinator.id
    assert event.entity_id == person.id
    assert event.before == {"job_title": "", "role": "staff", "agency_id": home.id}
    assert event.after == {"job_title": "Team leader", "role": "agency_lead", "agency_id": other.id}


@pytest.mark.parametrize("which", ["unknown", "deactivated"])
def test_an_agency_that_cannot_be_chosen_is_refused(client, db, which):
    """A tampered id, or an agency deactivated while the form was open: nothing is saved.

    WTForms' own choice check answers first, with the form and its error (not a bare 400).
    """
    home = make_agency("Home Agency")
    closed = make_agency("Closed Agency")
    person = make_user(Role.STAFF, agency=home)
    signed_in(client, make_user(Role.COORDINATOR))
    token = csrf_token(client.get(f"/users/{person.id}/edit"))
    if which == "deactivated":
        closed.active = False
        db.session.commit()
    agency_id = 999999 if which == "unknown" else closed.id

    response = client.post(
        f"/users/{person.id}/edit",
        data={"csrf_token": token, "name": "Changed", "role": "staff", "agency": str(agency_id)},
    )

    assert_error_page(response)
    assert 'href="#agency"' in html(response)
    db.session.expire_all()
    assert (person.name, person.agency_id) != ("Changed", agency_id)
    assert person.agency_id == home.id
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.updated")) is None


def test_the_last_coordinator_cannot_give_up_the_role(client, db):
    coordinator = make_user(Role.COORDINATOR, name="Only Coordinator")
    signed_in(client, coordinator)
    response = submit(
        client,
        f"/users/{coordinator.id}/edit",
        {"name": "Only Coordinator", "role": "staff", "agency": "0"},
    )
    assert_error_page(response, "The service needs at least one active coordinator")
    db.session.expire_all()
    assert coordinator.role == Role.COORDINATOR


def test_an_agency_lead_sees_only_their_own_agencys_staff(client, db):
    mine = make_agency("My Agency")
    theirs = make_agency("Their Agency")
    lead = make_user(Role.AGENCY_LEAD, agency=mine, name="Lee Lead")
    make_user(agency=mine, name="Alice Mine")
    make_user(agency=theirs, name="Bob Theirs")
    signed_in(client, lead)

    page = html(client.get("/agency/staff"))

    assert "My Agency" in page
    assert "Alice Mine" in page and "Lee Lead" in page
    assert "Bob Theirs" not in page
    assert 'href="/agency/staff"' in html(client.get("/"))


def test_people_can_be_searched_by_name_role_and_agency(client, db):
    police = make_agency("Police")
    make_user(agency=police, name="Alice Police")
    make_user(Role.TRAINER, agency=police, name="Tom Trainer")
    make_user(name="Carol Elsewhere")
    signed_in(client, make_user(Role.COORDINATOR, name="Cora Coordinator"))

    by_name = html(client.get("/users?q=alice"))
    assert "Alice Police" in by_name and "Tom Trainer" not in by_name
    by_role = html(client.get("/users?role=trainer"))
    assert "Tom Trainer" in by_role and "Alice Police" not in by_role
    by_agency = html(client.get(f"/users?agency={police.id}"))
    assert "Alice Police" in by_agency and "Tom Trainer" in by_agency
    assert "Carol Elsewhere" not in by_agency


# --- every form shows its errors the same way ---------------------------------------


def _empty_form(db, client, case):
    """Open the form for ``case`` as the right person; return (url, page to take the token from)."""
    if case in ("register details", "request access"):
        if case == "register details":
            make_agency(domains=["police.example.org"])
        _register_email(client, db, "someone@police.example.org")
        url = "/register/details" if case == "register details" else "/register/request-access"
        return url, url
    if case == "reset password":
        user = make_user()
        submit(client, "/password/forgot", {"email": user.email})
        url = link_in(outbox(db, user.email)[0], "/password/reset/")
        return url, url
    if case == "change password":
        signed_in(client, make_user())
        return "/account/password", "/account/password"
    simple = {"sign in": "/sign-in", "register": "/register", "forgot password": "/password/forgot"}
    if case in simple:
        return simple[case], simple[case]
    coordinator = make_user(Role.COORDINATOR)
    signed_in(client, coordinator)
    if case == "new agency":
        return "/agencies/new", "/agencies/new"
    if case == "edit agency":
        agency = make_agency()
        return f"/agencies/{agency.id}/edit", f"/agencies/{agency.id}/edit"
    if case == "edit user":
        person = make_user()
        return f"/users/{person.id}/edit", f"/users/{person.id}/edit"
    access_request = make_access_request()
    review = f"/access-requests/{access_request.id}"
    if case == "approve access":
        return review, review
    return review + "/reject", review


FORMS = [
    "sign in",
    "register",
    "register details",
    "request access",
    "forgot password",
    "reset password",
    "change password",
    "new agency",
    "edit agency",
    "edit user",
    "approve access",
    "reject access",
]


@pytest.mark.parametrize("case", FORMS)
def test_every_form_sent_empty_comes_back_with_an_error_summary(client, db, case):
    url, page = _empty_form(db, client, case)
    response = submit(client, url, {"name": ""}, page=page)
    assert_error_page(response, status=400 if case == "reject access" else 200)
    assert "govuk-error-message" in html(response), "no error beside the field"
