"""A real server with several workers, a real database, seeded people, and browsers that race.

Shared by the concurrency tests and ``scripts/bench_booking.py``. The server is
``gunicorn --workers 4 wsgi:app`` started exactly as in production (configured only
through the environment); the schema comes from the Alembic migrations; the people
are seeded directly with SQLAlchemy, with a cheap password hash so signing 50 of
them in takes a moment.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from unittest import mock

import requests
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
PASSWORD = "racing-to-book-the-last-place"
# Signing 50 people in with scrypt would take longer than the race itself.
FAST_HASH_METHOD = "pbkdf2:sha256:1000"
REQUEST_TIMEOUT = 30
HOLDING_STATUSES = ("confirmed", "awaiting_approval")
_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')


# --- Databases --------------------------------------------------------------------------


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'concurrency.db'}"


def _without_options(url: str) -> str:
    return re.sub(r"[?&]options=[^&]*", "", url)


def postgres_url(base_url: str, schema: str) -> str:
    """``base_url`` confined to ``schema`` through the connection's search_path."""
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", base_url)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def create_postgres_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(_without_options(url))
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def drop_postgres_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(_without_options(url))
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


# --- The server -------------------------------------------------------------------------


def _no_control_socket() -> list[str]:
    # gunicorn 25+ opens a control socket at one fixed path per user; parallel servers
    # (pytest -n 2, the benchmark) would fight over it, and these servers need none.
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any("--no-control-socket" in (s.cli or []) for s in KNOWN_SETTINGS) else []


_NO_CONTROL_SOCKET = _no_control_socket()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving wsgi:app on a free port, configured only through the environment.

    ``app`` is the same application built in this process from the same environment:
    it migrates and seeds the database and reads the results.
    """

    def __init__(self, database_url: str, work_dir: Path, *, workers: int = 4):
        self.database_url = database_url
        self.work_dir = work_dir
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = work_dir / "gunicorn.stderr"
        self.env = {
            "TRAINAPP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": database_url,
            "BASE_URL": self.base_url,
            "MAIL_TRANSPORT": "file",
            "MAIL_DIR": str(work_dir / "mail"),
            "SECURE_COOKIES": "0",
        }
        self.process: subprocess.Popen | None = None
        self._stderr_file = None
        self._log_mark = 0
        self.app = self._build_app()

    def _build_app(self):
        from trainapp import create_app

        with mock.patch.dict(os.environ, self.env):
            return create_app()

    def migrate(self) -> None:
        """Build the schema the way a deployment does: ``flask db upgrade``."""
        from tests.factories import migrate_database

        with self.app.app_context():
            migrate_database("upgrade")

    def start(self, timeout: float = 120) -> "Server":
        self._stderr_file = open(self.stderr_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                *_NO_CONTROL_SOCKET,
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr_file,
            # Its own process group, so a server that will not stop is killed with its workers.
            start_new_session=True,
        )
        self._wait_until_healthy(timeout)
        return self

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            # Another process could have taken the port between free_port() and the bind.
            listening = f"Listening at: {self.base_url} ({self.process.pid})" in self.log()
            try:
                if listening and requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    self._warm_up()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s:\n{self.log()}")

    def _warm_up(self) -> None:
        """Have every worker load the app and render a page, so a race does not wait on that."""

        def fetch(_):
            requests.get(f"{self.base_url}/sign-in", timeout=REQUEST_TIMEOUT).raise_for_status()

        with ThreadPoolExecutor(max_workers=self.workers * 2) as pool:
            for _ in range(2):
                list(pool.map(fetch, range(self.workers * 2)))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # gunicorn's quick shutdown: every request has been answered by now, and a
            # graceful one (SIGTERM) waits seconds for idle workers.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        with self.app.app_context():
            from trainapp.extensions import db

            db.session.remove()
            db.engine.dispose()

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        if not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(errors="replace")

    def mark_log(self) -> None:
        self._log_mark = self.stderr_path.stat().st_size if self.stderr_path.exists() else 0

    def log_since_mark(self) -> str:
        with open(self.stderr_path, "rb") as log:
            log.seek(self._log_mark)
            return log.read().decode(errors="replace")

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- Seeding and reading the database ---------------------------------------------------


@contextmanager
def migrated_server(backend: str, work_dir: Path, schema_prefix: str):
    """A Server over a freshly migrated database of ``backend`` (not started), removed afterwards.

    PostgreSQL gets a schema of its own, so test runs sharing one server stay apart; without
    TEST_DATABASE_URL the test is skipped with the reason.
    """
    import pytest

    from tests.conftest import _worker

    if backend == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL concurrency tests need TEST_DATABASE_URL (CI sets it)")
    schema = None
    if backend == "sqlite":
        url = sqlite_url(work_dir)
    else:
        schema = f"{schema_prefix}_{_worker()}"
        url = postgres_url(os.environ["TEST_DATABASE_URL"], schema)
        create_postgres_schema(url, schema)
    server = Server(url, work_dir)
    try:
        server.migrate()
        yield server
    finally:
        server.stop()
        if schema is not None:
            drop_postgres_schema(url, schema)


@dataclass
class Person:
    id: int
    email: str


@dataclass
class Scenario:
    """One 10-place session (by default) and the people who want it."""

    session_id: int
    people: list[Person]
    capacity: int


def seed_scenario(app, *, people: int, capacity: int = 10) -> Scenario:
    """An agency, a published course with no approval or prerequisite, a session in a week,
    and ``people`` staff who may book it. Names are unique, so a database can hold many."""
    from trainapp.accounts.models import Agency, AgencyDomain, AgencyKind, Role, User
    from trainapp.catalogue.models import (
        Course,
        CourseStatus,
        DeliveryMode,
        Programme,
        TrainingSession,
        Venue,
    )
    from trainapp.db import utcnow
    from trainapp.extensions import db

    tag = secrets.token_hex(4)
    password_hash = generate_password_hash(PASSWORD, FAST_HASH_METHOD)
    with app.app_context():
        agency = Agency(
            name=f"Race Agency {tag}",
            kind=AgencyKind.POLICE,
            is_partner=True,
            active=True,
            domains=[AgencyDomain(domain=f"race-{tag}.example.org")],
        )
        course = Course(
            programme=Programme(name=f"Race Programme {tag}", description=""),
            title=f"Race Course {tag}",
            level=None,
            summary="A popular course",
            audience="",
            duration_minutes=120,
            cpd_hours=2,
            refresher_months=None,
            prerequisite=None,
            eligible_kinds=[],
            requires_approval=False,
            default_capacity=capacity,
            cancellation_notice_days=5,
            status=CourseStatus.PUBLISHED,
        )
        starts_at = (utcnow() + timedelta(days=7)).replace(microsecond=0)
        session = TrainingSession(
            course=course,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            delivery_mode=DeliveryMode.IN_PERSON,
            venue=Venue(name=f"Race Venue {tag}", address="1 High Street"),
            capacity=capacity,
            trainers=[],
        )
        users = [
            User(
                email=f"person{n}@race-{tag}.example.org",
                name=f"Person {n} {tag}",
                role=Role.STAFF,
                agency=agency,
                password_hash=password_hash,
                active=True,
            )
            for n in range(people)
        ]
        db.session.add_all([agency, course, session, *users])
        db.session.commit()
        scenario = Scenario(session.id, [Person(u.id, u.email) for u in users], capacity)
        db.session.remove()
    return scenario


def add_session(app, scenario: Scenario) -> int:
    """Another session of the same course, a day after the scenario's, for the same people."""
    from trainapp.catalogue.models import TrainingSession
    from trainapp.extensions import db

    with app.app_context():
        first = db.session.get(TrainingSession, scenario.session_id)
        session = TrainingSession(
            course=first.course,
            starts_at=first.starts_at + timedelta(days=1),
            ends_at=first.ends_at + timedelta(days=1),
            delivery_mode=first.delivery_mode,
            venue=first.venue,
            capacity=scenario.capacity,
            trainers=[],
        )
        db.session.add(session)
        db.session.commit()
        session_id = session.id
        db.session.remove()
    return session_id


def book_directly(app, session_id: int, people: list[Person]) -> list[int]:
    """Book each person through the booking service, one transaction each; returns booking ids."""
    from trainapp.accounts.models import User
    from trainapp.bookings import services
    from trainapp.extensions import db

    ids = []
    with app.app_context():
        for person in people:
            user = db.session.get(User, person.id)
            ids.append(services.book_place(session_id, user, by=user).id)
            db.session.commit()
        db.session.remove()
    return ids


@dataclass
class SessionState:
    places_taken: int
    statuses: Counter  # status -> bookings
    by_user: dict[int, list[str]]  # user id -> statuses of their booking rows

    @property
    def holding(self) -> int:
        return sum(self.statuses[s] for s in HOLDING_STATUSES)


def session_state(app, session_id: int) -> SessionState:
    from trainapp.bookings.models import Booking
    from trainapp.catalogue.models import TrainingSession
    from trainapp.extensions import db

    with app.app_context():
        places_taken = db.session.scalar(
            sa.select(TrainingSession.places_taken).where(TrainingSession.id == session_id)
        )
        rows = db.session.execute(
            sa.select(Booking.user_id, Booking.status).where(Booking.session_id == session_id)
        ).all()
        db.session.remove()
    by_user: dict[int, list[str]] = {}
    for user_id, status in rows:
        by_user.setdefault(user_id, []).append(str(status))
    return SessionState(places_taken, Counter(str(status) for _, status in rows), by_user)


def booking_ids(app, session_id: int) -> dict[int, int]:
    """user id -> booking id on this session."""
    from trainapp.bookings.models import Booking
    from trainapp.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.select(Booking.user_id, Booking.id).where(Booking.session_id == session_id)).all()
        db.session.remove()
    return dict(rows)


def subjects_sent_to(app, email: str) -> list[str]:
    """Subjects of the emails queued for one person, oldest first."""
    from tests.support import outbox_subjects
    from trainapp.extensions import db

    with app.app_context():
        subjects = outbox_subjects(db, email)
        db.session.remove()
    return subjects


class HoldingMonitor:
    """Counts the places held on a session, over and over, while a race runs: the highest
    count ever seen shows whether capacity was exceeded even for a moment."""

    def __init__(self, database_url: str, session_id: int, interval: float = 0.01):
        # A plain engine: no BEGIN IMMEDIATE, so watching never queues behind the writers.
        args = {"timeout": 30} if database_url.startswith("sqlite") else {}
        self.engine = sa.create_engine(database_url, connect_args=args)
        self.query = sa.text(
            "SELECT count(*) FROM bookings WHERE session_id = :id AND status IN ('confirmed', 'awaiting_approval')"
        ).bindparams(id=session_id)
        self.interval = interval
        self.highest = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="holding-monitor", daemon=True)

    def _watch(self) -> None:
        with self.engine.connect() as connection:
            while True:
                self.highest = max(self.highest, connection.execute(self.query).scalar_one())
                connection.rollback()
                self.samples += 1
                if self._stop.wait(self.interval):
                    return

    def __enter__(self) -> "HoldingMonitor":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()


# --- Browsers ---------------------------------------------------------------------------


def csrf_token(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    value = _VALUE.search(match.group(0)) if match else None
    if value is None:
        raise AssertionError("the page has no CSRF token")
    return value.group(1)


class Browser:
    """One person's browser: its own cookies, signing in and posting forms as a person would."""

    def __init__(self, base_url: str, http: requests.Session | None = None):
        self.base_url = base_url
        self.http = http or requests.Session()
        self.token: str | None = None

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=REQUEST_TIMEOUT)

    def post(self, path: str, data: dict) -> requests.Response:
        """POST a form with this browser's CSRF token; redirects are not followed."""
        return self.http.post(
            self.base_url + path,
            data={"csrf_token": self.token, **data},
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )

    def sign_in(self, email: str, password: str = PASSWORD) -> "Browser":
        page = self.get("/sign-in")
        page.raise_for_status()
        response = self.http.post(
            self.base_url + "/sign-in",
            data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise AssertionError(f"signing in {email} answered {response.status_code}")
        return self

    def open_form(self, path: str) -> "Browser":
        """Load the page holding a form and keep its CSRF token (signing in renews the token)."""
        page = self.get(path)
        page.raise_for_status()
        self.token = csrf_token(page.text)
        return self

    def twin(self) -> "Browser":
        """Another tab of the same browser: the same cookies, so the same signed-in person."""
        http = requests.Session()
        http.cookies.update(self.http.cookies)
        other = Browser(self.base_url, http)
        other.token = self.token
        return other

    def close(self) -> None:
        self.http.close()


def signed_in_browsers(
    base_url: str, people: list[Person], form_path: Callable[[Person], str], *, parallel: int = 8
) -> list[Browser]:
    """A signed-in browser per person, each holding the token of the form it will post."""

    def prepare(person: Person) -> Browser:
        browser = Browser(base_url)
        try:
            return browser.sign_in(person.email).open_form(form_path(person))
        except Exception:
            browser.close()
            raise

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(prepare, people))


# --- Racing -----------------------------------------------------------------------------


@dataclass
class RaceResult:
    statuses: list[int | str] = field(default_factory=list)  # HTTP status, or the error's name
    seconds: float = 0.0

    @property
    def server_errors(self) -> list[int | str]:
        return [s for s in self.statuses if not isinstance(s, int) or s >= 500]


def race(calls: list[Callable[[], requests.Response]], *, timeout: float = 60) -> RaceResult:
    """Run every call in its own thread, all released at once by a barrier.

    ``seconds`` runs from the release to the last answer.
    """
    statuses: list[int | str] = [""] * len(calls)
    barrier = threading.Barrier(len(calls) + 1)

    def run(index: int, call: Callable[[], requests.Response]) -> None:
        try:
            barrier.wait(timeout=timeout)
            statuses[index] = call().status_code
        except Exception as error:  # noqa: BLE001 - reported as the outcome of that call
            statuses[index] = type(error).__name__

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=timeout)
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0))
    seconds = time.perf_counter() - started
    for index, thread in enumerate(threads):
        if thread.is_alive():
            statuses[index] = "still running"
    return RaceResult(statuses, seconds)


def one_after_another(calls: list[Callable[[], requests.Response]]) -> RaceResult:
    """The same calls made by one client in turn, for comparison with ``race``."""
    statuses: list[int | str] = []
    started = time.perf_counter()
    for call in calls:
        try:
            statuses.append(call().status_code)
        except requests.RequestException as error:
            statuses.append(type(error).__name__)
    return RaceResult(statuses, time.perf_counter() - started)
