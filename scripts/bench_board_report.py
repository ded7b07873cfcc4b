"""How long the board report takes for a large partnership, on SQLite and PostgreSQL.

For each database this makes a fresh, empty one (SQLite: a new file in a temporary folder;
PostgreSQL: a new schema on the server named by --postgres or TEST_DATABASE_URL, dropped
afterwards), creates the tables, generates the large dataset (``flask demo-data --scale
large``: about 50 agencies, 20,000 people, 9,000 sessions over three years and 150,000
bookings) and times that, then times, as the median of several runs, each with a fresh
database session as a request would have:

  board report, 3 years            queries.board_report() over the dataset's three years
  board report, 1 quarter          the last full quarter
  board report, 3 years, 1 agency  what an agency lead sees
  board report, 1 quarter, 1 prog  one programme's quarter
  coverage, every agency           queries.coverage() for a coordinator
  GET /reports/board, 3 years      the whole page (queries, charts, template) as a coordinator
  GET /reports/board.csv, 1 qtr    the agencies table as CSV
  GET /reports/board, 1 quarter    the whole page for the last full quarter
  GET /reports/coverage            coverage of every agency's targets
  GET /refreshers                  the first page of refreshers due, everyone's
  GET /funding                     the funding dashboard

PostgreSQL is ANALYZEd after the load, as autovacuum would do within a minute of it.
SQLite is timed as loaded (nothing analyses it unless someone runs ANALYZE), then again
after ANALYZE, in a third column: its query planner chooses very differently with statistics.

    .venv/bin/python scripts/bench_board_report.py
    .venv/bin/python scripts/bench_board_report.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import sqlalchemy as sa  # noqa: E402

from trainapp import create_app  # noqa: E402
from trainapp.accounts.models import Agency, User  # noqa: E402
from trainapp.attendance.models import Evaluation  # noqa: E402
from trainapp.bookings.models import Booking  # noqa: E402
from trainapp.catalogue.models import Programme, TrainingSession  # noqa: E402
from trainapp.config import test_config  # noqa: E402
from trainapp.db import utcnow  # noqa: E402
from trainapp.demo import DEMO_PASSWORD  # noqa: E402
from trainapp.demo.large import COORDINATOR_EMAIL, LARGE, load_large  # noqa: E402
from trainapp.extensions import db  # noqa: E402
from trainapp.funding.models import Charge, CostLine  # noqa: E402
from trainapp.reports import queries, services  # noqa: E402
from trainapp.timezones import to_local  # noqa: E402

SCHEMA = f"bench_board_report_{os.getpid()}"
ROWS = [
    "board report, 3 years",
    "board report, 1 quarter",
    "board report, 3 years, 1 agency",
    "board report, 1 quarter, 1 prog",
    "coverage, every agency",
    "GET /reports/board, 3 years",
    "GET /reports/board.csv, 1 qtr",
    "GET /reports/board, 1 quarter",
    "GET /reports/coverage",
    "GET /refreshers",
    "GET /funding",
]


def _without_options(url: str) -> str:
    return re.sub(r"[?&]options=[^&]*", "", url)


def postgres_url(base_url: str) -> str:
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", base_url)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"


def _run_sql(url: str, statement: str) -> None:
    engine = sa.create_engine(_without_options(url))
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def median_seconds(run: Callable[[], object], runs: int) -> float:
    run()  # warm up: imports, compiled queries, the database's cache
    times = []
    for _ in range(runs):
        db.session.remove()
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _made() -> SimpleNamespace:
    """What the dataset holds, counted back from the database (it may have been loaded earlier)."""

    def count(model):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    first = db.session.scalar(sa.select(sa.func.min(TrainingSession.starts_at)))
    return SimpleNamespace(
        agencies=count(Agency),
        people=count(User),
        sessions=count(TrainingSession),
        bookings=count(Booking),
        evaluations=count(Evaluation),
        cost_lines=count(CostLine),
        charges=count(Charge),
        first_day=to_local(first).date(),
    )


def dates(start: date, end: date) -> str:
    return f"start={start.day}&start={start.month}&start={start.year}&end={end.day}&end={end.month}&end={end.year}"


def bench(
    name: str, url: str, instance: Path, runs: int, *, load: bool = True, analyse: bool = False
) -> tuple[float | None, dict[str, float], str]:
    app = create_app(test_config(url, instance))
    results: dict[str, float] = {}
    with app.app_context():
        generated = None
        if load:
            db.create_all()
            began = time.perf_counter()
            load_large(LARGE)
            db.session.commit()
            generated = time.perf_counter() - began
        if analyse:
            with db.engine.begin() as connection:
                connection.execute(sa.text("ANALYZE"))
        made = _made()
        summary = (
            f"{made.agencies} agencies, {made.people:,} people, {made.sessions:,} sessions, "
            f"{made.bookings:,} bookings, {made.evaluations:,} evaluations, {made.cost_lines:,} cost lines, "
            f"{made.charges:,} charges"
        )
        now = utcnow()
        today = to_local(now).date()
        quarter = services.preset_range("last-quarter", today)
        agency_id = db.session.scalar(sa.select(Agency.id).order_by(Agency.id))
        programme_id = db.session.scalar(sa.select(Programme.id).order_by(Programme.id))
        three_years = queries.ReportFilters(made.first_day, today)
        cases = {
            ROWS[0]: lambda: queries.board_report(three_years, now),
            ROWS[1]: lambda: queries.board_report(queries.ReportFilters(*quarter), now),
            ROWS[2]: lambda: queries.board_report(
                queries.ReportFilters(made.first_day, today, agency_id=agency_id), now
            ),
            ROWS[3]: lambda: queries.board_report(queries.ReportFilters(*quarter, programme_id=programme_id), now),
            ROWS[4]: lambda: queries.coverage(today),
        }
        for label, run in cases.items():
            results[label] = median_seconds(run, runs)
        report = queries.board_report(three_years, now)
        print(
            f"  {name}: three years: {report.summary.sessions_run:,} sessions run, {report.summary.booked:,} "
            f"places booked, fill rate {report.summary.fill_rate:.1%}, show rate {report.summary.show_rate:.1%}",
            flush=True,
        )
        db.session.remove()

    from tests.factories import sign_in

    client = app.test_client()
    with app.app_context():
        coordinator = db.session.scalar(sa.select(User).where(User.email == COORDINATOR_EMAIL))
        assert sign_in(client, coordinator, password=DEMO_PASSWORD).status_code == 302
        db.session.remove()

    def page(path: str) -> Callable[[], object]:
        def get():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response.data

        return get

    with app.app_context():
        results[ROWS[5]] = median_seconds(page(f"/reports/board?{dates(made.first_day, today)}"), runs)
        results[ROWS[6]] = median_seconds(page(f"/reports/board.csv?table=agencies&{dates(*quarter)}"), runs)
        results[ROWS[7]] = median_seconds(page(f"/reports/board?{dates(*quarter)}"), runs)
        results[ROWS[8]] = median_seconds(page("/reports/coverage"), runs)
        results[ROWS[9]] = median_seconds(page("/refreshers"), runs)
        results[ROWS[10]] = median_seconds(page("/funding"), runs)
        db.session.remove()
        db.engine.dispose()
    return generated, results, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="a PostgreSQL server to use a fresh schema on (default: TEST_DATABASE_URL)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row, median shown (default 5)")
    args = parser.parse_args()

    columns: dict[str, tuple[float | None, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite: generating the large dataset...", flush=True)
        sqlite = f"sqlite:///{Path(tmp) / 'bench.db'}"
        generated, results, summary = bench("SQLite", sqlite, Path(tmp), args.runs)
        columns["SQLite"] = (generated, results)
        _, results, _ = bench("SQLite, analysed", sqlite, Path(tmp), args.runs, load=False, analyse=True)
        columns["SQLite+ANALYZE"] = (None, results)
        if args.postgres:
            url = postgres_url(args.postgres)
            _run_sql(url, f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
            _run_sql(url, f'CREATE SCHEMA "{SCHEMA}"')
            try:
                print("PostgreSQL: generating the large dataset...", flush=True)
                generated, results, _ = bench("PostgreSQL", url, Path(tmp), args.runs, analyse=True)
                columns["PostgreSQL"] = (generated, results)
            finally:
                _run_sql(url, f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        else:
            print("PostgreSQL: skipped (give --postgres URL or set TEST_DATABASE_URL)")

    print()
    print(f"Large partnership: {summary}. Median of {args.runs} runs, Python {sys.version.split()[0]}.")
    names = list(columns)
    print(f"{'':36}" + "".join(f"{n:>16}" for n in names))
    print(
        f"{'generating the dataset (s)':36}"
        + "".join(f"{columns[n][0]:16.1f}" if columns[n][0] is not None else f"{'–':>16}" for n in names)
    )
    for label in ROWS:
        print(f"{label + ' (ms)':36}" + "".join(f"{columns[n][1][label] * 1000:16.0f}" for n in names))


if __name__ == "__main__":
    main()
