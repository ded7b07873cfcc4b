"""How long the public calendar feed takes to build for 2,000 sessions, and to revalidate.

Builds a throwaway SQLite database through the app's own models (2,000 published sessions
over the next year, with courses, venues and trainers), then times, as the median of several
runs:

  query (feeds.public)      the query: one (session, options) pair per session
  write (writer.feed)       the iCalendar text, written directly
  feeds.public + write      both, as the route does them on a cache miss (also per event)
  HTTP GET, built           GET /calendars/public.ics through Flask's test client, cache emptied
  HTTP GET, cached          the same GET when the bytes for this validator are in the cache
  HTTP 304                  the GET with If-None-Match, as a calendar program polls (median of 200)
  icalendar alone           Calendar.to_ical() of the same sessions as prebuilt Event objects

Not a test: it prints figures and checks nothing but that every run gives the same bytes.

    .venv/bin/python scripts/bench_calendar_feed.py
    .venv/bin/python scripts/bench_calendar_feed.py --sessions 5000 --runs 7
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

import sqlalchemy as sa  # noqa: E402

from trainapp import create_app  # noqa: E402
from trainapp.accounts.models import Role, User  # noqa: E402
from trainapp.calendars import feeds, ical  # noqa: E402
from trainapp.calendars.events import event_for, write_feed  # noqa: E402
from trainapp.calendars.models import CachedFeed  # noqa: E402
from trainapp.catalogue.models import (  # noqa: E402
    Course,
    CourseStatus,
    DeliveryMode,
    Programme,
    TrainingSession,
    Venue,
)
from trainapp.config import test_config  # noqa: E402
from trainapp.db import utcnow  # noqa: E402
from trainapp.extensions import db  # noqa: E402


def seed(count: int) -> None:
    """``count`` sessions of 40 published courses at 20 venues, led by 10 trainers."""
    programmes = [Programme(name=f"Programme {n}", description="") for n in range(4)]
    courses = [
        Course(
            programme=programmes[n % 4],
            title=f"Course {n}: safeguarding, risk; and \\ practice",
            summary="What it covers, who it is for, and what to bring.\nSecond paragraph.",
            audience="",
            duration_minutes=180,
            cpd_hours=3,
            eligible_kinds=[],
            default_capacity=20,
            status=CourseStatus.PUBLISHED,
        )
        for n in range(40)
    ]
    venues = [Venue(name=f"Venue {n}", address=f"Room {n}\n{n} High Street\nTown") for n in range(20)]
    trainers = [
        User(email=f"trainer{n}@example.org", name=f"Trainer {n}", role=Role.TRAINER, active=True, password_hash="!")  # noqa: S106 - no password: nobody signs in as them
        for n in range(10)
    ]
    db.session.add_all(programmes + courses + venues + trainers)
    start = utcnow().replace(hour=9, minute=30, second=0, microsecond=0) + timedelta(days=1)
    for n in range(count):
        starts_at = start + timedelta(days=n * 360 // count, hours=(n % 3) * 2)
        online = n % 5 == 0
        db.session.add(
            TrainingSession(
                course=courses[n % 40],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=3),
                delivery_mode=DeliveryMode.ONLINE if online else DeliveryMode.IN_PERSON,
                venue=None if online else venues[n % 20],
                joining_link=f"https://meet.example.org/{n}" if online else "",
                capacity=20,
                trainers=[trainers[n % 10]],
                notes="Parking behind the building." if n % 2 else "",
            )
        )
    db.session.commit()


def median_seconds(run: Callable[[], object], runs: int, *, fresh_session: bool = True) -> tuple[float, object]:
    times, result = [], None
    run()  # warm up: imports, compiled queries, connection pool
    for _ in range(runs):
        if fresh_session:
            db.session.remove()  # each run loads from the database, as a request would
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000, help="how many sessions (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row, median shown (default 5)")
    parser.add_argument("--revalidations", type=int, default=200, help="timed 304 answers, median shown (default 200)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(test_config(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp)))
        timezone = app.config["TIMEZONE"]
        name = f"{app.config['ORGANISATION_NAME']}: training sessions"
        results = {}
        with app.app_context():
            db.create_all()
            seed(args.sessions)

            def query():
                return feeds.public(utcnow())

            def route_work():
                return write_feed(feeds.public(utcnow()), name)

            prebuilt = feeds.public(utcnow())
            assert len(prebuilt) == args.sessions, f"{len(prebuilt)} events, expected {args.sessions}"
            events = [event_for(session, options) for session, options in prebuilt]

            def write():
                return write_feed(prebuilt, name)

            def icalendar_alone():
                return ical.feed(events, name, timezone=timezone)

            for label, run in [
                ("query (feeds.public)", query),
                ("write (writer.feed)", write),
                ("feeds.public + write", route_work),
                ("icalendar alone: to_ical()", icalendar_alone),
            ]:
                results[label] = median_seconds(run, args.runs)
            db.session.remove()

        # Outside any app context, as in production: each request has its own context and session.
        client = app.test_client()

        def empty_cache():
            with app.app_context():
                db.session.execute(sa.delete(CachedFeed))
                db.session.commit()

        def http_get(*, built: bool):
            if built:
                empty_cache()
            began = time.perf_counter()
            response = client.get("/calendars/public.ics")
            took = time.perf_counter() - began
            assert response.status_code == 200
            return took, response.data

        for label, built in [("HTTP GET, built", True), ("HTTP GET, cached", False)]:
            http_get(built=built)
            runs = [http_get(built=built) for _ in range(args.runs)]
            results[label] = (statistics.median(took for took, _ in runs), runs[-1][1])
        etag = client.get("/calendars/public.ics").headers["ETag"]

        def http_304():
            response = client.get("/calendars/public.ics", headers={"If-None-Match": etag})
            assert response.status_code == 304
            return None

        results["HTTP 304 (If-None-Match)"] = median_seconds(http_304, args.revalidations, fresh_session=False)
        feed_bytes = results["feeds.public + write"][1]
        assert results["HTTP GET, built"][1] == feed_bytes, "the route gave other bytes"
        assert results["HTTP GET, cached"][1] == feed_bytes, "the cache gave other bytes"
        with app.app_context():
            assert route_work() == feed_bytes, "the same data gave different bytes"
            db.session.remove()
            db.engine.dispose()

    baseline = results["icalendar alone: to_ical()"][0]
    print(
        f"Public feed, {args.sessions} sessions, {len(feed_bytes) / 1024:.0f} KiB, "
        f"median of {args.runs} runs (SQLite, Python {sys.version.split()[0]})"
    )
    print(f"{'':34}{'ms':>9}{'vs icalendar':>14}")
    for label in [
        "query (feeds.public)",
        "write (writer.feed)",
        "feeds.public + write",
        "HTTP GET, built",
        "HTTP GET, cached",
        "HTTP 304 (If-None-Match)",
        "icalendar alone: to_ical()",
    ]:
        seconds = results[label][0]
        digits, ratio_digits = (1, 3) if seconds < 0.1 else (0, 1)
        print(f"{label:34}{seconds * 1000:9.{digits}f}{seconds / baseline:13.{ratio_digits}f}x")
    for label in ["write (writer.feed)", "feeds.public + write", "icalendar alone: to_ical()"]:
        print(f"{label + ' per event':44}{results[label][0] / args.sessions * 1e6:6.0f} µs")


if __name__ == "__main__":
    main()
