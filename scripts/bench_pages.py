"""How fast the main pages are on the large dataset, as a share of a bare Flask hello-world.

Generates the large dataset (``flask demo-data --scale large``: about 50 agencies, 20,000
people, 9,000 sessions over three years, 150,000 bookings) in a fresh SQLite file, or with
--postgres in a fresh schema on that server (ANALYZEd after loading, as autovacuum would),
building the schema with the migrations as a deployment does. Then it serves it with
gunicorn exactly as in production (configured through the environment, 2 sync workers
unless told otherwise) and, beside it under the same gunicorn settings, a one-route Flask
hello-world. It signs in through the sign-in page as a staff member (the one with the
most bookings) and as the coordinator, and for each page:

  1. drives hello-world with wrk for --seconds at --connections (the ceiling, this minute);
  2. drives the page the same way, with the signed-in person's session cookie;
  3. for slow pages, also times --runs requests made one after another (plain urllib), median.

It prints requests a second, p99 latency and the page's share of hello-world's requests a
second, the load average before and after, and for the public feed the microseconds per
event. Before and after each wrk run the page is fetched once to check it still answers as
expected (200, or 304 for the feed revalidation) rather than a redirect to signing in.

Needs wrk (``apt-get install wrk``). Absolute figures depend on the machine and what else it
is doing; the ratio to hello-world, measured a moment earlier, is what to compare.

    .venv/bin/python scripts/bench_pages.py
    .venv/bin/python scripts/bench_pages.py --reuse /tmp/large.db      # keep the file, reuse it next time
    .venv/bin/python scripts/bench_pages.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python scripts/bench_pages.py --worker-class gthread --threads 4 --pages list,my-bookings
"""

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from unittest import mock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from trainapp import create_app  # noqa: E402
from trainapp.accounts.models import Role, User  # noqa: E402
from trainapp.bookings.models import Booking  # noqa: E402
from trainapp.catalogue.models import Programme, TrainingSession  # noqa: E402
from trainapp.db import utcnow  # noqa: E402
from trainapp.demo import DEMO_PASSWORD  # noqa: E402
from trainapp.demo.large import COORDINATOR_EMAIL, LARGE, load_large  # noqa: E402
from trainapp.extensions import db  # noqa: E402
from trainapp.timezones import to_local  # noqa: E402

GUNICORN = Path(sys.executable).parent / "gunicorn"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
HELLO_APP = '''"""Flask's smallest app: the ceiling the pages are compared with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
'''
REQUEST_TIMEOUT = 120
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass(frozen=True)
class Page:
    key: str  # for --pages
    label: str
    who: str | None  # "staff", "coordinator" or None (no sign-in)
    slow: bool = False  # also timed one request after another
    expect: int = 200


PAGES = [
    Page("list", "session list, page 1 (staff)", "staff"),
    Page("list-filtered", "session list, past + programme, page 10 (coord.)", "coordinator"),
    Page("session", "session page (staff)", "staff"),
    Page("my-bookings", "my bookings (staff)", "staff"),
    Page("feed-304", "personal feed, If-None-Match -> 304", None, expect=304),
    Page("public-feed", "public feed, full GET", None, slow=True),
    Page("board-quarter", "board report, last quarter", "coordinator", slow=True),
    Page("board-3y", "board report, three financial years", "coordinator", slow=True),
    Page("coverage", "coverage", "coordinator", slow=True),
    Page("refreshers", "refreshers, page 1", "coordinator", slow=True),
    Page("funding", "funding dashboard", "coordinator", slow=True),
]


@dataclass
class Load:
    requests_per_second: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and answers other than 2xx/3xx


@dataclass
class Row:
    key: str
    label: str
    path: str
    page: Load
    hello: Load
    ratio: float
    sequential_ms: float | None = None
    bytes: int = 0
    events: int | None = None
    us_per_event: float | None = None
    notes: list[str] = field(default_factory=list)


# --- HTTP ---------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    if match is None:
        raise RuntimeError("the page has no CSRF token")
    return match.group(1) or match.group(2)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


class Client:
    """A browser of sorts: a cookie jar, no redirects followed, every answer returned."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects)

    def request(self, path: str, *, data: dict | None = None, headers: dict | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers or {})  # noqa: S310 - our own server
        began = time.perf_counter()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                content = response.read()
                status, answer_headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as answer:  # 3xx, 4xx, 5xx: an answer all the same
            content, status, answer_headers = answer.read(), answer.code, dict(answer.headers)
        return Answer(status, answer_headers, content, time.perf_counter() - began)

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def sign_in(self, email: str) -> "Client":
        form = self.request("/sign-in")
        if form.status != 200:
            raise RuntimeError(f"the sign-in page answered {form.status}")
        token = _csrf(form.body.decode())
        answer = self.request("/sign-in", data={"csrf_token": token, "email": email, "password": DEMO_PASSWORD})
        if answer.status != 302 or "/sign-in" in answer.headers.get("Location", ""):
            raise RuntimeError(f"signing in as {email} answered {answer.status} {answer.headers.get('Location')}")
        return self


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- gunicorn -----------------------------------------------------------------------------


def _no_control_socket() -> list[str]:
    # gunicorn 25+ opens a control socket at one fixed path per user; two servers would share it.
    options = subprocess.run([str(GUNICORN), "--help"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    return ["--no-control-socket"] if "--no-control-socket" in options else []


@contextmanager
def gunicorn(app: str, cwd: Path, env: dict[str, str], port: int, args, log: Path) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1:port until the block ends; yields the base URL."""
    command = [str(GUNICORN), "--workers", str(args.workers), "--worker-class", args.worker_class]
    command += ["--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", *_no_control_socket(), app]
    with open(log, "ab") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # so the workers are stopped with it
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn {app} exited with {process.returncode}:\n{log.read_text()}")
                if f"Listening at: {base_url}" in log.read_text(errors="replace"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {app} did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base_url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def drain(base_url: str, concurrency: int) -> None:
    """Wait until requests left queued by wrk (which stops without waiting) have been served.

    Rounds of ``concurrency`` health checks at once: when a whole round comes back quickly,
    no worker was still busy with a leftover page.
    """
    client = Client(base_url)
    for _ in range(200):
        times: list[float] = []

        def check(times: list[float] = times) -> None:
            times.append(client.request("/healthz").seconds)

        threads = [threading.Thread(target=check) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if max(times) < 0.25:
            return


def warm_up(base_url: str, concurrency: int) -> None:
    """Every worker loads the app and renders a page before anything is measured."""
    client = Client(base_url)
    threads = [threading.Thread(target=client.request, args=("/sign-in",)) for _ in range(concurrency * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- wrk ------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, args, headers: dict[str, str]) -> Load:
    command = [WRK, "--threads", str(min(2, args.connections)), "--connections", str(args.connections)]
    command += ["--duration", f"{args.seconds}s", "--timeout", "60s", "--latency"]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"wrk printed something unexpected:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(
        requests_per_second=float(rate.group(1)),
        # No line when nothing finished within the run (a very slow page).
        p99_ms=_milliseconds(p99.group(1)) if p99 else float("nan"),
        requests=int(total.group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
    )


# --- the database ---------------------------------------------------------------------------


def _without_options(url: str) -> str:
    return re.sub(r"[?&]options=[^&]*", "", url)


def postgres_url(base_url: str, schema: str) -> str:
    """``base_url`` confined to ``schema`` through the connection's search_path (as the tests do)."""
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", base_url)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _run_sql(url: str, statement: str) -> None:
    engine = sa.create_engine(_without_options(url))
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


@dataclass
class Dataset:
    summary: str
    staff_email: str
    programme_id: int
    first_financial_year: date
    built_seconds: float | None


def prepare(env: dict[str, str]) -> Dataset:
    """Migrate, load the large dataset unless it is there already, and pick who and what to ask for."""
    with mock.patch.dict(os.environ, env):
        app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        built = None
        if db.session.scalar(sa.select(User.id).where(User.email == COORDINATOR_EMAIL)) is None:
            print("Generating the large dataset...", file=sys.stderr, flush=True)
            began = time.perf_counter()
            load_large(LARGE)
            db.session.commit()
            built = time.perf_counter() - began
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(sa.text("ANALYZE"))

        def count(model) -> int:
            return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

        # The busiest staff member: the longest "my bookings" and personal feed.
        staff_email = db.session.scalar(
            sa.select(User.email)
            .join(Booking, Booking.user_id == User.id)
            .where(User.role == Role.STAFF, User.active.is_(True))
            .group_by(User.id, User.email)
            .order_by(sa.func.count().desc(), User.id)
            .limit(1)
        )
        programme_id = db.session.scalar(sa.select(Programme.id).order_by(Programme.id))
        today = to_local(utcnow()).date()
        this_year = today.year if today.month >= 4 else today.year - 1
        summary = (
            f"{count(User):,} people, {count(TrainingSession):,} sessions, {count(Booking):,} bookings "
            f"({db.engine.dialect.name})"
        )
        db.session.remove()
        db.engine.dispose()
    assert staff_email is not None and programme_id is not None, "the dataset has no staff bookings"
    return Dataset(summary, staff_email, programme_id, date(this_year - 2, 4, 1), built)


def _dates(start: date, end: date) -> str:
    return f"start={start.day}&start={start.month}&start={start.year}&end={end.day}&end={end.month}&end={end.year}"


# --- the run --------------------------------------------------------------------------------


def _personal_feed(staff: Client) -> str:
    calendar = staff.request("/calendar").body.decode()
    feed = re.search(r"https?://[^\"'\s<]+/calendars/[^/\"'\s<]+/personal\.ics", calendar)
    if feed is None:
        raise RuntimeError("the calendar page shows no personal feed link")
    return urllib.parse.urlsplit(feed.group(0)).path


def paths(base_url: str, staff: Client, dataset: Dataset) -> dict[str, str]:
    """Each page's path, found the way a person finds it where the page names it."""
    listing = staff.request("/sessions").body.decode()
    session_ids = re.findall(r'href="/sessions/(\d+)"', listing)
    if not session_ids:
        raise RuntimeError("the session list shows no sessions")
    feed = _personal_feed(staff)
    if staff.request(feed).status == 404:
        # Links are signed with SECRET_KEY, new each run: a reused database's link is dead.
        calendar = staff.request("/calendar").body.decode()
        staff.request("/calendar/new-link", data={"csrf_token": _csrf(calendar)})
        feed = _personal_feed(staff)
    start = dataset.first_financial_year
    return {
        "list": "/sessions",
        "list-filtered": f"/sessions?when=past&programme={dataset.programme_id}&page=10",
        "session": f"/sessions/{session_ids[0]}",
        "my-bookings": "/my-bookings",
        "feed-304": feed,
        "public-feed": "/calendars/public.ics",
        "board-quarter": "/reports/board?preset=last-quarter",
        "board-3y": f"/reports/board?{_dates(start, date(start.year + 3, 3, 31))}",
        "coverage": "/reports/coverage",
        "refreshers": "/refreshers",
        "funding": "/funding",
    }


def measure(page: Page, path: str, client: Client | None, base_url: str, hello_url: str, args) -> Row:
    concurrency = args.workers * args.threads
    headers: dict[str, str] = {}
    notes: list[str] = []
    http = client or Client(base_url)
    if page.key == "feed-304":
        first = http.request(path)
        validator = first.headers.get("ETag")
        if first.status != 200 or validator is None:
            raise RuntimeError(f"{path} answered {first.status} with ETag {validator!r}")
        headers["If-None-Match"] = validator
    if client is not None:
        # A fresh cookie, as a browser would hold: an old one makes every answer set a new one.
        client.request("/healthz")
        headers["Cookie"] = client.cookie_header()

    def check(when: str) -> Answer:
        answer = http.request(path, headers={k: v for k, v in headers.items() if k != "Cookie"})
        if answer.status != page.expect:
            raise RuntimeError(f"{path} answered {answer.status} {when}, not {page.expect}")
        return answer

    sample = check("before the run")
    drain(base_url, concurrency)
    hello = wrk(hello_url + "/", args, {})
    load = wrk(base_url + path, args, headers)
    drain(base_url, concurrency)
    check("after the run")
    if load.errors:
        notes.append(f"{load.errors} errors or timeouts")
    row = Row(
        page.key,
        page.label,
        path,
        load,
        hello,
        load.requests_per_second / hello.requests_per_second,
        bytes=len(sample.body),
    )
    if page.slow:
        check("warming up")
        row.sequential_ms = statistics.median(check("in the sequential runs").seconds for _ in range(args.runs)) * 1000
    if page.key == "public-feed":
        row.events = sample.body.count(b"BEGIN:VEVENT")
        if row.events and row.sequential_ms is not None:
            row.us_per_event = row.sequential_ms * 1000 / row.events
    row.notes = notes
    return row


def _uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run(args, database_url: str, work_dir: Path) -> dict:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "TRAINAPP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "BASE_URL": base_url,
        "REQUIRE_MFA_FOR": "",  # the demo accounts have no authenticator app
        "SECURE_COOKIES": "0",  # plain HTTP on 127.0.0.1
        "MAIL_TRANSPORT": "file",
        "MAIL_DIR": str(work_dir / "mail"),
        "SECURITY_LOG_LEVEL": "WARNING",
    }
    dataset = prepare(env)
    (work_dir / "hello").mkdir(exist_ok=True)
    (work_dir / "hello" / "hello.py").write_text(HELLO_APP)
    load_before = _uptime()
    rows: list[Row] = []
    log = work_dir / "gunicorn.log"
    with (
        gunicorn("wsgi:app", PROJECT_ROOT, env, port, args, log) as app_url,
        gunicorn("hello:app", work_dir / "hello", {}, free_port(), args, work_dir / "hello.log") as hello_url,
    ):
        warm_up(app_url, args.workers * args.threads)
        warm_up(hello_url, args.workers * args.threads)
        clients = {"staff": Client(app_url).sign_in(dataset.staff_email)}
        clients["coordinator"] = Client(app_url).sign_in(COORDINATOR_EMAIL)
        where = paths(app_url, clients["staff"], dataset)
        for page in PAGES:
            if args.pages and page.key not in args.pages:
                continue
            print(f"  {page.label}...", file=sys.stderr, flush=True)
            client = clients[page.who] if page.who else None
            rows.append(measure(page, where[page.key], client, app_url, hello_url, args))
    if "Traceback" in log.read_text(errors="replace"):
        print(f"The server logged errors:\n{log.read_text()}", file=sys.stderr)
    return {
        "dataset": dataset.summary,
        "built_seconds": dataset.built_seconds,
        "gunicorn": f"{args.workers} workers, {args.worker_class}"
        + (f", {args.threads} threads" if args.threads > 1 else ""),
        "wrk": f"{args.connections} connections, {args.seconds} s each",
        "sequential_runs": args.runs,
        "load_average_before": load_before,
        "load_average_after": _uptime(),
        "cpus": os.cpu_count(),
        "rows": [asdict(row) for row in rows],
    }


def _figure(value: float | None, pattern: str) -> str:
    return "–" if value is None or value != value else format(value, pattern)


def print_table(result: dict) -> None:
    print(
        f"\n{result['dataset']}; gunicorn {result['gunicorn']}; wrk {result['wrk']}; "
        f"{result['cpus']} CPUs; load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after (1, 5, 15 min)."
    )
    if result["built_seconds"] is not None:
        print(f"Generating the dataset took {result['built_seconds']:.0f} s.")
    print(f"Sequential: median of {result['sequential_runs']} requests one after another.\n")
    header = f"{'page':50} {'req/s':>8} {'p99 ms':>8} {'hello/s':>8} {'ratio':>7} {'seq. ms':>8} {'KiB':>7}  notes"
    print(header)
    print("-" * len(header))
    for row in result["rows"]:
        notes = list(row["notes"])
        if row["us_per_event"] is not None:
            notes.insert(0, f"{row['events']:,} events, {row['us_per_event']:.0f} µs/event")
        print(
            f"{row['label']:50} {row['page']['requests_per_second']:8.1f} {_figure(row['page']['p99_ms'], '8.0f'):>8}"
            f" {row['hello']['requests_per_second']:8.0f} {row['ratio']:7.{1 if row['ratio'] >= 0.01 else 2}%}"
            f" {_figure(row['sequential_ms'], '8.0f'):>8} {row['bytes'] / 1024:7.0f}  {'; '.join(notes)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="use a fresh schema on this PostgreSQL server, not SQLite")
    parser.add_argument(
        "--reuse",
        metavar="FILE_OR_SCHEMA",
        help="SQLite file (or, with --postgres, schema) to keep and reuse: generated only when missing",
    )
    parser.add_argument("--seconds", type=int, default=5, help="wrk run per page and per hello-world (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread (default sync)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1)")
    parser.add_argument("--runs", type=int, default=5, help="sequential requests per slow page, median (default 5)")
    keys = ",".join(page.key for page in PAGES)
    parser.add_argument("--pages", type=lambda s: s.split(","), help=f"a subset of: {keys}")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    if args.pages and set(args.pages) - {page.key for page in PAGES}:
        parser.error(f"--pages takes some of: {keys}")
    if not Path(WRK).exists():
        parser.error("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        work_dir = Path(tmp)
        if args.postgres:
            schema = args.reuse or f"bench_pages_{os.getpid()}"
            url = postgres_url(args.postgres, schema)
            if not args.reuse:
                _run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            _run_sql(url, f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            try:
                result = run(args, url, work_dir)
            finally:
                if not args.reuse:
                    _run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            file = Path(args.reuse).resolve() if args.reuse else work_dir / "bench.db"
            result = run(args, f"sqlite:///{file}", work_dir)
    print_table(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
