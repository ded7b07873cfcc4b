"""Every error is a GOV.UK error: one error summary at the top of the page, each item a link to the
control that puts it right, the same message beside that control, and "Error: " in the title.

Also: every form posts to an address of its own, so a "#main-content" left in the address bar by
the skip link is not carried to the page after the submit, where it would pull the browser away
from the error summary or the success banner.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

from tests.factories import csrf_token, make_agency, make_course, make_session, make_user, make_venue
from tests.pages import parse, signed_in, submit
from trainapp.accounts.models import Role
from trainapp.bookings import services as bookings

ROOT = Path(__file__).resolve().parents[2]


def summaries(response) -> list:
    return parse(response).find_all("div", class_="govuk-error-summary")


def summary_links(response) -> list[tuple[str, str | None]]:
    """Each item of the page's one error summary: its text and where its link goes."""
    found = summaries(response)
    assert len(found) == 1, f"expected one error summary, found {len(found)}"
    items = []
    for item in found[0].find_all("li"):
        link = item.find("a")
        items.append((" ".join(item.get_text().split()), link["href"] if link else None))
    return items


def assert_links_to_a_control(response, href: str | None) -> None:
    """The link goes to an element on this page that a person can act on."""
    assert href and href.startswith("#"), f"the item does not link anywhere: {href!r}"
    target = parse(response).find(id=href[1:])
    assert target is not None, f"nothing on the page has the id {href[1:]!r}"
    assert target.name in {"input", "select", "textarea", "button"}, f"{href} is a <{target.name}>"


def inline_error(response, field_id: str) -> str | None:
    message = parse(response).find(id=f"{field_id}-error", class_="govuk-error-message")
    return " ".join(message.get_text().split()) if message else None


def title(response) -> str:
    return " ".join(parse(response).title.get_text().split())


# Forms post to an explicit address --------------------------------------------------------

FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE | re.DOTALL)


def test_every_form_names_an_address_without_a_fragment():
    """Forms that post above all (the redirect after them keeps the fragment); filters too."""
    missing = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for tag in FORM_TAG.findall(template.read_text()):
            action = re.search(r'\baction="([^"]*)"', tag)
            if action is None or not action.group(1).strip() or "#" in action.group(1):
                missing.append(f"{template.relative_to(ROOT)}: {tag}")
    assert missing == [], "forms posting back to the current address (fragment and all):\n" + "\n".join(missing)


def test_no_redirect_adds_a_fragment():
    with_fragment = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "trainapp").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "_anchor=" in line
    ]
    assert with_fragment == []


def test_a_form_posted_from_a_page_reached_by_the_skip_link_posts_to_the_page_itself(db, client):
    """The rendered sign-in form names its own path: the browser drops "#main-content" when it posts."""
    form = parse(client.get("/sign-in")).find("form", method="post", novalidate=True)
    assert form["action"] == "/sign-in"


# Errors not tied to one field ----------------------------------------------------------------


def test_a_clash_links_to_the_box_that_saves_anyway(db, client):
    course = make_course(title="Safeguarding Basics")
    trainer = make_user(Role.TRAINER, name="Tom Baker")
    venue = make_venue("Town Hall")
    make_session(
        course=make_course(title="Harm Reduction"), starts_at=datetime(2027, 11, 4, 9, tzinfo=UTC), trainers=[trainer]
    )
    db.session.commit()
    signed_in(client, make_user(Role.COORDINATOR))
    data = {
        "course": str(course.id),
        "day": ["4", "11", "2027"],
        "start_time": "10:00",
        "end_time": "12:00",
        "end_day": ["", "", ""],
        "delivery_mode": "in_person",
        "venue": str(venue.id),
        "capacity": "12",
        "trainers": [str(trainer.id)],
        "booking_opens_on": ["", "", ""],
        "booking_closes_on": ["", "", ""],
    }

    response = submit(client, "/sessions/new", data)

    [(message, href)] = summary_links(response)
    assert "clashes with other sessions" in message
    assert href == "#confirm_clashes"
    assert_links_to_a_control(response, href)
    assert inline_error(response, "confirm_clashes") == f"Error: {message}"
    assert title(response).startswith("Error: ")


def test_a_wrong_password_links_to_the_email_address(db, client):
    person = make_user()

    response = submit(client, "/sign-in", {"email": person.email, "password": "not the password"})

    [(_, href)] = summary_links(response)
    assert href == "#email"
    assert_links_to_a_control(response, href)
    assert title(response).startswith("Error: ")


# Errors carried to the next page -------------------------------------------------------------


def test_an_exemption_without_an_agency_links_to_the_agency_box(db, client):
    signed_in(client, make_user(Role.COORDINATOR))

    response = submit(
        client,
        "/charging/exemptions",
        {"exempt-agency": "0", "exempt-exempt": "yes", "exempt-reason": "Hosts the venue"},
        form_page="/charging",
        follow_redirects=True,
    )

    assert summary_links(response) == [("Choose an agency", "#exempt-agency")]
    assert_links_to_a_control(response, "#exempt-agency")
    assert inline_error(response, "exempt-agency") == "Error: Choose an agency"
    assert title(response).startswith("Error: ")


def test_an_exemption_without_a_reason_links_to_the_reason_box(db, client):
    agency = make_agency("Harbour Council")
    db.session.commit()
    signed_in(client, make_user(Role.COORDINATOR))

    response = submit(
        client,
        "/charging/exemptions",
        {"exempt-agency": str(agency.id), "exempt-exempt": "yes", "exempt-reason": " "},
        form_page="/charging",
        follow_redirects=True,
    )

    assert summary_links(response) == [("Enter the reason this agency is not charged", "#exempt-reason")]
    assert_links_to_a_control(response, "#exempt-reason")
    assert inline_error(response, "exempt-reason") == "Error: Enter the reason this agency is not charged"


def test_two_refusals_carried_to_the_next_page_share_one_summary_in_page_order(db, client):
    session = make_session(capacity=1)
    for _ in range(2):
        person = make_user()
        waiting = bookings.book_place(session.id, person, by=person)
    db.session.commit()
    signed_in(client, make_user(Role.COORDINATOR))
    bookings_page = f"/sessions/{session.id}/bookings"

    response = submit(
        client,
        f"/bookings/{waiting.id}/move",
        {"position": "", "reason": ""},
        form_page=bookings_page,
        follow_redirects=True,
    )

    assert summary_links(response) == [
        ("Enter the new position", f"#position-{waiting.id}"),
        ("Enter a reason for moving this person", f"#reason-{waiting.id}"),
    ]
    for _, href in summary_links(response):
        assert_links_to_a_control(response, href)
    assert title(response).startswith("Error: ")


def test_a_refusal_beside_a_success_gives_one_summary_and_a_banner_that_does_not_take_focus(db, client):
    """Booking a group: one person booked (a banner), one refused (the summary, which takes focus)."""
    lead = make_user(Role.AGENCY_LEAD)
    booked, refused = (
        make_user(agency=lead.agency, name="Ann Booked"),
        make_user(agency=lead.agency, name="Ray Refused"),
    )
    session = make_session(course=make_course(title="First Aid"), starts_at=datetime(2027, 5, 4, 9, tzinfo=UTC))
    db.session.commit()
    signed_in(client, lead)
    page = f"/sessions/{session.id}/book-for"
    # The refused person is booked by someone else between the page being shown and the form sent.
    token_page = client.get(page)
    bookings.book_place(session.id, refused, by=refused)
    db.session.commit()
    response = client.post(
        page,
        data={"csrf_token": csrf_token(token_page), "people": [str(booked.id), str(refused.id)]},
        follow_redirects=True,
    )

    [(message, _)] = summary_links(response)
    assert message.startswith("Ray Refused:")
    banners = parse(response).find_all("div", class_="govuk-notification-banner")
    assert len(banners) == 1
    assert "Ann Booked has a place on First Aid." in banners[0].get_text()
    assert banners[0].get("role") != "alert", "the banner would take focus from the error summary"


def test_several_confirmations_share_one_banner(db, client):
    lead = make_user(Role.AGENCY_LEAD)
    people = [make_user(agency=lead.agency, name=name) for name in ("Ann One", "Bea Two")]
    session = make_session(course=make_course(title="First Aid"), starts_at=datetime(2027, 5, 4, 9, tzinfo=UTC))
    db.session.commit()
    signed_in(client, lead)

    response = submit(
        client, f"/sessions/{session.id}/book-for", {"people": [str(p.id) for p in people]}, follow_redirects=True
    )

    banners = parse(response).find_all("div", class_="govuk-notification-banner")
    assert len(banners) == 1
    assert "Ann One has a place" in banners[0].get_text() and "Bea Two has a place" in banners[0].get_text()
    assert banners[0].get("role") == "alert"
    assert summaries(response) == []


# The register: rows the page draws itself ----------------------------------------------------


def _register_with_two_booked(db, client):
    from tests.attendance.test_routes import World

    world = World(db)
    signed_in(client, world.trainer)
    return world


def test_a_register_row_without_minutes_links_to_its_minutes_box(db, client):
    w = _register_with_two_booked(db, client)

    response = submit(
        client,
        w.path,
        {f"mark-{w.ana_booking.id}": "attended", f"mark-{w.ben_booking.id}": "partial", "save": "Save marks"},
    )

    [(_, href)] = summary_links(response)
    assert href == f"#minutes-{w.ben_booking.id}"
    assert_links_to_a_control(response, href)


def test_submitting_a_register_with_someone_unmarked_links_to_their_choices(db, client):
    w = _register_with_two_booked(db, client)

    response = submit(
        client,
        w.path,
        {f"mark-{w.ana_booking.id}": "attended", f"mark-{w.ben_booking.id}": "attended", "submit": "Submit"},
    )

    [(message, href)] = summary_links(response)
    assert message.endswith("Not marked: Cat Cole")
    assert href == f"#mark-{w.cat_booking.id}"
    assert_links_to_a_control(response, href)
    # Beside the unmarked person's choices, as well as in the summary; not beside anyone marked.
    page = parse(response)
    inline = [p.get_text(" ", strip=True) for p in page.select(".govuk-error-message")]
    assert inline == ["Error: Choose whether Cat Cole attended"]
