"""Retention (UK GDPR storage limitation): people past their period anonymised, old records removed.

The dataset is small and fixed, in 2019, and the clock is set to 1 June 2026: with the default
six years, a person whose last session and sign-in were in 2019 is past their period, and a
person who trained again in 2024 is not. Every board report, statement and coverage figure for
2019 must read the same after anonymising as before.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.factories import (
    fresh_client,
    make_access_request,
    make_agency,
    make_course,
    make_programme,
    make_session,
    make_user,
    queue_plain_email,
    sign_in,
)
from tests.pages import error_summary, plain, signed_in, submit
from tests.support import counting_queries
from trainapp import PROJECT_ROOT, jobs, retention
from trainapp.accounts.models import (
    AccessRequest,
    AccessRequestStatus,
    AgencyKind,
    PasswordResetToken,
    Role,
    SignInAttempt,
    User,
)
from trainapp.attendance.models import Evaluation, EvaluationKind
from trainapp.audit import AuditEvent
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.calendars import links
from trainapp.calendars.models import CachedFeed, CalendarLink
from trainapp.catalogue.models import SessionStatus
from trainapp.config import RETENTION_SETTINGS, ConfigError, from_environment
from trainapp.funding import charges
from trainapp.funding.models import Charge, ChargeReason
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.reports.models import CoverageTarget
from trainapp.reports.queries import ReportFilters, board_report, coverage
from trainapp.timezones import local_to_utc

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
YEAR_2019 = ReportFilters(date(2019, 1, 1), date(2019, 12, 31))
ATTENDED, NO_SHOW, UNABLE = AttendanceStatus.ATTENDED, AttendanceStatus.NO_SHOW, AttendanceStatus.UNABLE


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(day, time(hour, minute))


@pytest.fixture
def clock(monkeypatch):
    """Jobs and the retention command see NOW as the current time."""
    monkeypatch.setattr(jobs, "utcnow", lambda: NOW)
    monkeypatch.setattr(retention, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def cli(app, db, clock):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def book(db, session, person, status=BookingStatus.CONFIRMED, attendance=None, *, late=False):
    booking = Booking(
        session=session,
        user=person,
        agency_id=person.agency.id,
        booked_by=person,
        status=status,
        attendance=attendance,
        is_late_cancellation=late,
        created_at=session.starts_at - timedelta(days=30),
    )
    db.session.add(booking)
    db.session.flush()
    return booking


def evaluate(db, booking, before, after, comments):
    db.session.add(
        Evaluation(
            booking=booking,
            kind=EvaluationKind.AFTER,
            confidence_before=before,
            confidence_after=after,
            comments=comments,
            submitted_at=booking.session.ends_at,
        )
    )


def charge(db, booking, reason, pence, raised_at):
    db.session.add(
        Charge(booking=booking, agency_id=booking.agency_id, reason=reason, amount_pence=pence, raised_at=raised_at)
    )


@pytest.fixture
def partnership(db):
    """Two agencies, one course, two sessions in 2019 and one in 2024.

    Who              agency          account            2019                       since
    Jane Smith       Wessex Police   closed when left   S1 attended, S2 late-cancels  -
    Omar Haddad      Downs Council   still open         S1 no-show, S2 unable       signed in Nov 2019
    Ian Idle         Downs Council   still open         no bookings                 never signed in
    Rita Recent      Wessex Police   still open         S1 attended                 attended S3 in 2024
    Tess Trainer     -               trainer            trains S1, S2               trains S3, signs in
    """
    police = make_agency("Wessex Police", domains=["police.example.org"])
    council = make_agency("Downs Council", kind=AgencyKind.COUNCIL, domains=["council.example.org"])
    awareness = make_course(
        programme=make_programme("Domestic Abuse Act training"), title="Domestic Abuse Awareness", refresher_months=36
    )
    joined = local(date(2018, 9, 3), 9)
    tess = make_user(Role.TRAINER, name="Tess Trainer", created_at=joined, last_signed_in_at=NOW - timedelta(days=2))
    jane = make_user(
        agency=police,
        name="Jane Smith",
        email="jane.smith@police.example.org",
        job_title="Police constable",
        active=False,
        created_at=joined,
    )
    omar = make_user(
        agency=council,
        name="Omar Haddad",
        email="omar.haddad@council.example.org",
        job_title="Housing officer",
        created_at=joined,
        last_signed_in_at=local(date(2019, 11, 1), 10),
    )
    ian = make_user(agency=council, name="Ian Idle", email="ian.idle@council.example.org", created_at=joined)
    rita = make_user(agency=police, name="Rita Recent", email="rita.recent@police.example.org", created_at=joined)

    delivered = SessionStatus.DELIVERED
    s1 = make_session(awareness, local(date(2019, 5, 14), 9, 30), hours=3, status=delivered, trainers=[tess])
    s2 = make_session(awareness, local(date(2019, 11, 7), 9, 30), hours=3, status=delivered, trainers=[tess])
    s3 = make_session(awareness, local(date(2024, 3, 5), 9, 30), hours=3, status=delivered, trainers=[tess])

    s1_jane = book(db, s1, jane, attendance=ATTENDED)
    s1_omar = book(db, s1, omar, attendance=NO_SHOW)
    s1_rita = book(db, s1, rita, attendance=ATTENDED)
    s2_jane = book(db, s2, jane, BookingStatus.CANCELLED, late=True)
    s2_jane.reason = "Jane Smith is on a firearms course that week"
    book(db, s2, omar, attendance=UNABLE)
    book(db, s3, rita, attendance=ATTENDED)

    evaluate(db, s1_jane, 2, 4, "Jane Smith here: the role play was useful. Notes to jane.smith@police.example.org")
    evaluate(db, s1_rita, 3, 5, "Tess explained the law clearly")
    charge(db, s1_omar, ChargeReason.NO_SHOW, 35_00, raised_at=s1.ends_at)
    charge(db, s2_jane, ChargeReason.LATE_CANCELLATION, 35_00, raised_at=local(date(2019, 11, 5), 15))
    db.session.add_all(
        [
            CoverageTarget(agency=police, course=awareness, staff_needed=3),
            CoverageTarget(agency=council, course=awareness, staff_needed=2),
        ]
    )
    db.session.flush()
    return SimpleNamespace(
        police=police, council=council, course=awareness, jane=jane, omar=omar, ian=ian, rita=rita, tess=tess
    )


def figures(p) -> dict:
    """Every figure a board, an invoice or an agency lead reads for 2019 and for now."""
    police_statement = charges.statement(p.police, date(2019, 11, 1))
    council_statement = charges.statement(p.council, date(2019, 5, 1))
    return {
        "board": board_report(YEAR_2019, NOW),
        "board, police only": board_report(ReportFilters(YEAR_2019.start, YEAR_2019.end, agency_id=p.police.id), NOW),
        "statements": [
            (s.agency.name, len(s.charges), s.raised_pence, s.waived_pence, [str(c.reason) for c in s.charges])
            for s in (police_statement, council_statement)
        ],
        "coverage now": [
            (r.agency.name, r.needed, r.in_date, r.due_soon, r.overdue) for r in coverage(NOW.date(), now=NOW)
        ],
        "coverage end of 2019": [
            (r.agency.name, r.needed, r.in_date, r.due_soon, r.overdue) for r in coverage(date(2019, 12, 31), now=NOW)
        ],
    }


def people(db) -> dict[str, tuple]:
    db.session.expire_all()
    return {
        u.name: (u.id, u.email, u.job_title, u.active, u.password_hash)
        for u in db.session.scalars(sa.select(User).order_by(User.id))
    }


# Anonymising ---------------------------------------------------------------------------------


def test_reports_statements_and_coverage_read_the_same_after_anonymising(cli, db, partnership):
    db.session.commit()
    before = figures(partnership)
    # Not a comparison of empty reports: 2019 had two sessions, four places booked, two attended.
    summary = before["board"].summary
    assert (summary.sessions_run, summary.booked, summary.attended, summary.no_shows) == (2, 4, 2, 1)
    assert (summary.unable, summary.late_cancellations, before["board"].responses) == (1, 1, 2)
    assert [s[1:4] for s in before["statements"]] == [(1, 35_00, 0), (1, 35_00, 0)]
    assert before["coverage now"] == [("Downs Council", 2, 0, 0, 0), ("Wessex Police", 3, 1, 0, 0)]

    result = cli("jobs", "run")

    assert result.exit_code == 0, result.output
    assert "retention: anonymised 3, access requests removed 0" in result.stdout.splitlines()
    db.session.expire_all()
    assert figures(partnership) == before


def test_a_person_past_their_period_is_anonymised_and_cannot_sign_in(app, cli, db, partnership):
    omar = partnership.omar
    token = links.token_for(omar)
    db.session.add(PasswordResetToken(user=omar, token_hash="a" * 64, expires_at=NOW + timedelta(hours=1)))
    queue_plain_email(recipient=omar.email, name=omar.name)
    db.session.commit()
    omar_id = omar.id
    assert sign_in(fresh_client(app), omar).location == "/"
    assert fresh_client(app).get(f"/calendars/{token}/personal.ics").status_code == 200
    # Signing in just now made him active again: put his last sign-in back where the dataset has it.
    omar.last_signed_in_at = local(date(2019, 11, 1), 10)
    db.session.commit()

    assert cli("jobs", "run").exit_code == 0

    anonymised = db.session.get(User, omar_id)
    assert anonymised.name == f"Former learner {omar_id}"
    assert anonymised.email == f"anonymised-{omar_id}@invalid"
    assert anonymised.job_title == ""
    assert anonymised.active is False
    assert anonymised.anonymised_at == NOW
    # The agency stays: figures by agency need it.
    assert anonymised.agency_id == partnership.council.id
    response = sign_in(fresh_client(app), SimpleNamespace(email="omar.haddad@council.example.org"))
    assert response.status_code == 200
    assert "Enter a correct email address and password" in response.get_data(as_text=True)
    assert fresh_client(app).get(f"/calendars/{token}/personal.ics").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarLink)) == 0
    # The feed's cached text listed the sessions he booked.
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(CachedFeed).where(CachedFeed.user_id == omar_id)) == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 0
    # A message still waiting is not sent; the record that it existed (kept for support) no
    # longer says to whom, or what it said.
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert (message.recipient, message.status, message.body) == (
        f"anonymised-{omar_id}@invalid",
        OutboxStatus.DROPPED,
        "",
    )


def test_an_anonymised_account_cannot_be_reopened(app, cli, db, partnership):
    coordinator = make_user(Role.COORDINATOR, last_signed_in_at=NOW)
    db.session.commit()
    assert cli("jobs", "run").exit_code == 0
    omar_id = partnership.omar.id
    browser = signed_in(fresh_client(app), coordinator)

    page = browser.get(f"/users/{omar_id}")
    assert "Anonymised on 1 June 2026" in plain(page)
    assert "Reactivate account" not in plain(page)
    response = submit(browser, f"/users/{omar_id}/reactivate", {}, form_page=f"/users/{omar_id}")

    assert "This account was anonymised when its retention period ended and cannot be reopened" in " ".join(
        error_summary(browser.get(response.location))
    )
    db.session.expire_all()
    assert db.session.get(User, omar_id).active is False


def test_everyone_past_their_period_is_anonymised_and_a_person_trained_recently_is_untouched(cli, db, partnership):
    db.session.commit()
    before = people(db)

    assert cli("jobs", "run").exit_code == 0

    after = people(db)
    p = partnership
    assert set(after) == {
        "Tess Trainer",
        "Rita Recent",
        f"Former learner {p.jane.id}",
        f"Former learner {p.omar.id}",
        f"Former learner {p.ian.id}",
    }
    assert after["Rita Recent"] == before["Rita Recent"]
    assert after["Tess Trainer"] == before["Tess Trainer"]
    everything = json.dumps(after)
    for name in ("Jane Smith", "Omar Haddad", "Ian Idle"):
        _, email, job_title, _, password_hash = before[name]
        assert name not in everything
        assert email not in everything
        assert password_hash not in everything
        if job_title:
            assert job_title not in everything


def test_evaluation_comments_and_reasons_are_kept_without_the_persons_name(cli, db, partnership):
    db.session.commit()

    assert cli("jobs", "run").exit_code == 0

    comments = db.session.scalars(sa.select(Evaluation.comments).order_by(Evaluation.id)).all()
    assert comments == [
        "[name removed] here: the role play was useful. Notes to [email removed]",
        "Tess explained the law clearly",
    ]
    reasons = db.session.scalars(sa.select(Booking.reason).where(Booking.reason.is_not(None))).all()
    assert reasons == ["[name removed] is on a firearms course that week"]


def test_anonymising_is_audited_and_logged_without_personal_data(cli, db, partnership, security_log):
    db.session.commit()
    assert cli("jobs", "run").exit_code == 0

    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.anonymised")).all()
    p = partnership
    assert sorted(row.entity_id for row in rows) == sorted([p.jane.id, p.omar.id, p.ian.id])
    assert {row.entity_type for row in rows} == {"users"}
    written = json.dumps([(row.before, row.after, row.reason) for row in rows])
    for personal in ("Jane", "Smith", "Omar", "Haddad", "Ian Idle", "example.org", "constable", "Housing"):
        assert personal not in written
    [event] = security_log.named("retention.anonymised")
    assert event["people"] == 3
    assert "example.org" not in "\n".join(security_log.lines)


def test_running_again_changes_nothing_more(cli, db, partnership):
    db.session.commit()
    assert cli("jobs", "run").exit_code == 0
    after_first = people(db)
    audit_rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    second = cli("jobs", "run")

    assert "retention: anonymised 0, access requests removed 0" in second.stdout.splitlines()
    assert people(db) == after_first
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == audit_rows


def test_the_period_is_the_configured_one(app, cli, db, partnership, monkeypatch):
    # Seven years back from 1 June 2026 is 1 June 2019: Jane and Omar had a session that November.
    monkeypatch.setitem(app.config, "KEEP_TRAINING_RECORDS_YEARS", 7)
    db.session.commit()

    result = cli("jobs", "run")

    assert "retention: anonymised 1, access requests removed 0" in result.stdout.splitlines()
    assert {"Jane Smith", "Omar Haddad", f"Former learner {partnership.ian.id}"} <= set(people(db))


def test_an_open_account_that_was_never_closed_leaves_coverage_as_a_closed_one_would(cli, db):
    """Coverage counts the staff an agency has now; a person anonymised has left, as a closed account has."""
    council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
    course = make_course(title="DASH Risk Assessment", refresher_months=36)
    person = make_user(agency=council, name="Olu Open", created_at=local(date(2018, 9, 3), 9))
    session = make_session(course, local(date(2019, 5, 14), 9, 30), status=SessionStatus.DELIVERED)
    book(db, session, person, attendance=ATTENDED)
    db.session.add(CoverageTarget(agency=council, course=course, staff_needed=2))
    db.session.commit()
    assert [(r.in_date, r.overdue) for r in coverage(NOW.date(), now=NOW)] == [(0, 1)]

    assert cli("jobs", "run").exit_code == 0

    assert [(r.in_date, r.overdue, r.gap) for r in coverage(NOW.date(), now=NOW)] == [(0, 0, 2)]


def _people_past_their_period(db, how_many: int) -> None:
    """People each with a booking, a reason, an evaluation, a calendar link and a message."""
    joined = local(date(2018, 9, 3), 9)
    trainer = make_user(Role.TRAINER, created_at=joined)
    session = make_session(
        starts_at=local(date(2019, 5, 14), 9, 30), status=SessionStatus.DELIVERED, capacity=50, trainers=[trainer]
    )
    for n in range(how_many):
        person = make_user(name=f"Pat Past{n}", job_title="Officer", created_at=joined)
        booking = book(db, session, person, attendance=ATTENDED)
        booking.reason = f"Pat Past{n} asked to come"
        evaluate(db, booking, 2, 4, f"Pat Past{n} enjoyed it")
        links.token_for(person)
        queue_plain_email(recipient=person.email, name=person.name)
    db.session.commit()


def _statements_to_anonymise(db, how_many: int) -> list[str]:
    _people_past_their_period(db, how_many)
    with counting_queries(db.engine) as statements:
        applied = retention.apply_retention(NOW)
        db.session.commit()
    assert applied.anonymised == how_many + 1  # and the session's trainer
    return statements


def test_anonymising_many_people_takes_no_more_statements_than_a_few(db):
    few = _statements_to_anonymise(db, 2)
    many = _statements_to_anonymise(db, 12)

    def audit_rows(statements):
        return [s for s in statements if s.startswith("INSERT INTO audit_events")]

    # One read or one write for each kind of row, however many people.
    assert len(many) - len(audit_rows(many)) == len(few) - len(audit_rows(few))
    # SQLite cannot give back the ids of several rows inserted at once, so SQLAlchemy inserts
    # audit rows one by one there (in the one transaction); PostgreSQL takes them in one.
    if db.engine.dialect.name == "postgresql":
        assert len(audit_rows(many)) == 1
    else:
        assert len(audit_rows(many)) == 13


# Records with short periods --------------------------------------------------------------------


def test_old_access_requests_and_sign_in_records_are_removed_and_recent_ones_kept(cli, db):
    make_access_request(name="Old Asker", created_at=NOW - timedelta(days=91))
    make_access_request(
        name="Old Approved",
        created_at=NOW - timedelta(days=120),
        status=AccessRequestStatus.APPROVED,
        decided_at=NOW - timedelta(days=91),
    )
    make_access_request(
        name="Recently Decided",
        created_at=NOW - timedelta(days=120),
        status=AccessRequestStatus.REJECTED,
        decided_at=NOW - timedelta(days=89),
    )
    make_access_request(name="New Asker", created_at=NOW - timedelta(days=10))
    db.session.add_all(
        [
            SignInAttempt(email="a@example.org", address="10.0.0.1", attempted_at=NOW - timedelta(days=31)),
            SignInAttempt(email="b@example.org", address="10.0.0.1", attempted_at=NOW - timedelta(days=29)),
        ]
    )
    db.session.commit()

    result = cli("jobs", "run")

    lines = result.stdout.splitlines()
    assert "sign-in-records: removed 1" in lines
    assert "retention: anonymised 0, access requests removed 2" in lines
    assert sorted(db.session.scalars(sa.select(AccessRequest.name))) == ["New Asker", "Recently Decided"]
    assert db.session.scalars(sa.select(SignInAttempt.email)).all() == ["b@example.org"]


# Dry run ----------------------------------------------------------------------------------------


def _everything(db) -> dict:
    db.session.expire_all()
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    return {
        "people": people(db),
        "comments": db.session.scalars(sa.select(Evaluation.comments).order_by(Evaluation.id)).all(),
        "access requests": count(AccessRequest),
        "sign-in records": count(SignInAttempt),
        "calendar links": count(CalendarLink),
        "audit rows": count(AuditEvent),
    }


def test_a_dry_run_lists_what_would_go_and_changes_nothing(cli, db, partnership):
    links.token_for(partnership.omar)
    make_access_request(name="Old Asker", created_at=NOW - timedelta(days=91))
    make_access_request(name="New Asker", created_at=NOW - timedelta(days=10))
    db.session.add(SignInAttempt(email="a@example.org", address="10.0.0.1", attempted_at=NOW - timedelta(days=31)))
    db.session.commit()
    before = _everything(db)

    result = cli("retention", "--dry-run")

    assert result.exit_code == 0, result.output
    out = result.stdout
    p = partnership
    assert "Dry run: nothing has been changed." in out
    assert "Would anonymise 3 people whose last session and sign-in were before 1 June 2020:" in out
    assert f"#{p.jane.id} Jane Smith <jane.smith@police.example.org>, last active 7 November 2019" in out
    assert f"#{p.omar.id} Omar Haddad <omar.haddad@council.example.org>, last active 7 November 2019" in out
    assert f"#{p.ian.id} Ian Idle <ian.idle@council.example.org>, last active 3 September 2018" in out
    assert "Rita" not in out and "Tess" not in out
    assert "Would remove 1 access request made or decided before 3 March 2026." in out
    assert "Would remove 1 sign-in record from before 2 May 2026." in out
    assert _everything(db) == before


def test_the_retention_command_without_a_dry_run_applies_the_periods(cli, db, partnership):
    db.session.commit()

    result = cli("retention")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "sign-in-records: removed 0",
        "retention: anonymised 3, access requests removed 0",
        "access-needs: erased 0",
        "purge-outbox: purged 0",
    ]
    assert "Jane Smith" not in people(db)


# Settings and the privacy notice ----------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch):
    for name in RETENTION_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAINAPP_ENV", "development")
    return monkeypatch


def test_the_defaults_are_the_partnerships_practice(environment, tmp_path):
    settings = from_environment(tmp_path)
    assert {name: settings[name] for name in RETENTION_SETTINGS} == {
        "KEEP_TRAINING_RECORDS_YEARS": 6,
        "KEEP_ACCESS_REQUESTS_DAYS": 90,
        "KEEP_SIGN_IN_RECORDS_DAYS": 30,
        "ACCESS_NEEDS_KEEP_DAYS": 30,
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KEEP_TRAINING_RECORDS_YEARS", "0", "must be a whole number of years above zero, not '0'."),
        ("KEEP_TRAINING_RECORDS_YEARS", "-6", "must be a whole number of years above zero, not '-6'."),
        ("KEEP_TRAINING_RECORDS_YEARS", "six", "must be a whole number of years above zero, not 'six'."),
        ("KEEP_ACCESS_REQUESTS_DAYS", "2.5", "must be a whole number of days above zero, not '2.5'."),
        ("KEEP_ACCESS_REQUESTS_DAYS", "²", "must be a whole number of days above zero, not '²'."),
        ("KEEP_SIGN_IN_RECORDS_DAYS", "100000", "must be at most 36,500 days, not '100000'."),
        ("KEEP_TRAINING_RECORDS_YEARS", "10" * 10, f"must be at most 100 years, not '{'10' * 10}'."),
    ],
)
def test_a_period_that_is_not_a_positive_number_is_refused_with_one_line(environment, tmp_path, name, value, message):
    environment.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        from_environment(tmp_path)
    assert str(refused.value) == f"{name} {message}"


def test_flask_commands_refuse_to_start_with_a_period_of_zero():
    env = {**os.environ, "TRAINAPP_ENV": "development", "KEEP_TRAINING_RECORDS_YEARS": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "trainapp", "jobs", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "KEEP_TRAINING_RECORDS_YEARS must be a whole number of years above zero, not '0'." in last_line


def test_the_privacy_notice_shows_the_configured_periods(app, db, client, monkeypatch):
    monkeypatch.setitem(app.config, "KEEP_TRAINING_RECORDS_YEARS", 7)
    monkeypatch.setitem(app.config, "KEEP_ACCESS_REQUESTS_DAYS", 60)
    monkeypatch.setitem(app.config, "KEEP_SIGN_IN_RECORDS_DAYS", 14)

    page = " ".join(client.get("/privacy").get_data(as_text=True).split())

    assert "7 years after your last training session or sign-in" in page
    assert "A request for an account is deleted 60 days after it was made or decided" in page
    assert "Records of signing in are deleted after 14 days" in page
