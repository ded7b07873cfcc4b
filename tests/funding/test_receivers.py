"""Charges are raised by receivers that create_app connects, whatever else a process imports.

Each check runs in a fresh interpreter, so nothing this test session has already imported
(the funding pages, say) can connect the receivers by the side effect of an import.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# Marks a no-show and cancels a place late through the bookings and attendance services
# only (never importing funding), then prints the charges the database holds.
JOURNEY = textwrap.dedent("""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from tests.factories import make_agency, make_course, make_session, make_user
    from trainapp.accounts.models import Role
    from trainapp.attendance import services as attendance
    from trainapp.bookings import services as bookings
    from trainapp.bookings.models import AttendanceStatus
    from trainapp.extensions import db

    db.create_all()
    start = datetime(2030, 3, 18, 9, 30, tzinfo=UTC)
    coordinator = make_user(Role.COORDINATOR)
    agency = make_agency()
    course = make_course(cancellation_notice_days=5)
    missed, later = make_session(course=course, starts_at=start), make_session(course=course, starts_at=start + timedelta(days=30))
    absent, canceller = make_user(agency=agency), make_user(agency=agency)
    booked = bookings.book_place(missed.id, absent, by=absent, now=start - timedelta(days=14))
    late = bookings.book_place(later.id, canceller, by=canceller, now=start - timedelta(days=14))
    attendance.mark_register(missed.id, {booked.id: attendance.Mark(AttendanceStatus.NO_SHOW)}, by=coordinator,
                             now=start + timedelta(hours=1))
    bookings.cancel_booking(late.id, by=canceller, now=later.starts_at - timedelta(days=1))
    db.session.commit()
    print("CHARGES", sorted(db.session.scalars(sa.text("SELECT reason FROM charges"))))
""")


def _run(args, tmp_path, **kw):
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "TRAINAPP_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'charges.db'}",
        "MAIL_DIR": str(tmp_path / "mail"),
    }
    result = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=180, **kw)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_bare_app_raises_charges_and_connects_each_receiver_once(tmp_path):
    script = textwrap.dedent(f"""
        from trainapp import create_app
        from trainapp.config import test_config
        from trainapp.attendance.signals import attendance_marked
        from trainapp.bookings.signals import booking_cancelled

        config = test_config("sqlite:///{tmp_path / "charges.db"}", __import__("pathlib").Path("{tmp_path}"))
        create_app(config)
        app = create_app(config)  # a second app in the same process connects nothing twice
        print("RECEIVERS", len(attendance_marked.receivers), len(booking_cancelled.receivers))
        with app.app_context():
    """) + textwrap.indent(JOURNEY, "    ")
    output = _run([sys.executable, "-c", script], tmp_path)
    assert "RECEIVERS 1 1" in output
    assert "CHARGES ['late_cancellation', 'no_show']" in output


def test_a_command_line_run_raises_charges(tmp_path):
    flask = str(Path(sys.executable).with_name("flask"))
    output = _run([flask, "--app", "trainapp", "shell"], tmp_path, input=JOURNEY + "\n")
    assert "CHARGES ['late_cancellation', 'no_show']" in output
