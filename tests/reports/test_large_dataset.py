"""The large benchmark dataset, made at a tiny scale: it loads, it is believable, and the board
report and coverage run on it with figures that add up."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from trainapp.accounts import services as accounts
from trainapp.accounts.models import Agency, User
from trainapp.bookings.models import Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.demo import DEMO_PASSWORD, large
from trainapp.errors import DomainError
from trainapp.reports.queries import ReportFilters, board_report, coverage
from trainapp.timezones import to_local

TINY = large.Scale(agencies=4, people=150, sessions=60, bookings=1000, years=1, trainers=3)
NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_tiny_large_partnership_loads_and_reports(db):
    made = large.load_large(TINY, now=NOW)
    db.session.commit()

    assert (made.agencies, made.people, made.sessions) == (4, 150, 60)
    assert (count(db, Agency), count(db, User), count(db, TrainingSession), count(db, Booking)) == (
        4,
        150,
        60,
        made.bookings,
    )
    assert 900 <= made.bookings <= 1100  # about what was asked for
    assert made.evaluations and made.charges and made.cost_lines
    assert made.coverage_targets == 4 * 4

    today = to_local(NOW).date()
    result = board_report(ReportFilters(made.first_day, today), NOW)
    s = result.summary
    # Every session is in the year: run, cancelled, or not yet run (the month ahead).
    assert s.sessions_run + s.sessions_cancelled < 60 and s.sessions_run > 40
    assert 0.5 < s.fill_rate <= 1 and 0.6 < s.show_rate < 0.98
    assert s.partial and s.walk_ins and s.no_shows and s.turned_away and s.unable and s.late_cancellations
    assert 1 <= result.confidence_before < result.confidence_after <= 5 and result.responses == made.evaluations
    assert result.costs_paid > 0 and result.charges_raised > 0
    # The same bookings, however they are cut, add up to the same totals.
    assert len(result.by_agency) == 4
    assert sum(r.booked for r in result.by_agency) == s.booked
    assert sum(r.attended for r in result.by_agency) == s.attended
    assert sum(r.booked for r in result.by_programme) == s.booked
    assert sum(r.offered for r in result.by_programme) == s.places_offered
    assert len(result.by_month) == 13  # 20 June 2024 to 20 June 2025 touches 13 months
    assert sum(o for _, o, _, _ in result.by_month) == s.places_offered
    assert sum(b for _, _, b, _ in result.by_month) == s.booked
    assert sum(a for _, _, _, a in result.by_month) == s.attended

    rows = coverage(today)
    assert len(rows) == 16
    assert all(r.in_date >= r.due_soon for r in rows) and sum(r.in_date + r.overdue for r in rows) > 0


def test_it_is_loaded_only_once(db):
    large.load_large(TINY, now=NOW)
    with pytest.raises(DomainError, match="already loaded"):
        large.load_large(TINY, now=NOW)


def test_the_command_makes_it_and_says_what_it_made_and_how_long_it_took(app, db, monkeypatch):
    monkeypatch.setattr(large, "LARGE", TINY)
    result = app.test_cli_runner().invoke(args=["demo-data", "--scale", "large"])
    assert result.exit_code == 0, result.output
    first_line = result.output.splitlines()[0]
    assert first_line.startswith("Made 4 agencies, 150 people, 14 courses, 60 sessions (")
    assert first_line.endswith(" seconds.")
    assert f"Coordinator: {large.COORDINATOR_EMAIL}" in result.output
    assert accounts.authenticate(large.COORDINATOR_EMAIL, DEMO_PASSWORD, "127.0.0.1") is not None
    again = app.test_cli_runner().invoke(args=["demo-data", "--scale", "large"])
    assert again.exit_code == 1 and "The large dataset is already loaded" in again.output


def test_the_command_names_the_scales_it_knows(app, db):
    result = app.test_cli_runner().invoke(args=["demo-data", "--scale", "huge"])
    assert result.exit_code == 2
    assert "'huge' is not one of 'demo', 'large'" in result.output
