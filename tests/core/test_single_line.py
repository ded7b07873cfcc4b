"""One-line fields (names, titles, venues, job titles...) refuse line breaks, tabs and other control
characters, on every form and on the command line, and save nothing when they do."""

import importlib
import inspect

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from tests.core.test_migrations import migrated  # noqa: F401 - the fixture, upgraded to the newest
from tests.factories import fresh_client, make_agency, make_user, migrate_database
from tests.pages import error_summary, field_error, plain, signed_in, submit
from tests.support import registration_link
from trainapp.accounts.models import Agency, Role, User
from trainapp.catalogue.models import Course, Programme, Venue
from trainapp.extensions import db as _db
from trainapp.forms import SingleLine
from trainapp.text import content_disposition, has_line_breaks_or_controls, one_line

HOSTILE = {"line feed": "\n", "carriage return": "\r", "tab": "\t", "nul": "\x00", "escape": "\x1b"}

FORM_MODULES = [
    "trainapp.accounts.forms",
    "trainapp.catalogue.forms",
    "trainapp.funding.forms",
    "trainapp.attendance.forms",
    "trainapp.bookings.forms",
    "trainapp.reports.forms",
    "trainapp.forms",
]
# Values read by their own strict parsers (money, times, months, certificate numbers) and a search box.
NOT_FREE_TEXT = {
    ("GrantForm", "amount"),
    ("GrantForm", "match_funding"),
    ("AllocationForm", "amount"),
    ("CostForm", "amount"),
    ("PolicyForm", "partner_day"),
    ("PolicyForm", "partner_half_day"),
    ("PolicyForm", "non_partner_day"),
    ("PolicyForm", "non_partner_half_day"),
    ("StatementForm", "month"),
    ("VerifyForm", "number"),
    ("SessionForm", "start_time"),
    ("SessionForm", "end_time"),
    ("SeriesForm", "start_time"),
    ("SeriesForm", "end_time"),
    ("UserSearchForm", "q"),
}


def _one_line_fields():
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for form_name, form in vars(module).items():
            if not (inspect.isclass(form) and issubclass(form, FlaskForm) and form.__module__ == module_name):
                continue
            for field_name in dir(form):
                unbound = getattr(form, field_name)
                if (
                    isinstance(unbound, UnboundField)
                    and issubclass(unbound.field_class, StringField)
                    and not issubclass(unbound.field_class, TextAreaField | PasswordField)
                    and unbound.field_class.__name__ != "HiddenField"
                ):
                    yield form_name, field_name, unbound


def test_every_one_line_field_on_every_form_uses_the_shared_validator():
    missing = [
        f"{form}.{field}"
        for form, field, unbound in _one_line_fields()
        if (form, field) not in NOT_FREE_TEXT
        and not any(isinstance(v, SingleLine) for v in unbound.kwargs.get("validators") or [])
    ]
    assert missing == []


@pytest.mark.parametrize("character", [*HOSTILE.values(), "\x85", "\u2028", "\u2029", "\u202e", "\u2066"])
def test_the_refused_characters(character):
    assert has_line_breaks_or_controls(f"Zoë{character}Adams")
    assert one_line(f"Zoë {character} Adams") == "Zoë Adams"


@pytest.mark.parametrize(
    "name", ["Zoë Adams", "O'Brien-Łódź", "👩\u200d⚕️ Nurse", "\u05e9\u05dc\u05d5\u05dd\u200f Cohen"]
)
def test_ordinary_names_pass(name):
    assert not has_line_breaks_or_controls(name)
    assert one_line(name) == name


def test_a_filename_header_holds_any_name_on_one_line():
    header = content_disposition('charges-Zoë "Agency"\r\nSet-Cookie: x.csv')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="charges-Zoe Agency Set-Cookie: x.csv"')
    assert "filename*=UTF-8''charges-Zo%C3%AB%20%22Agency%22%20Set-Cookie%3A%20x.csv" in header


# --- through the forms --------------------------------------------------------------------------


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR, name="Cora Lane")


def _programme(client, db, value):
    return (
        submit(client, "/programmes/new", {"name": value, "description": ""}),
        "name",
        "Programme name",
        lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Programme)),
    )


def _venue(client, db, value):
    response = submit(client, "/venues/new", {"name": value, "address": "1 Market Square", "active": "y"})
    return response, "name", "Venue name", lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Venue))


def _course(client, db, value):
    programme = Programme(name="Up2U Family Practice", description="")
    db.session.add(programme)
    db.session.commit()
    response = submit(
        client,
        "/courses/new",
        {
            "programme": str(programme.id),
            "title": value,
            "level": "2",
            "summary": "About it",
            "audience": "",
            "duration_hours": "3",
            "cpd_hours": "3",
            "refresher_months": "",
            "prerequisite": "",
            "default_capacity": "16",
            "cancellation_notice_days": "5",
            "status": "published",
            "submit": "Save course",
        },
    )
    return response, "title", "Course title", lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Course))


def _agency(client, db, value):
    response = submit(client, "/agencies/new", {"name": value, "kind": "police", "domains": "", "is_partner": "yes"})
    return response, "name", "Agency name", lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Agency))


def _job_title(client, db, value):
    person = make_user(Role.STAFF, name="Sam Staff", job_title="PC")
    db.session.commit()
    response = submit(
        client,
        f"/users/{person.id}/edit",
        {
            "name": "Sam Staff",
            "job_title": value,
            "role": "staff",
            "agency": str(person.agency_id),
        },
    )
    return (
        response,
        "job_title",
        "Job title",
        lambda: db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.id == person.id, User.job_title != "PC")
        ),
    )


def _user_name(client, db, value):
    person = make_user(Role.STAFF, name="Sam Staff")
    db.session.commit()
    response = submit(
        client,
        f"/users/{person.id}/edit",
        {
            "name": value,
            "job_title": "",
            "role": "staff",
            "agency": str(person.agency_id),
        },
    )
    return (
        response,
        "name",
        "Full name",
        lambda: db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.id == person.id, User.name != "Sam Staff")
        ),
    )


FORMS = {
    "programme name": _programme,
    "venue name": _venue,
    "course title": _course,
    "agency name": _agency,
    "job title": _job_title,
    "person's name": _user_name,
}


@pytest.mark.parametrize("character", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("form", list(FORMS))
def test_a_one_line_field_with_a_control_character_is_refused_at_the_field(app, db, coordinator, form, character):
    client = signed_in(fresh_client(app), coordinator)
    response, field, label, saved = FORMS[form](client, db, f"Northshire{character}Safeguarding")
    before = saved()
    if character == "\x00":
        # A NUL is refused for the whole request, before any form reads it: it cannot be stored.
        assert response.status_code == 400, response.status
        assert "contains a character that cannot be saved" in plain(response)
    else:
        message = f"{label} must be on one line, with no tabs or other special characters"
        assert response.status_code == 200, response.status
        assert field_error(response, field) == f"Error: {message}"
        assert message in error_summary(response)
    db.session.rollback()
    assert saved() == before == 0


def test_registering_with_a_line_break_in_the_name_is_refused(client, db):
    make_agency("Northshire Police", domains=["police.example.org"])
    submit(client, "/register", {"email": "ann.smith@police.example.org"})
    client.get(registration_link(db, "ann.smith@police.example.org"))
    response = submit(
        client,
        "/register/details",
        {
            "name": "Ann Smith\r\nBcc: everyone@example.org",
            "job_title": "PC\tSergeant",
            "password": "correct-horse-battery-staple",
            "confirm": "correct-horse-battery-staple",
        },
    )
    assert response.status_code == 200
    assert (
        field_error(response, "name")
        == "Error: Full name must be on one line, with no tabs or other special characters"
    )
    assert (
        field_error(response, "job_title")
        == "Error: Job title must be on one line, with no tabs or other special characters"
    )
    assert db.session.scalar(sa.select(User).where(User.email == "ann.smith@police.example.org")) is None


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--name", "--job-title"])
@pytest.mark.parametrize("character", list(HOSTILE.values())[:3] + ["\x1b"], ids=["lf", "cr", "tab", "esc"])
def test_users_add_refuses_a_name_that_is_not_one_line(app, db, option, character):
    args = ["users", "add", "lead@council.example.org", "--role", "coordinator", "--name", "Priya Shah"]
    args += [option, f"Priya{character}Shah"]
    result = app.test_cli_runner().invoke(args=args, input="quiet-meadow-lantern-7\n")
    assert result.exit_code != 0
    label = "Name" if option == "--name" else "Job title"
    assert f"{label} must be on one line" in result.output
    assert db.session.scalar(sa.select(User).where(User.email == "lead@council.example.org")) is None


# --- rows stored before the check -----------------------------------------------------------------


def test_the_migration_makes_stored_names_one_line_and_keeps_unique_names_apart(migrated):  # noqa: F811
    migrate_database("downgrade", revision="0007")
    with _db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO programmes (id, name, description, created_at) VALUES "
                "(1, 'Up2U', '', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO courses (id, programme_id, title, summary, audience, duration_minutes, cpd_hours,"
                " eligible_kinds, requires_approval, certificate_needs_evaluation, partial_counts_as_completed,"
                " default_capacity, cancellation_notice_days, status, created_at) VALUES "
                "(1, 1, :a, 'keep\nthis', '', 60, 1, '[]', false, false, false, 10, 5, 'published', '2026-01-01 00:00:00'),"
                "(2, 1, 'Risk assessment', '', '', 60, 1, '[]', false, false, false, 10, 5, 'draft', '2026-01-01 00:00:00')"
            ),
            {"a": "Risk\r\nassessment"},
        )
    migrate_database("upgrade")
    rows = dict(_db.session.execute(sa.text("SELECT id, title FROM courses")).all())
    assert rows == {1: "Risk assessment (1)", 2: "Risk assessment"}
    assert _db.session.scalar(sa.text("SELECT summary FROM courses WHERE id = 1")) == "keep\nthis"
