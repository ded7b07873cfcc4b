"""A whole organisation's staff list at once: 10,000 rows, as CSV and as .xlsx, end to end."""

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_user
from tests.people.helpers import csv_file, xlsx_file
from trainapp.accounts.models import Role, User
from trainapp.notifications.models import OutboxMessage
from trainapp.people import services
from trainapp.people.models import ImportKind
from trainapp.people.reading import MAX_ROWS


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_ten_thousand_people_preview_and_apply(db, form):
    coordinator = make_user(Role.COORDINATOR)
    police = make_agency("Northshire Police", domains=["police.example.org"])
    # A tenth already have accounts, one of them with an old job title.
    password_hash = coordinator.password_hash
    db.session.add_all(
        User(
            email=f"person{n}@police.example.org",
            name=f"Person {n}",
            job_title="Officer",
            agency=police,
            password_hash=password_hash,
        )
        for n in range(0, MAX_ROWS, 10)
    )
    db.session.execute(sa.update(User).where(User.email == "person0@police.example.org").values(job_title="Cadet"))
    rows = [[f"Person {n}", f"person{n}@police.example.org", "Officer", "", ""] for n in range(MAX_ROWS)]
    data = csv_file(rows) if form == "csv" else xlsx_file(rows)
    db.session.commit()

    staff_import = services.preview_import(
        by=coordinator, filename=f"staff.{form}", data=data, kind=ImportKind.STAFF, agency=police
    )
    db.session.commit()

    assert services.plan_counts(staff_import) == {"create": 9_000, "update": 1, "unchanged": 999, "error": 0}
    result = services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
    db.session.commit()

    assert (result.created, result.updated) == (9_000, 1)
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.agency_id == police.id)) == MAX_ROWS
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 9_000
