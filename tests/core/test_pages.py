"""What every page shares: the home page per role, error pages, headers, health, list pages."""

import itertools
import re
from html import unescape

import pytest
from sqlalchemy.exc import OperationalError

from tests.factories import fresh_client, make_access_request, make_agency, make_user, sign_in
from tests.support import counting_queries
from trainapp.accounts.models import Role

ORGANISATION = "Test Partnership"


@pytest.fixture
def client(app, db):
    return fresh_client(app)


def html(response) -> str:
    return unescape(response.get_data(as_text=True))


def signed_in(client, user):
    assert sign_in(client, user).location == "/"
    return client


# --- the home page ------------------------------------------------------------------


def test_a_visitor_is_invited_to_sign_in_or_register(client, db):
    page = html(client.get("/"))
    assert "Training for partnership staff" in page
    assert 'href="/sign-in"' in page
    assert "Register with your work email address" in page
    assert "Hello," not in page


def test_a_coordinator_is_pointed_at_waiting_requests_people_and_agencies(client, db):
    coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
    signed_in(client, coordinator)

    page = html(client.get("/"))
    assert "Hello, Cora Ordinator" in page
    assert "No access requests waiting." in page
    for link, text in [
        ("/users", "Manage people"),
        ("/agencies", "Manage agencies"),
        ("/agencies/new", "Add an agency"),
    ]:
        assert f'href="{link}">{text}</a>' in page

    make_access_request()
    make_access_request()
    page = html(client.get("/"))
    assert "Review 2 access requests" in page


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        (Role.TRAINER, "See the sessions you deliver", "Manage people"),
        (Role.AGENCY_LEAD, "See Home Agency's staff", "Manage people"),
        (Role.STAFF, "Find training</a>: domestic abuse", "staff</a>"),
    ],
)
def test_each_role_sees_what_it_can_do_next(client, db, role, expected, absent):
    agency = make_agency("Home Agency")
    person = make_user(role, agency=agency, name="Pat Person")
    signed_in(client, person)

    page = html(client.get("/"))

    assert "Hello, Pat Person" in page
    assert f"{role.label}, Home Agency" in page
    assert expected in page
    assert absent not in page
    assert "Access requests" not in page
    assert 'href="/account/password"' in page


def test_the_menu_offers_only_pages_the_person_may_open(client, db):
    lead = make_user(Role.AGENCY_LEAD)
    signed_in(client, lead)
    page = html(client.get("/"))
    assert 'href="/agency/staff"' in page
    assert 'href="/users"' not in page and 'href="/agencies"' not in page


# --- error pages --------------------------------------------------------------------


def _assert_service_page(response, status, heading):
    page = html(response)
    assert response.status_code == status
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in page
    assert ORGANISATION in page
    assert "GOV.UK" not in page
    assert re.search(rf"<title>{re.escape(heading)} – Partnership training – {ORGANISATION}</title>", page)
    assert 'href="/">Go to the home page' in page


def test_a_missing_page_is_explained_in_the_service_style(client, db):
    _assert_service_page(client.get("/no-such-page"), 404, "Page not found")


def test_a_missing_record_is_the_same_404(client, db):
    signed_in(client, make_user(Role.COORDINATOR))
    _assert_service_page(client.get("/users/987654"), 404, "Page not found")


def test_a_forbidden_page_is_explained_in_the_service_style(client, db):
    signed_in(client, make_user(Role.STAFF))
    response = client.get("/users")
    _assert_service_page(response, 403, "You do not have permission to see this page")
    assert "ask your training coordinator" in html(response)


def test_a_wrong_method_is_explained_in_the_service_style(client, db):
    _assert_service_page(client.get("/sign-out"), 405, "That action is not allowed here")


def test_an_unexpected_failure_shows_a_service_page_and_saves_nothing(client, db, monkeypatch, caplog):
    from trainapp.accounts import routes

    def broken(*args, **kwargs):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(routes, "render_template", broken)
    response = client.get("/sign-in")

    _assert_service_page(response, 500, "Sorry, there is a problem with the service")
    assert "Nothing you entered has been saved" in html(response)
    assert "simulated fault" not in html(response)
    assert "Unhandled error on GET /sign-in" in caplog.text


@pytest.mark.parametrize("who", ["visitor", "coordinator", "agency lead", "staff"])
def test_no_page_claims_to_be_gov_uk(client, db, who):
    agency = make_agency()
    roles = {"coordinator": Role.COORDINATOR, "agency lead": Role.AGENCY_LEAD, "staff": Role.STAFF}
    paths = ["/", "/sign-in", "/register", "/password/forgot", "/register/requested", "/nowhere"]
    if who != "visitor":
        person = make_user(roles[who], agency=agency)
        signed_in(client, person)
        paths = [
            "/",
            "/account",
            "/account/password",
            f"/users/{person.id}",
            "/users",
            "/agencies",
            "/agencies/new",
            "/access-requests",
            "/agency/staff",
            "/nowhere",
        ]
    for path in paths:
        page = html(client.get(path))
        assert "GOV.UK" not in page, path
        assert "govuk-header__logotype" not in page, path
        assert ORGANISATION in page, path


def test_the_stylesheet_uses_no_gds_font(client, db):
    with client.get("/static/css/app.css") as css:
        assert css.status_code == 200
        assert "GDS Transport" not in css.get_data(as_text=True)


# --- headers and cookies ------------------------------------------------------------


def _nonce(response) -> str:
    csp = response.headers["Content-Security-Policy"]
    match = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'", csp)
    assert match, csp
    return match.group(1)


@pytest.mark.parametrize("path", ["/", "/sign-in", "/no-such-page"])
def test_security_headers_and_a_csp_nonce_that_matches_the_inline_script(client, db, path):
    response = client.get(path)
    nonce = _nonce(response)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html(response))
    assert inline_scripts, "expected the template's inline script"
    for attributes in inline_scripts:
        assert f'nonce="{nonce}"' in attributes
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_each_response_gets_a_new_nonce(client, db):
    assert _nonce(client.get("/")) != _nonce(client.get("/"))


def test_pages_for_signed_in_people_are_not_cached(client, db):
    signed_in(client, make_user())
    assert "no-store" in client.get("/account").headers["Cache-Control"]


def test_the_session_cookies_cannot_be_read_by_scripts_or_sent_cross_site(client, db):
    response = sign_in(client, make_user(), remember=True)
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    # "Keep me signed in" lengthens the session cookie; it sets no cookie of its own.
    assert set(cookies) == {"session"}
    flags = [part.strip() for part in cookies["session"].split(";")]
    assert "HttpOnly" in flags
    assert "SameSite=Lax" in flags


def test_with_secure_cookies_on_the_cookie_is_https_only_and_hsts_is_sent(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = client.get("/sign-in")
    [session_cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Secure" in [part.strip() for part in session_cookie.split(";")]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


# --- health check -------------------------------------------------------------------


def test_health_check_reports_the_database_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "reachable"}


def test_health_check_reports_an_unreachable_database_with_503(client, db, monkeypatch):
    from trainapp.extensions import db as database

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(database.session, "execute", unreachable)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.is_json
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


# --- list pages ---------------------------------------------------------------------


def _viewer_and_rows(kind):
    """Who opens the page, a builder for one more row on it, and rows shown besides built ones."""
    if kind == "/agency/staff":
        lead = make_user(Role.AGENCY_LEAD, agency=make_agency("Lead's Agency"))
        return lead, lambda: make_user(agency=lead.agency), 1
    coordinator = make_user(Role.COORDINATOR)
    builders = {
        # Each person in their own agency, so loading agencies per row would show.
        "/users": (lambda: make_user(), 1),
        "/agencies": (lambda: make_user(agency=make_agency(domains=_two_domains())), 0),
        "/access-requests": (lambda: make_access_request(), 0),
    }
    build, extra = builders[kind]
    return coordinator, build, extra


_numbers = itertools.count(1)


def _two_domains() -> list[str]:
    n = next(_numbers)
    return [f"a{n}.example.org", f"b{n}.example.org"]


def _rows_on(response) -> int:
    return html(response).count('data-label="Name"')


@pytest.mark.parametrize("path", ["/users", "/agencies", "/access-requests", "/agency/staff"])
def test_list_pages_paginate_with_a_fixed_number_of_queries(app, client, db, path):
    page_size = app.config["PAGE_SIZE"]
    viewer, build, extra = _viewer_and_rows(path)
    signed_in(client, viewer)
    for _ in range(5):
        build()
    db.session.commit()

    with counting_queries(db.engine) as few:
        small = client.get(path)
    assert small.status_code == 200
    assert _rows_on(small) == 5 + extra
    assert "Page 1 of" not in html(small)

    for _ in range(35):
        build()
    db.session.commit()

    with counting_queries(db.engine) as many:
        first = client.get(path)
    assert _rows_on(first) == page_size
    total = 40 + extra
    assert f"Page 1 of 2 ({total} in all)" in html(first)
    assert len(many) == len(few), "\n".join(["5 rows:", *few, "", "40 rows:", *many])

    second = client.get(path + "?page=2")
    assert _rows_on(second) == total - page_size
    assert f"Page 2 of 2 ({total} in all)" in html(second)


def test_a_page_past_the_end_is_not_found(client, db):
    signed_in(client, make_user(Role.COORDINATOR))
    assert client.get("/users?page=5").status_code == 404


def test_the_next_page_link_keeps_the_search(client, db):
    police = make_agency("Police")
    for n in range(30):
        make_user(agency=police, name=f"Officer {n:02d}")
    make_user(name="Not Police")
    signed_in(client, make_user(Role.COORDINATOR))

    first = html(client.get(f"/users?agency={police.id}"))
    assert "Page 1 of 2 (30 in all)" in first
    match = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"', first)
    assert match, "no next-page link"
    second = html(client.get(unescape(match.group(1))))
    assert "Page 2 of 2 (30 in all)" in second
    assert "Not Police" not in second
