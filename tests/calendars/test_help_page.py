"""The calendar page: each address sits in a read-only field that can be copied by keyboard."""

import pytest

from tests.factories import make_user
from tests.pages import parse, signed_in
from trainapp.accounts.models import Role
from trainapp.calendars.links import token_for


def copy_field(page, field_id):
    """The read-only field, its label's text and the hidden "Copy link" control tied to it."""
    field = page.find("input", id=field_id)
    assert field is not None, f"no field {field_id!r}"
    label = page.find("label", attrs={"for": field_id})
    control = page.find(attrs={"data-copy-link": field_id})
    return field, (label.get_text(strip=True) if label else None), control


@pytest.mark.parametrize(
    ("role", "fields"),
    [
        (Role.STAFF, {"personal-link": "personal.ics", "public-link": "public.ics"}),
        (Role.TRAINER, {"personal-link": "personal.ics", "trainer-link": "trainer.ics", "public-link": "public.ics"}),
    ],
)
def test_each_calendar_address_is_in_a_labelled_read_only_field(app, db, client, role, fields):
    person = make_user(role)
    page = parse(signed_in(client, person).get("/calendar"))

    for field_id, ending in fields.items():
        field, label, _ = copy_field(page, field_id)
        assert field["type"] == "text" and field.has_attr("readonly")
        assert "govuk-!-width-full" in field["class"]
        assert label, f"{field_id} has no label"
        assert field["value"].startswith(app.config["BASE_URL"]) and field["value"].endswith(ending)
    assert page.find("input", id="personal-link")["value"].endswith(f"/calendars/{token_for(person)}/personal.ics")


def test_staff_see_no_field_for_the_sessions_they_do_not_deliver(db, client):
    page = parse(signed_in(client, make_user(Role.STAFF)).get("/calendar"))
    assert page.find("input", id="trainer-link") is None


def test_the_copy_button_waits_hidden_for_the_script_that_can_copy(db, client):
    page = parse(signed_in(client, make_user(Role.STAFF)).get("/calendar"))

    _, _, control = copy_field(page, "personal-link")
    assert control is not None and control.has_attr("hidden")
    button = control.find("button")
    assert button.get_text(strip=True) == "Copy link" and button["type"] == "button"
    assert not any(name.startswith("on") for name in button.attrs), "no inline handlers under the CSP"
    assert control.find(attrs={"aria-live": "polite"}) is not None

    script = page.find("script", src=lambda src: src and src.endswith("/js/copy-link.mjs"))
    assert script is not None and script["type"] == "module"
    with client.get(script["src"]) as served:
        assert served.status_code == 200
        assert b"navigator.clipboard" in served.data and b"Link copied" in served.data
