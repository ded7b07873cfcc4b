"""`flask jobs run` as cron runs it: one line per step, failures kept to their step, exit codes."""

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.concurrency.harness import free_port
from tests.factories import make_agency, make_session, make_user, queue_plain_email
from trainapp import jobs
from trainapp.accounts.models import Role, SignInAttempt
from trainapp.bookings import services as booking_services
from trainapp.bookings.models import AgencyReservation
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxMessage, OutboxStatus

STEP_NAMES = [
    "sign-in-records",
    "retention",
    "access-needs",
    "release-reservations",
    "expire-requests",
    "reminders",
    "follow-ups",
    "staff-list-previews",
    "purge-outbox",
    "outbox",
    "planner-statistics",
]


@pytest.fixture
def run_jobs(app, db):
    runner = app.test_cli_runner()
    return lambda: runner.invoke(args=["jobs", "run"])


def _lines(result) -> list[str]:
    return result.stdout.splitlines()


def _by_step(result) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in _lines(result))


def test_jobs_run_prints_and_logs_one_line_per_step(run_jobs, db, mail_dir, caplog):
    queue_plain_email()
    db.session.commit()

    with caplog.at_level(logging.INFO, logger="trainapp.jobs"):
        result = run_jobs()

    assert result.exit_code == 0, result.output
    statistics = "refreshed" if db.engine.dialect.name == "sqlite" else "not needed"
    assert _lines(result) == [
        "sign-in-records: removed 0",
        "retention: anonymised 0, access requests removed 0",
        "access-needs: erased 0",
        "release-reservations: released 0",
        "expire-requests: expired 0",
        "reminders: queued 0",
        "follow-ups: queued 0",
        "staff-list-previews: removed 0",
        "purge-outbox: purged 0",
        "outbox: sent 1, failed 0, dropped 0",
        f"planner-statistics: {statistics}",
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "trainapp.jobs"]
    assert logged == _lines(result)


def test_a_failing_step_is_rolled_back_and_reported_and_the_later_steps_still_run(
    run_jobs, db, mail_dir, monkeypatch, caplog
):
    queue_plain_email()
    db.session.commit()

    def half_done_then_broken(now):
        db.session.add(SignInAttempt(email="half@example.org", address="10.0.0.9", attempted_at=now))
        db.session.flush()
        raise RuntimeError("the database went away\nwith a second line")

    monkeypatch.setattr(booking_services, "expire_requests", half_done_then_broken)

    with caplog.at_level(logging.INFO, logger="trainapp.jobs"):
        result = run_jobs()

    assert result.exit_code == 1, result.output
    steps = _by_step(result)
    assert list(steps) == STEP_NAMES
    assert steps["expire-requests"] == "failed (RuntimeError: the database went away)"
    assert steps["reminders"] == "queued 0"
    assert steps["outbox"] == "sent 1, failed 0, dropped 0"
    assert len(list(mail_dir.glob("*.eml"))) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInAttempt)) == 0
    [failure] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failure.name == "trainapp.jobs"
    assert failure.getMessage() == "expire-requests: failed (RuntimeError: the database went away)"
    assert failure.exc_info is not None


def test_a_database_error_is_reported_in_one_line_and_the_next_steps_get_a_working_session(
    run_jobs, db, mail_dir, monkeypatch
):
    queue_plain_email()
    db.session.commit()

    def breaks_a_unique_rule(now):
        make_user(email="same@example.org")
        make_user(email="same@example.org")

    monkeypatch.setattr(booking_services, "release_due_reservations", breaks_a_unique_rule)

    result = run_jobs()

    assert result.exit_code == 1, result.output
    steps = _by_step(result)
    failure = steps["release-reservations"]
    assert failure.startswith("failed (IntegrityError: ") and failure.endswith(")"), failure
    assert "\n" not in failure and len(failure) < 250
    assert {steps[name] for name in ("expire-requests", "reminders", "follow-ups")} == {"expired 0", "queued 0"}
    assert steps["outbox"] == "sent 1, failed 0, dropped 0"


def test_jobs_run_exits_1_when_a_delivery_fails_and_keeps_the_message(app, run_jobs, db, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    queue_plain_email()
    db.session.commit()

    with caplog.at_level(logging.INFO, logger="trainapp.jobs"):
        result = run_jobs()

    assert result.exit_code == 1, result.output
    outbox_line = _by_step(result)["outbox"]
    assert outbox_line.startswith("sent 0, failed 1 (first error: ConnectionRefusedError"), outbox_line
    assert db.session.scalar(sa.select(OutboxMessage.status)) == OutboxStatus.PENDING
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"outbox: {outbox_line}" in errors


def test_a_step_already_running_on_another_host_is_skipped(run_jobs, db, mail_dir):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers instead: a second host waits its turn")
    db.session.add(SignInAttempt(email="a@example.org", address="10.0.0.1", attempted_at=utcnow() - timedelta(days=31)))
    db.session.commit()

    with Session(db.engine) as other_host:
        assert jobs.claim_step(other_host, "sign-in-records")
        result = run_jobs()
        other_host.rollback()

    assert result.exit_code == 0, result.output
    steps = _by_step(result)
    assert steps["sign-in-records"] == "skipped (running on another host)"
    assert steps["release-reservations"] == "released 0"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInAttempt)) == 1
    assert _by_step(run_jobs())["sign-in-records"] == "removed 1"


def test_a_reservation_released_by_a_coordinator_meanwhile_is_left_alone(run_jobs, db, monkeypatch):
    """Between finding a reservation due and locking its session, a coordinator may release it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock, taken before the step reads, leaves no 'meanwhile'")
    coordinator = make_user(Role.COORDINATOR)
    session = make_session(starts_at=(utcnow() + timedelta(days=40)).replace(microsecond=0))
    booking_services.reserve_places(
        session.id, make_agency(), places=1, release_at=utcnow() + timedelta(days=1), by=coordinator
    )
    db.session.execute(sa.update(AgencyReservation).values(release_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    lock_session = booking_services.lock_session

    def coordinator_releases_first(session_id):
        with db.engine.begin() as coordinator_connection:
            coordinator_connection.execute(
                sa.update(AgencyReservation).values(released_at=utcnow() - timedelta(seconds=1))
            )
        return lock_session(session_id)

    monkeypatch.setattr(booking_services, "lock_session", coordinator_releases_first)

    result = run_jobs()

    assert result.exit_code == 0, result.output
    assert _by_step(result)["release-reservations"] == "released 0"
