"""Importing a staff list: the preview a coordinator or agency lead sees, and what applying does."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from tests.factories import fresh_client, make_agency, make_user, sign_in
from tests.pages import submit
from tests.people.helpers import csv_file, xlsx_file
from tests.support import outbox
from trainapp.accounts.models import Role, User
from trainapp.audit import AuditEvent
from trainapp.db import utcnow
from trainapp.errors import DomainError, NotAllowed
from trainapp.people import services
from trainapp.people.models import ImportKind, StaffImport


@pytest.fixture
def police(db):
    return make_agency("Northshire Police", domains=["police.example.org"])


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR, email="coord@partnership.example.org")


def preview(by, rows=None, *, data=None, filename="staff.csv", agency=None, kind=ImportKind.STAFF, now=None):
    return services.preview_import(
        by=by, filename=filename, data=data if data is not None else csv_file(rows), kind=kind, agency=agency, now=now
    )


def outcomes(staff_import):
    return {row.email or str(row.number): (row.outcome, row.message) for row in services.plan_rows(staff_import)}


def person(db, email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_preview_shows_new_updated_unchanged_and_error_rows_and_changes_no_one(db, coordinator, police):
    make_user(email="ann@police.example.org", name="Ann Lee", job_title="Nurse", agency=police)
    make_user(email="bo@police.example.org", name="Bo Grey", job_title="Sergeant", agency=police)
    rows = [
        ["Cat Bell", " Cat.Bell@Police.example.org ", "Constable", "", ""],
        ["Ann Lee", "ANN@police.example.org", "Senior nurse", "", ""],
        ["Bo Grey", "bo@police.example.org", "Sergeant", "", ""],
        ["No Email", "not an email", "Clerk", "", ""],
        ["Cat Again", "cat.bell@police.example.org", "Constable", "", ""],
    ]

    staff_import = preview(coordinator, rows, agency=police)
    db.session.commit()

    assert services.plan_counts(staff_import) == {"create": 1, "update": 1, "unchanged": 1, "error": 2}
    found = outcomes(staff_import)
    assert found["cat.bell@police.example.org"][0] in {"create", "error"}
    [created] = services.plan_rows(staff_import, outcome="create")
    assert (created.number, created.email, created.agency, created.role) == (
        2,
        "cat.bell@police.example.org",
        "Northshire Police",
        "Staff",
    )
    [updated] = services.plan_rows(staff_import, outcome="update")
    assert updated.number == 3 and updated.message == "Job title: Nurse → Senior nurse"
    errors = {row.number: row.message for row in services.plan_rows(staff_import, outcome="error")}
    assert errors[5].startswith("‘not an email’ is not an email address")
    assert errors[6] == "Row 6 repeats the email on row 2"
    assert person(db, "cat.bell@police.example.org") is None
    assert person(db, "ann@police.example.org").job_title == "Nurse"
    assert outbox(db) == []


def test_applying_creates_updates_and_sends_a_welcome_with_a_seven_day_link(db, coordinator, police):
    make_user(email="ann@police.example.org", name="Ann Lee", job_title="Nurse", agency=police)
    staff_import = preview(
        coordinator,
        [
            ["Cat Bell", "cat@police.example.org", "Constable", "", ""],
            ["Ann Lee", "ann@police.example.org", "Senior nurse", "", ""],
        ],
        agency=police,
    )

    result = services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.commit()

    assert (result.created, result.updated, result.skipped_errors) == (1, 1, 0)
    assert result.sentence() == "1 person added, 1 updated."
    cat = person(db, "cat@police.example.org")
    assert (cat.name, cat.job_title, cat.role, cat.agency_id, cat.active) == (
        "Cat Bell",
        "Constable",
        Role.STAFF,
        police.id,
        True,
    )
    assert person(db, "ann@police.example.org").job_title == "Senior nurse"
    [welcome] = outbox(db, "cat@police.example.org")
    assert welcome.subject == "Your training account"
    assert "Choose a password within 7 days" in welcome.body and "/password/reset/" in welcome.body
    assert outbox(db, "ann@police.example.org") == []
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["user.created", "user.updated"]


def test_importing_the_same_file_again_changes_and_sends_nothing(db, coordinator, police):
    rows = [
        ["Cat Bell", "cat@police.example.org", "Constable", "", ""],
        ["Dee Moss", "dee@police.example.org", "", "", ""],
    ]
    services.apply_import(preview(coordinator, rows, agency=police).id, by=coordinator, apply_valid=False)
    db.session.commit()
    sent = len(outbox(db))

    again = preview(coordinator, rows, agency=police)
    assert services.plan_counts(again) == {"create": 0, "update": 0, "unchanged": 2, "error": 0}
    result = services.apply_import(again.id, by=coordinator, apply_valid=False)
    db.session.commit()

    assert result.sentence() == "Nothing needed changing."
    assert len(outbox(db)) == sent
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 3


def test_an_xlsx_file_reads_like_a_csv(db, coordinator, police):
    staff_import = preview(
        coordinator,
        data=xlsx_file([["Cat Bell", "cat@police.example.org", "Constable", None, None]]),
        filename="Staff list.xlsx",
        agency=police,
    )
    assert services.plan_counts(staff_import)["create"] == 1


def test_a_file_with_errors_applies_only_when_the_uploader_chose_the_valid_rows(db, coordinator, police):
    rows = [
        ["Cat Bell", "cat@police.example.org", "Constable", "", ""],
        ["", "nameless@police.example.org", "", "", ""],
    ]
    staff_import = preview(coordinator, rows, agency=police)
    db.session.commit()

    with pytest.raises(DomainError, match="1 row has errors"):
        services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.rollback()
    assert person(db, "cat@police.example.org") is None

    result = services.apply_import(staff_import.id, by=coordinator, apply_valid=True)
    db.session.commit()
    assert result.sentence() == "1 person added. 1 row with errors was not applied."
    assert person(db, "nameless@police.example.org") is None


def test_applying_twice_applies_once(db, coordinator, police):
    staff_import = preview(coordinator, [["Cat Bell", "cat@police.example.org", "", "", ""]], agency=police)
    services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.commit()

    with pytest.raises(DomainError, match="already been applied"):
        services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    with pytest.raises(NotFound):
        services.find_import(staff_import.id, by=coordinator)
    assert len(outbox(db, "cat@police.example.org")) == 1


def test_a_failure_part_way_through_applying_leaves_nothing(db, coordinator, police, monkeypatch):
    rows = [[f"Person {n}", f"p{n}@police.example.org", "", "", ""] for n in range(5)]
    staff_import = preview(coordinator, rows, agency=police)
    db.session.commit()
    real = services.accounts.send_password_links

    def send_then_fail(users, **kw):
        real(users, **kw)
        raise RuntimeError("the mail template broke after the emails were queued")

    monkeypatch.setattr(services.accounts, "send_password_links", send_then_fail)
    with pytest.raises(RuntimeError):
        services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("%@police.example.org"))) == 0
    assert db.session.get(StaffImport, staff_import.id).applied_at is None
    assert outbox(db) == []


def test_an_inactive_person_named_again_is_reactivated(db, coordinator, police):
    make_user(email="ann@police.example.org", name="Ann Lee", agency=police, active=False)
    staff_import = preview(coordinator, [["Ann Lee", "ann@police.example.org", "", "", ""]], agency=police)

    [row] = services.plan_rows(staff_import, outcome="update")
    assert row.outcome == "reactivate" and row.message.startswith("Account will be reactivated")
    result = services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.commit()

    assert (result.updated, result.reactivated) == (1, 1)
    assert person(db, "ann@police.example.org").active


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ["Cat", "cat@gmail.example.com", "", "", ""],
            "Northshire Police does not use the email domain gmail.example.com",
        ),
        (["Cat", "cat@police.example.org", "", "Nowhere Council", ""], "There is no agency called ‘Nowhere Council’"),
        (["Cat", "cat@police.example.org", "", "", "Wizard"], "‘Wizard’ is not a role"),
        (["", "cat@police.example.org", "", "", ""], "Enter the person’s full name"),
        (["Cat\nBell", "cat@police.example.org", "", "", ""], "Name must be on one line"),
        (["Cat", "cat@police.example.org", "Boss\x07", "", ""], "Job title must be on one line"),
        (["Cat", "cat bell@police.example.org", "", "", ""], "is not an email address in the correct format"),
    ],
)
def test_rows_with_a_problem_say_what_is_wrong(db, coordinator, police, row, message):
    data = csv_file([]) + ",".join(f'"{cell}"' for cell in row).encode() + b"\r\n"
    staff_import = preview(coordinator, data=data, agency=police)
    [error] = services.plan_rows(staff_import, outcome="error")
    assert error.number == 2 and message in error.message


def test_emails_are_matched_trimmed_and_in_any_case(db, coordinator, police):
    make_user(email="ann@police.example.org", name="Ann Lee", agency=police)
    staff_import = preview(coordinator, [["Ann Lee", "  ANN@Police.Example.org ", "", "", ""]], agency=police)
    assert services.plan_counts(staff_import)["unchanged"] == 1


def test_headings_are_matched_loosely(db, coordinator, police):
    data = csv_file(
        [["cat@police.example.org", "Cat Bell", "PCSO", "Northshire Police", "staff"]],
        headings=["E-mail", "FULL_NAME", " Position ", "Organisation", "Access"],
    )
    [row] = services.plan_rows(preview(coordinator, data=data))
    assert (row.outcome, row.name, row.job_title, row.agency, row.role) == (
        "create",
        "Cat Bell",
        "PCSO",
        "Northshire Police",
        "Staff",
    )


def test_a_coordinator_may_grant_any_role(db, coordinator, police):
    staff_import = preview(coordinator, [["Cat", "cat@police.example.org", "", "", "Agency lead"]], agency=police)
    services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    assert person(db, "cat@police.example.org").role == Role.AGENCY_LEAD


def test_an_agency_lead_may_add_only_staff_to_their_own_agency(db, police):
    council = make_agency("Westshire Council", domains=["council.example.org"])
    lead = make_user(Role.AGENCY_LEAD, agency=police, email="lead@police.example.org")
    make_user(email="other@council.example.org", agency=council)
    rows = [
        ["Cat", "cat@police.example.org", "", "", ""],
        ["Dan", "dan@police.example.org", "", "", "Coordinator"],
        ["Eve", "eve@council.example.org", "", "Westshire Council", ""],
        ["Other", "other@council.example.org", "", "", ""],
    ]

    # A lead's file always belongs to their own agency, whatever agency the form sent.
    staff_import = preview(lead, rows, agency=council)

    assert staff_import.agency_id == police.id
    found = {row.number: (row.outcome, row.message) for row in services.plan_rows(staff_import)}
    assert found[2][0] == "create"
    assert found[3] == ("error", "You can only give people the Staff role")
    assert found[4] == ("error", "You can only add staff to Northshire Police")
    assert found[5] == ("error", "This email belongs to someone in another agency")


def test_staff_and_trainers_may_not_import(db, police):
    staff = make_user(agency=police)
    with pytest.raises(NotAllowed):
        preview(staff, [["Cat", "cat@police.example.org", "", "", ""]], agency=police)


def test_demoting_the_last_coordinator_is_an_error_row(db, coordinator):
    staff_import = preview(coordinator, [["Coord", coordinator.email, "", "", "Staff"]])
    [row] = services.plan_rows(staff_import)
    assert (row.outcome, row.message) == ("error", "The service needs at least one active coordinator")


def test_only_the_uploader_sees_an_unexpired_preview(db, coordinator, police):
    other = make_user(Role.COORDINATOR)
    now = utcnow()
    staff_import = preview(coordinator, [["Cat", "cat@police.example.org", "", "", ""]], agency=police, now=now)

    assert services.find_import(staff_import.id, by=coordinator, now=now) == staff_import
    with pytest.raises(NotFound):
        services.find_import(staff_import.id, by=other, now=now)
    with pytest.raises(DomainError, match="This preview has expired: upload the file again"):
        services.find_import(staff_import.id, by=coordinator, now=now + timedelta(minutes=61))
    with pytest.raises(DomainError, match="expired"):
        services.apply_import(staff_import.id, by=coordinator, apply_valid=False, now=now + timedelta(minutes=61))


def test_jobs_run_removes_old_previews(app, db, coordinator, police):
    old = preview(
        coordinator, [["Cat", "cat@police.example.org", "", "", ""]], agency=police, now=utcnow() - timedelta(days=2)
    )
    fresh = preview(coordinator, [["Cat", "cat@police.example.org", "", "", ""]], agency=police)
    db.session.commit()
    old_id, fresh_id = old.id, fresh.id

    result = app.test_cli_runner().invoke(args=["jobs", "run"])

    assert "staff-list-previews: removed 1" in result.output
    db.session.expire_all()
    assert db.session.get(StaffImport, old_id) is None
    assert db.session.get(StaffImport, fresh_id) is not None


def test_the_template_has_the_headings_and_an_example(db, coordinator, police):
    template = services.template_csv()
    assert template.decode("utf-8-sig").splitlines()[0] == "Full name,Email address,Job title,Agency,Role"
    staff_import = preview(coordinator, data=template, agency=police)
    assert services.plan_counts(staff_import)["error"] == 1  # the example's domain is not the agency's


def test_a_new_person_chooses_a_password_from_the_welcome_and_signs_in(db, client, coordinator, police):
    staff_import = preview(coordinator, [["Cat Bell", "cat@police.example.org", "", "", ""]], agency=police)
    services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.commit()
    cat = person(db, "cat@police.example.org")
    [link] = re.findall(r"http://localhost(/password/reset/\S+)", outbox(db, cat.email)[0].body)

    chosen = "a long and memorable passphrase"
    assert sign_in(fresh_client(client.application), cat, password=chosen).status_code == 200
    submit(client, link, {"password": chosen, "confirm": chosen})

    assert sign_in(fresh_client(client.application), cat, password=chosen).location == "/"
