"""Access needs (health data) are erased ACCESS_NEEDS_KEEP_DAYS after the session ends, by `flask jobs run`
and `flask retention`; the rows stay, so the board report still counts them. Saved needs go with
the person when retention anonymises them."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_session, make_user
from tests.support import Clock
from trainapp import jobs, retention
from trainapp.accounts.models import Role
from trainapp.bookings.models import AccessNeed, Booking, BookingAccessNeeds, BookingStatus, SavedAccessNeeds
from trainapp.reports.queries import ReportFilters, board_report

# The session ends at midday on 1 June 2026 in London (11:00 UTC); the default period is 30 days.
ENDS = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(ENDS + timedelta(days=29))
    monkeypatch.setattr(jobs, "utcnow", clock)
    monkeypatch.setattr(retention, "utcnow", clock)
    return clock


@pytest.fixture
def cli(app, db, clock):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def asked(db):
    """Two people on the session that ended, one of them arranged for; one on a later session."""
    agency = make_agency("Wessex Police")
    ended = make_session(make_course(title="Ended"), ENDS - timedelta(hours=3), hours=3)
    later = make_session(make_course(title="Later"), ENDS + timedelta(days=20))
    rows = []
    for name, session, arranged in (("Ann", ended, True), ("Bob", ended, False), ("Cy", later, False)):
        booking = Booking(
            session=session,
            user=make_user(agency=agency, name=name),
            agency_id=agency.id,
            status=BookingStatus.CONFIRMED,
        )
        needs = BookingAccessNeeds(booking=booking, details=f"{name} uses a wheelchair")
        needs.needs = [AccessNeed.STEP_FREE, AccessNeed.DIETARY]
        needs.arranged_at = ENDS - timedelta(days=5) if arranged else None
        rows.append(needs)
    db.session.add_all(rows)
    db.session.commit()
    return rows


def held(db) -> list[tuple[str, str, bool]]:
    db.session.expire_all()
    return [
        (n.needs_text, n.details, n.erased_at is not None)
        for n in db.session.scalars(sa.select(BookingAccessNeeds).order_by(BookingAccessNeeds.id))
    ]


KEPT = ("step_free,dietary", True)


def test_needs_are_kept_until_the_period_after_the_session_has_passed_then_erased_leaving_the_rows(
    cli, db, clock, asked
):
    first = cli("jobs", "run")

    assert first.exit_code == 0, first.output
    assert "access-needs: erased 0" in first.stdout.splitlines()
    assert [details for _, details, _ in held(db)] == [
        "Ann uses a wheelchair",
        "Bob uses a wheelchair",
        "Cy uses a wheelchair",
    ]

    clock.advance(days=1, minutes=1)
    second = cli("jobs", "run")

    assert "access-needs: erased 2" in second.stdout.splitlines()
    assert held(db) == [("", "", True), ("", "", True), ("step_free,dietary", "Cy uses a wheelchair", False)]
    # When they were arranged is kept: it is what the board counts.
    assert db.session.scalars(sa.select(BookingAccessNeeds.arranged_at).order_by(BookingAccessNeeds.id)).all()[0]

    again = cli("jobs", "run")
    assert "access-needs: erased 0" in again.stdout.splitlines()


def test_the_board_report_counts_the_same_after_the_needs_are_erased(app, cli, db, clock, asked):
    period = ReportFilters(date(2026, 5, 1), date(2026, 6, 30))
    before = board_report(period, clock.now).summary
    clock.advance(days=2)

    assert "access-needs: erased 2" in cli("jobs", "run").stdout.splitlines()

    after = board_report(period, clock.now).summary
    assert (before.needs_requested, before.needs_arranged) == (3, 1)
    assert (after.needs_requested, after.needs_arranged) == (3, 1)


def test_the_period_is_the_configured_one(app, cli, db, clock, asked, monkeypatch):
    monkeypatch.setitem(app.config, "ACCESS_NEEDS_KEEP_DAYS", 10)
    clock.now = ENDS + timedelta(days=9)
    assert "access-needs: erased 0" in cli("jobs", "run").stdout.splitlines()

    clock.now = ENDS + timedelta(days=10, minutes=1)
    assert "access-needs: erased 2" in cli("jobs", "run").stdout.splitlines()


def test_the_retention_dry_run_says_what_would_be_erased_and_changes_nothing(cli, db, clock, asked):
    clock.advance(days=2)
    before = held(db)

    result = cli("retention", "--dry-run")

    assert result.exit_code == 0, result.output
    assert (
        "Would erase the access needs asked for on 2 bookings for sessions that ended before 2 June 2026."
        in result.stdout.splitlines()
    )
    assert held(db) == before


def test_the_retention_command_erases_them_too(cli, db, clock, asked):
    clock.advance(days=2)

    result = cli("retention")

    assert result.exit_code == 0, result.output
    assert "access-needs: erased 2" in result.stdout.splitlines()
    assert [erased for _, _, erased in held(db)] == [True, True, False]


def test_a_persons_saved_needs_go_when_retention_anonymises_them(app, cli, db, clock):
    gone = make_user(Role.STAFF, agency=make_agency("Downs Council"), name="Long Gone")
    stays = make_user(Role.STAFF, agency=gone.agency, name="Still Here")
    old = clock.now - timedelta(days=365 * 7)
    gone.created_at = old
    for person in (gone, stays):
        db.session.add(SavedAccessNeeds(user=person, needs_text="hearing_loop", details="Hearing aid", updated_at=old))
    db.session.commit()

    result = cli("jobs", "run")

    assert "retention: anonymised 1, access requests removed 0" in result.stdout.splitlines()
    db.session.expire_all()
    assert db.session.scalars(sa.select(SavedAccessNeeds.user_id)).all() == [stays.id]


def test_the_privacy_notice_says_how_long_access_needs_are_kept(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ACCESS_NEEDS_KEEP_DAYS", 14)

    page = " ".join(client.get("/privacy").get_data(as_text=True).split())

    assert "Access needs you ask for when you book a session are deleted 14 days after the session ends." in page
