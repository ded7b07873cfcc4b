"""The act-and-commit beat every view that changes data shares (trainapp.acting)."""

import sqlalchemy as sa
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from tests.factories import make_agency
from trainapp.accounts.models import Agency
from trainapp.acting import act, act_from_button
from trainapp.errors import DomainError


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")


def _agencies(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Agency.id)))


def _refused(message: str, field: str | None = None):
    def service():
        make_agency()  # flushed, as a service's work is, before a rule refuses
        raise DomainError(message, field)

    return service


def test_a_refusal_keeps_nothing_and_shows_the_message_beside_its_field(app, db):
    with app.test_request_context("/", method="POST"):
        form = NameForm()
        response = act(form, _refused("Enter a different name", "name"), redirect_to="/done", success="Saved.")
        assert response is None
        assert form.name.errors == ["Enter a different name"]
        assert form.form_errors == []
        assert get_flashed_messages() == []
    assert _agencies(db) == 0


def test_a_refusal_about_no_field_goes_to_the_error_summary(app, db):
    with app.test_request_context("/", method="POST"):
        form = NameForm()
        act(form, _refused("This clashes with other sessions"), redirect_to="/done")
        assert form.form_errors == ["This clashes with other sessions"]
        assert not form.name.errors


def test_success_commits_then_confirms_and_redirects(app, db):
    with app.test_request_context("/", method="POST"):
        response = act(
            NameForm(),
            lambda: make_agency(name="Riverside Police"),
            success=lambda agency: f"{agency.name} has been saved.",
            redirect_to=lambda agency: f"/agencies/{agency.id}",
        )
        assert response.status_code == 302
        assert response.location.startswith("/agencies/")
        assert get_flashed_messages() == ["Riverside Police has been saved."]
    db.session.rollback()  # a commit already happened: nothing is left to undo
    assert _agencies(db) == 1


def test_a_button_flashes_the_refusal_and_returns_to_its_page(app, db):
    with app.test_request_context("/", method="POST"):
        response = act_from_button(_refused("These places have already been released"), redirect_to="/session/1")
        assert response.location == "/session/1"
        assert get_flashed_messages(with_categories=True) == [
            ("error", {"text": "These places have already been released"})
        ]
    assert _agencies(db) == 0
