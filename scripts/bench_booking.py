"""How long 50 people booking a 10-place session at once take, against one after another.

For SQLite, and for PostgreSQL when --postgres (or TEST_DATABASE_URL) gives a server,
this starts ``gunicorn --workers 4 wsgi:app`` on a fresh, migrated database, seeds 50
people and signs each of them in, then times, on a fresh session each time:

  concurrent  the 50 booking POSTs released together by a barrier, one thread each;
  serial      the same 50 POSTs made by one client, one after another.

Only the booking POSTs are timed (not signing in). Each round prints the
confirmed/waiting counts as a check: 10/40 every time, or something is wrong.

    .venv/bin/python scripts/bench_booking.py
    .venv/bin/python scripts/bench_booking.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.concurrency.harness import (  # noqa: E402
    Browser,
    Server,
    add_session,
    create_postgres_schema,
    drop_postgres_schema,
    one_after_another,
    postgres_url,
    race,
    seed_scenario,
    session_state,
    signed_in_browsers,
    sqlite_url,
)


@dataclass
class Round:
    concurrent: float
    serial: float
    concurrent_counts: str
    serial_counts: str
    failures: int


def _counts(server: Server, session_id: int) -> str:
    state = session_state(server.app, session_id)
    return f"{state.statuses['confirmed']}/{state.statuses['waiting']}"


def _booking_posts(browsers: list[Browser], session_id: int) -> list[Callable[[], requests.Response]]:
    return [lambda b=b: b.post(f"/sessions/{session_id}/book", {}) for b in browsers]


def bench(server: Server, *, people: int, capacity: int, rounds: int) -> list[Round]:
    scenario = seed_scenario(server.app, people=people, capacity=capacity)
    first_form = f"/sessions/{scenario.session_id}/book"
    browsers = signed_in_browsers(server.base_url, scenario.people, lambda person: first_form)
    results = []
    try:
        for _ in range(rounds):
            together, in_turn = add_session(server.app, scenario), add_session(server.app, scenario)
            concurrent = race(_booking_posts(browsers, together))
            serial = one_after_another(_booking_posts(browsers, in_turn))
            results.append(
                Round(
                    concurrent.seconds,
                    serial.seconds,
                    _counts(server, together),
                    _counts(server, in_turn),
                    len(concurrent.server_errors) + len(serial.server_errors),
                )
            )
    finally:
        for browser in browsers:
            browser.close()
    return results


def run_backend(name: str, url: str, work_dir: Path, args) -> tuple[list[Round], bool]:
    """The rounds measured, and whether the server's log stayed free of errors."""
    print(f"{name}: starting gunicorn with {args.workers} workers...", file=sys.stderr)
    with Server(url, work_dir, workers=args.workers) as server:
        server.migrate()
        server.start()
        rounds = bench(server, people=args.people, capacity=args.capacity, rounds=args.rounds)
        log = server.log()
    clean = "database is locked" not in log and "Traceback" not in log
    if not clean:
        print(f"{name}: the server logged errors:\n{log}", file=sys.stderr)
    return rounds, clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: TEST_DATABASE_URL); the run uses a schema of its own",
    )
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="measurements per backend; the median is shown")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    results: dict[str, tuple[list[Round], bool]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-booking-") as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        results["sqlite"] = run_backend("sqlite", sqlite_url(sqlite_dir), sqlite_dir, args)
        if args.postgres:
            schema = f"trainapp_bench_{os.getpid()}"
            url = postgres_url(args.postgres, schema)
            create_postgres_schema(url, schema)
            postgres_dir = Path(tmp) / "postgresql"
            postgres_dir.mkdir()
            try:
                results["postgresql"] = run_backend("postgresql", url, postgres_dir, args)
            finally:
                drop_postgres_schema(url, schema)
        else:
            print("postgresql: skipped (give --postgres URL or set TEST_DATABASE_URL)", file=sys.stderr)

    expected = f"{args.capacity}/{args.people - args.capacity}"
    print(
        f"\n{args.people} people, {args.capacity} places, {args.workers} gunicorn workers, "
        f"median of {args.rounds} rounds (booking POSTs only)\n"
    )
    print(
        f"{'backend':<11} {'concurrent':>11} {'serial':>9} {'ratio':>7}   "
        "confirmed/waiting, concurrent then serial, each round"
    )
    ok = True
    for name, (rounds, clean_log) in results.items():
        concurrent = statistics.median(r.concurrent for r in rounds)
        serial = statistics.median(r.serial for r in rounds)
        counts = [c for r in rounds for c in (r.concurrent_counts, r.serial_counts)]
        failures = sum(r.failures for r in rounds)
        ok = ok and clean_log and failures == 0 and all(c == expected for c in counts)
        check = " ".join(counts) + (f"  {failures} FAILED REQUESTS" if failures else "")
        check += "" if clean_log else "  ERRORS IN THE SERVER LOG"
        print(f"{name:<11} {concurrent:>10.2f}s {serial:>8.2f}s {concurrent / serial:>6.2f}x   {check}")
    if not ok:
        print(
            f"\nCHECK FAILED: every round should give {expected}, with no failed requests or logged errors",
            file=sys.stderr,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
