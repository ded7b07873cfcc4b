"""`flask jobs run` started on four hosts in the same moment, round after round.

Each host is a process of its own running ``flask --app trainapp jobs run`` with its own
environment and database connections, against one database (PostgreSQL when TEST_DATABASE_URL
is set, and SQLite with WAL). The hosts are forked from this process, whose imports are done:
an interpreter importing the application costs seconds of CPU, so separately launched hosts
would start seconds apart and hardly overlap, and the test would take minutes. Every round
brings 200 new bookings whose 3-working-day reminder is due: every host must finish cleanly,
and each reminder must be queued once and sent once (five rounds on PostgreSQL, three on SQLite).
"""

import multiprocessing
import os
import re
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.concurrency.harness import (
    migrated_server,
    seed_scenario,
)
from tests.conftest import BACKENDS

pytestmark = pytest.mark.concurrency

HOSTS = 4
# SQLite's writers queue behind one lock whatever the round: more rounds there add time, not cover.
ROUNDS = {"postgresql": 5, "sqlite": 3}
BOOKINGS = 200
HOST_TIMEOUT = 60
_COUNT = re.compile(r"^(reminders: queued|outbox: sent) (\d+)", re.MULTILINE)


@pytest.fixture(scope="module", params=BACKENDS)
def deployment(request, tmp_path_factory):
    """A migrated database and the environment every host runs with (no web server is started)."""
    work_dir = tmp_path_factory.mktemp(f"jobs-{request.param}")
    with migrated_server(request.param, work_dir, "trainapp_jobs") as server:
        yield server


def _bookings_with_a_reminder_due(app) -> list[int]:
    """200 people confirmed on a session three days away: its 3-working-day reminder is due."""
    from trainapp.accounts.models import User
    from trainapp.bookings.models import Booking, BookingStatus
    from trainapp.catalogue.models import TrainingSession
    from trainapp.db import utcnow
    from trainapp.extensions import db

    scenario = seed_scenario(app, people=BOOKINGS, capacity=BOOKINGS)
    with app.app_context():
        session = db.session.get(TrainingSession, scenario.session_id)
        session.starts_at = (utcnow() + timedelta(days=3)).replace(microsecond=0)
        session.ends_at = session.starts_at + timedelta(hours=2)
        session.places_taken = BOOKINGS
        people = db.session.scalars(sa.select(User).where(User.id.in_([p.id for p in scenario.people]))).all()
        bookings = [
            Booking(session=session, user=person, agency_id=person.agency_id, status=BookingStatus.CONFIRMED)
            for person in people
        ]
        db.session.add_all(bookings)
        db.session.commit()
        ids = [booking.id for booking in bookings]
        db.session.remove()
    return ids


@dataclass
class HostRun:
    returncode: int | None
    stdout: str
    stderr: str


def _host(env: dict[str, str], stdout: str, stderr: str) -> None:
    """One host's cron job, in a forked process: the environment is all it is told."""
    os.environ.update(env)
    sys.stdout = open(stdout, "w")  # noqa: SIM115 - flushed by multiprocessing as the process ends
    sys.stderr = open(stderr, "w")  # noqa: SIM115
    sys.argv = ["flask", "--app", "trainapp", "jobs", "run"]
    from flask.cli import main

    main()


def _run_hosts_at_once(server, round_number: int) -> list[HostRun]:
    from trainapp.extensions import db

    with server.app.app_context():
        db.engine.dispose()  # no pooled connection of this process is carried into a host
    outputs = [
        (server.work_dir / f"round{round_number}-host{n}.out", server.work_dir / f"round{round_number}-host{n}.err")
        for n in range(HOSTS)
    ]
    fork = multiprocessing.get_context("fork")
    hosts = [fork.Process(target=_host, args=(server.env, str(out), str(err))) for out, err in outputs]
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(HOST_TIMEOUT)
        if host.is_alive():
            host.kill()
            host.join()
    return [HostRun(host.exitcode, _read(out), _read(err)) for host, (out, err) in zip(hosts, outputs, strict=True)]


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _total(hosts: list[HostRun], what: str) -> int:
    return sum(int(n) for host in hosts for label, n in _COUNT.findall(host.stdout) if label == what)


def _reminders(app, booking_ids: list[int]) -> dict[str, tuple[int, str]]:
    """dedupe key -> (attempts, status) of the reminders queued for these bookings."""
    from trainapp.extensions import db
    from trainapp.notifications.models import OutboxMessage

    keys = [f"reminder-3:{booking_id}" for booking_id in booking_ids]
    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.dedupe_key, OutboxMessage.attempts, OutboxMessage.status).where(
                OutboxMessage.dedupe_key.in_(keys)
            )
        ).all()
        db.session.remove()
    return {key: (attempts, str(status)) for key, attempts, status in rows}


def test_four_hosts_running_jobs_at_once_queue_and_send_each_reminder_once(deployment):
    backend = "sqlite" if deployment.database_url.startswith("sqlite") else "postgresql"
    for round_number in range(1, ROUNDS[backend] + 1):
        booking_ids = _bookings_with_a_reminder_due(deployment.app)

        hosts = _run_hosts_at_once(deployment, round_number)

        report = "\n".join(f"exit {h.returncode}\n{h.stdout}{h.stderr}" for h in hosts)
        assert [h.returncode for h in hosts] == [0] * HOSTS, f"round {round_number}:\n{report}"
        assert "Traceback" not in report, report
        assert _total(hosts, "reminders: queued") == BOOKINGS, f"round {round_number}:\n{report}"
        assert _total(hosts, "outbox: sent") == BOOKINGS, f"round {round_number}:\n{report}"
        reminders = _reminders(deployment.app, booking_ids)
        assert len(reminders) == BOOKINGS
        assert set(reminders.values()) == {(1, "sent")}, f"round {round_number}: sent more than once"
