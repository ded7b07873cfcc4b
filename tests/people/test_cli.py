"""`flask people import` as an operator runs it on the server."""

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_session, make_user
from tests.people.helpers import csv_file
from tests.support import outbox
from trainapp.accounts.models import Agency, Role, User
from trainapp.audit import AuditEvent
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.bookings.services import book_place


@pytest.fixture
def cli(app, db, tmp_path):
    runner = app.test_cli_runner()
    make_user(Role.COORDINATOR)
    make_agency("Northshire Police", domains=["police.example.org"])
    db.session.commit()

    def invoke(rows, *args, data=None, name="staff.csv"):
        path = tmp_path / name
        path.write_bytes(data if data is not None else csv_file(rows))
        return runner.invoke(args=["people", "import", str(path), *args])

    return invoke


def people(db) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(User.email).where(User.email.like("%@police.example.org"))))


GOOD = [["Cat Bell", "cat@police.example.org", "Constable", "", ""], ["Dee Moss", "dee@police.example.org", "", "", ""]]
BAD = GOOD + [["Cat Again", "CAT@police.example.org", "", "", ""]]


def test_a_good_file_is_applied_and_exits_0(cli, db):
    result = cli(GOOD, "--agency", "Northshire Police")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2 to add, 0 to update, 0 unchanged and 0 rows with errors.",
        "2 people added.",
    ]
    assert people(db) == {"cat@police.example.org", "dee@police.example.org"}
    assert {message.recipient for message in outbox(db)} == people(db)
    # The command acts as the system: the audit trail names no person as the actor.
    assert db.session.scalars(sa.select(AuditEvent.actor_id).where(AuditEvent.action == "user.created")).all() == [
        None,
        None,
    ]


def test_a_dry_run_prints_the_summary_and_changes_nothing(cli, db):
    result = cli(GOOD, "--agency", "Northshire Police", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Dry run: nothing has been changed."
    assert people(db) == set()
    assert outbox(db) == []


def test_rows_with_errors_exit_1_and_apply_nothing(cli, db):
    result = cli(BAD, "--agency", "Northshire Police")

    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "2 to add, 0 to update, 0 unchanged and 1 row with errors.",
        "Row 4 repeats the email on row 2",
    ]
    assert people(db) == set()


def test_apply_valid_applies_the_other_rows(cli, db):
    result = cli(BAD, "--agency", "Northshire Police", "--apply-valid")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 people added. 1 row with errors was not applied."
    assert people(db) == {"cat@police.example.org", "dee@police.example.org"}


def test_error_rows_are_listed_as_row_and_message(cli, db):
    result = cli([["", "eve@police.example.org", "", "", ""]], "--agency", "Northshire Police")
    assert result.exit_code == 1
    assert "Row 2: Enter the person’s full name" in result.output.splitlines()


def test_an_unreadable_file_exits_2(cli, db):
    result = cli(None, data=b"\x89PNG\r\n\x1a\n\x00\x00", name="staff.csv")

    assert result.exit_code == 2
    assert "The selected file must be a CSV or Excel (.xlsx) file" in result.output
    assert people(db) == set()


def test_an_unknown_agency_is_a_usage_error(cli, db):
    result = cli(GOOD, "--agency", "Nowhere")
    assert result.exit_code == 2
    assert "There is no agency called 'Nowhere'" in result.output


def test_leavers_from_the_command_line(cli, db):
    police = db.session.scalar(sa.select(Agency).where(Agency.name == "Northshire Police"))
    leaver = make_user(email="ann@police.example.org", agency=police)
    booking = book_place(make_session().id, leaver, by=leaver)
    db.session.commit()

    result = cli(None, "--leavers", data=b"Email address\r\nann@police.example.org\r\n")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1 to deactivate (1 future booking to cancel), 0 already left and 0 rows with errors.",
        "1 person deactivated and 1 future booking cancelled.",
    ]
    db.session.expire_all()
    assert not db.session.get(User, leaver.id).active
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED
