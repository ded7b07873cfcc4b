"""The `flask` commands an administrator types: what they create, refuse and print."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_user, queue_plain_email
from trainapp.accounts import services
from trainapp.accounts.models import Agency, PasswordResetToken, Role, SignInAttempt, User
from trainapp.audit import AuditEvent
from trainapp.db import utcnow
from trainapp.demo import DEMO_PASSWORD
from trainapp.notifications.models import OutboxMessage, OutboxStatus

STRONG_PASSWORD = "quiet-meadow-lantern-7"


@pytest.fixture
def cli(app, db):
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        return runner.invoke(args=list(args), input=input)

    return invoke


def _count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_users_add_creates_a_coordinator_who_can_sign_in(cli, db):
    result = cli(
        "users",
        "add",
        "Lead@Council.Example.org",
        "--name",
        "Priya Shah",
        "--role",
        "coordinator",
        input=f"{STRONG_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Created coordinator lead@council.example.org."
    user = services.authenticate("lead@council.example.org", STRONG_PASSWORD, "127.0.0.1")
    assert user.name == "Priya Shah"
    assert user.role == Role.COORDINATOR
    assert user.agency is None


def test_users_add_puts_a_person_in_the_named_agency(cli, db):
    make_agency("Wessex Police", domains=["police.example.org"])
    db.session.commit()

    result = cli(
        "users",
        "add",
        "trainer@police.example.org",
        "--name",
        "Tom Okafor",
        "--role",
        "trainer",
        "--agency",
        "wessex police",
        "--job-title",
        "Trainer",
        input=f"{STRONG_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    user = services.find_user_by_email("trainer@police.example.org")
    assert (user.role, user.agency.name, user.job_title) == (Role.TRAINER, "Wessex Police", "Trainer")


@pytest.mark.parametrize(
    ("extra_args", "password", "exit_code", "message"),
    [
        (
            ["--role", "staff", "--agency", "Nowhere Police"],
            STRONG_PASSWORD,
            1,
            "There is no agency called 'Nowhere Police'",
        ),
        (["--role", "admin"], STRONG_PASSWORD, 2, "Invalid value for '--role'"),
        (["--role", "coordinator"], "short", 1, "Password must be 12 characters or more"),
        (["--role", "coordinator"], "password1234", 1, "This password is too common"),
        (["--role", "coordinator"], "", 1, "Password must be 12 characters or more"),
    ],
    ids=["unknown agency", "unknown role", "short password", "common password", "no password"],
)
def test_users_add_refuses_clearly_and_creates_nothing(cli, db, extra_args, password, exit_code, message):
    result = cli(
        "users",
        "add",
        "new.person@council.example.org",
        "--name",
        "New Person",
        *extra_args,
        input=f"{password}\n",
    )

    assert result.exit_code == exit_code
    assert message in result.output
    assert "Traceback" not in result.output
    assert _count(db, User) == 0
    assert _count(db, AuditEvent) == 0


def test_users_add_refuses_an_email_that_already_has_an_account(cli, db):
    existing = make_user(Role.STAFF, email="taken@council.example.org", name="First Owner")
    db.session.commit()

    result = cli(
        "users",
        "add",
        "Taken@Council.example.org",
        "--name",
        "Second Owner",
        "--role",
        "coordinator",
        input=f"{STRONG_PASSWORD}\n",
    )

    assert result.exit_code == 1
    assert "An account already exists for this email address" in result.output
    assert db.session.scalars(sa.select(User)).all() == [existing]
    assert existing.role == Role.STAFF


def _people_by_role(db) -> dict[Role, int]:
    rows = db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role))
    return dict(rows.all())


def test_demo_data_builds_a_partnership_prints_logins_and_can_run_again(cli, db):
    first = cli("demo-data")
    assert first.exit_code == 0, first.output
    agencies, people = _count(db, Agency), _people_by_role(db)

    assert agencies >= 10
    assert 55 <= people[Role.STAFF] <= 70
    assert {role: people[role] for role in (Role.TRAINER, Role.AGENCY_LEAD, Role.COORDINATOR)} == {
        Role.TRAINER: 4,
        Role.AGENCY_LEAD: 2,
        Role.COORDINATOR: 1,
    }
    assert "coordinator@council.example.org" in first.output
    assert "lead@wessex.police.example.org" in first.output
    assert f"Every demo account's password is: {DEMO_PASSWORD}" in first.output
    coordinator = services.authenticate("coordinator@council.example.org", DEMO_PASSWORD, "10.0.0.1")
    assert coordinator.role == Role.COORDINATOR

    second = cli("demo-data")
    assert second.exit_code == 0, second.output
    assert (_count(db, Agency), _people_by_role(db)) == (agencies, people)
    assert second.output == first.output


def test_outbox_send_delivers_what_is_due_and_says_so(cli, db, mail_dir):
    for n in (1, 2):
        queue_plain_email(f"person{n}@council.example.org")
    db.session.commit()

    result = cli("outbox", "send")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "outbox: sent 2, failed 0, dropped 0"
    assert len(list(mail_dir.glob("*.eml"))) == 2
    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert statuses == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert cli("outbox", "send").output.strip() == "outbox: sent 0, failed 0, dropped 0"


def test_jobs_run_reports_each_job_and_changes_nothing_the_second_time(cli, db, mail_dir):
    long_ago, just_now = utcnow() - timedelta(days=31), utcnow() - timedelta(minutes=1)
    db.session.add_all(
        [
            SignInAttempt(email="a@example.org", address="10.0.0.1", attempted_at=long_ago),
            SignInAttempt(email="a@example.org", address="10.0.0.1", attempted_at=just_now),
        ]
    )
    user = make_user()
    db.session.add_all(
        [
            PasswordResetToken(user=user, token_hash="a" * 64, expires_at=long_ago),
            PasswordResetToken(user=user, token_hash="b" * 64, expires_at=utcnow() + timedelta(hours=1)),
        ]
    )
    queue_plain_email()
    db.session.commit()

    first = cli("jobs", "run")

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[:10] == [
        "sign-in-records: removed 2",
        "retention: anonymised 0, access requests removed 0",
        "access-needs: erased 0",
        "release-reservations: released 0",
        "expire-requests: expired 0",
        "reminders: queued 0",
        "follow-ups: queued 0",
        "staff-list-previews: removed 0",
        "purge-outbox: purged 0",
        "outbox: sent 1, failed 0, dropped 0",
    ]
    assert db.session.scalars(sa.select(SignInAttempt.attempted_at)).all() == [just_now]
    assert db.session.scalars(sa.select(PasswordResetToken.token_hash)).all() == ["b" * 64]
    assert len(list(mail_dir.glob("*.eml"))) == 1

    second = cli("jobs", "run")
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[:10] == [
        "sign-in-records: removed 0",
        "retention: anonymised 0, access requests removed 0",
        "access-needs: erased 0",
        "release-reservations: released 0",
        "expire-requests: expired 0",
        "reminders: queued 0",
        "follow-ups: queued 0",
        "staff-list-previews: removed 0",
        "purge-outbox: purged 0",
        "outbox: sent 0, failed 0, dropped 0",
    ]


def test_jobs_run_keeps_sqlites_planner_statistics_fresh(tmp_path):
    """Report pages on SQLite need the planner's statistics; nobody should have to run ANALYZE."""
    from tests.factories import make_session
    from trainapp import create_app
    from trainapp.bookings.models import Booking, BookingStatus
    from trainapp.config import test_config
    from trainapp.extensions import db as _db

    app = create_app(test_config(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path))
    with app.app_context():
        _db.create_all()
        agency = make_agency()
        people = [make_user(agency=agency) for _ in range(30)]
        for _ in range(3):
            session = make_session(capacity=30)
            _db.session.add_all(
                Booking(session=session, user=person, agency_id=agency.id, status=BookingStatus.CONFIRMED)
                for person in people
            )
        _db.session.commit()

        def analysed() -> set[str]:
            has_stats = _db.session.scalar(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
            return set(_db.session.scalars(sa.text("SELECT tbl FROM sqlite_stat1"))) if has_stats else set()

        assert not {"bookings", "users", "training_sessions"} & analysed()
        result = app.test_cli_runner().invoke(args=["jobs", "run"])
        assert result.exit_code == 0, result.output
        assert {"bookings", "users", "training_sessions"} <= analysed()
        _db.session.remove()
        _db.engine.dispose()
