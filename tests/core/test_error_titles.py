"""A page showing an error summary has a title starting "Error: " (GOV.UK pattern), whichever form failed."""

from tests.factories import make_access_request, make_course, make_session, make_user
from tests.pages import error_summary, parse, signed_in, submit
from trainapp.accounts.models import Role
from trainapp.bookings import services


def title(response) -> str:
    return " ".join(parse(response).title.get_text().split())


def assert_error_title(response):
    assert error_summary(response), "no error summary on the page"
    assert title(response).startswith("Error: "), title(response)


def assert_clean_title(response):
    assert not error_summary(response)
    assert not title(response).startswith("Error"), title(response)


def test_signing_in_with_a_wrong_password(db, client):
    person = make_user(Role.STAFF)
    assert_clean_title(client.get("/sign-in"))

    response = submit(client, "/sign-in", {"email": person.email, "password": "not the password"})

    assert_error_title(response)


def test_declining_a_booking_request_without_a_reason(db, client):
    lead = make_user(Role.AGENCY_LEAD)
    session = make_session(course=make_course(requires_approval=True))
    learner = make_user(agency=lead.agency)
    request = services.book_place(session.id, learner, by=learner)
    signed_in(client, lead)
    assert_clean_title(client.get(f"/bookings/{request.id}/decline"))

    response = submit(client, f"/bookings/{request.id}/decline", {"reason": "  "})

    assert_error_title(response)


def test_rejecting_an_access_request_without_a_reason(db, client):
    """The reason box is not the page's main form, and still the title says so."""
    access_request = make_access_request()
    review_url = f"/access-requests/{access_request.id}"
    signed_in(client, make_user(Role.COORDINATOR))
    assert_clean_title(client.get(review_url))

    response = submit(client, review_url + "/reject", {"reject-reason": "  "}, form_page=review_url)

    assert_error_title(response)


def test_moving_a_waiting_place_without_a_reason(db, client):
    """A refusal carried to the next page (flashed) shows an error summary there, so its title says so too."""
    session = make_session(capacity=1)
    for _ in range(2):
        person = make_user()
        services.book_place(session.id, person, by=person)
    waiting = services.book_place(session.id, (late := make_user()), by=late)
    signed_in(client, make_user(Role.COORDINATOR))
    bookings_page = f"/sessions/{session.id}/bookings"
    assert_clean_title(client.get(bookings_page))

    response = submit(
        client,
        f"/bookings/{waiting.id}/move",
        {"position": "1", "reason": ""},
        form_page=bookings_page,
        follow_redirects=True,
    )

    assert_error_title(response)
    assert_clean_title(client.get(bookings_page))
