"""How long a whole organisation's staff list takes to preview and to apply: 10,000 rows.

Builds a fresh database with the migrations (a temporary SQLite file, or with --postgres a
fresh schema on that server), adds a coordinator, an agency and a tenth of the people already
(one with an old job title), then for a CSV file and an .xlsx file of 10,000 rows times, with
a wall clock, what the upload page and the confirm button do: reading and checking the file
into a stored preview, then applying it in one transaction (9,000 accounts, their audit rows
and set-your-password emails queued). Each format starts from the same database.

    .venv/bin/python scripts/bench_import.py
    .venv/bin/python scripts/bench_import.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import csv
import io
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from trainapp import create_app  # noqa: E402
from trainapp.accounts.models import Agency, AgencyDomain, AgencyKind, Role, User  # noqa: E402
from trainapp.accounts.passwords import hash_password  # noqa: E402
from trainapp.extensions import db  # noqa: E402
from trainapp.people import services  # noqa: E402
from trainapp.people.models import ImportKind  # noqa: E402
from trainapp.people.reading import MAX_ROWS  # noqa: E402

HEADINGS = ["Full name", "Email address", "Job title"]
DOMAIN = "police.example.org"


def rows() -> list[list[str]]:
    return [[f"Person {n}", f"person{n}@{DOMAIN}", "Officer"] for n in range(MAX_ROWS)]


def csv_bytes() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADINGS)
    writer.writerows(rows())
    return out.getvalue().encode()


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    for row in rows():
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def fill(app) -> None:
    """The people who are there before the file: a coordinator and a tenth of the list."""
    with app.app_context():
        flask_migrate.upgrade()
        police = Agency(name="Northshire Police", kind=AgencyKind.POLICE)
        police.domains.append(AgencyDomain(domain=DOMAIN))
        password_hash = hash_password(secrets.token_urlsafe(16))
        db.session.add(
            User(
                email="coordinator@example.org", name="Coordinator", role=Role.COORDINATOR, password_hash=password_hash
            )
        )
        db.session.add_all(
            User(
                email=f"person{n}@{DOMAIN}",
                name=f"Person {n}",
                job_title="Cadet" if n == 0 else "Officer",
                agency=police,
                password_hash=password_hash,
            )
            for n in range(0, MAX_ROWS, 10)
        )
        db.session.commit()


def measure(app, filename: str, data: bytes) -> tuple[float, float, str]:
    with app.app_context():
        coordinator = db.session.scalars(sa.select(User).where(User.role == Role.COORDINATOR)).one()
        police = db.session.scalars(sa.select(Agency)).one()
        began = time.perf_counter()
        staff_import = services.preview_import(
            by=coordinator, filename=filename, data=data, kind=ImportKind.STAFF, agency=police
        )
        db.session.commit()
        previewed = time.perf_counter() - began
        counts = services.plan_counts(staff_import)
        began = time.perf_counter()
        result = services.apply_import(staff_import.id, by=coordinator, apply_valid=False)
        db.session.commit()
        applied = time.perf_counter() - began
        db.session.remove()
        summary = f"{counts['create']:,} to add, {counts['update']:,} to update; {result.sentence()}"
        return previewed, applied, summary


def environment(database_url: str, work_dir: Path) -> dict[str, str]:
    return {
        "TRAINAPP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "BASE_URL": "http://127.0.0.1",
        "MAIL_TRANSPORT": "file",
        "MAIL_DIR": str(work_dir / "mail"),
        "SECURITY_LOG_LEVEL": "WARNING",
    }


def fresh_database(args, work_dir: Path, name: str) -> str:
    if not args.postgres:
        return f"sqlite:///{work_dir / (name + '.db')}"
    schema = f"bench_import_{name}_{secrets.token_hex(3)}"
    server = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", args.postgres)
    engine = sa.create_engine(server)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    """Leave the server as it was: the schema goes with its 10,000 people."""
    schema = url.rsplit("%3D", 1)[1]
    engine = sa.create_engine(re.sub(r"[?&]options=[^&]*", "", url))
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", help="use a fresh schema on this PostgreSQL server")
    args = parser.parse_args()
    files = {"csv": csv_bytes(), "xlsx": xlsx_bytes()}
    sizes = {form: f"{len(data) / 1024:,.0f} KiB" for form, data in files.items()}
    print(f"{MAX_ROWS:,} rows: {sizes['csv']} as CSV, {sizes['xlsx']} as .xlsx")
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        for form, data in files.items():
            url = fresh_database(args, work_dir, form)
            with mock.patch.dict(os.environ, environment(url, work_dir)):
                app = create_app()
            fill(app)
            previewed, applied, summary = measure(app, f"staff.{form}", data)
            with app.app_context():
                dialect = db.engine.dialect.name
                db.engine.dispose()
            if args.postgres:
                drop_schema(url)
            print(f"{form:5} {dialect:10} preview {previewed:5.1f} s   apply {applied:5.1f} s   ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
