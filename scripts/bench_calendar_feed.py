"""How long the public calendar feed takes to build for 2,000 sessions, against icalendar alone.

Builds a throwaway SQLite database through the app's own models (2,000 published sessions
over the next two years, with courses, venues and trainers), then times, as the median of
several runs:

  query + events        feeds.public(): the query and one icalendar Event per session
  serialise             ical.feed(): VCALENDAR, VTIMEZONE, sorting, to_ical()
  feeds.public + feed   both, as the route does them
  HTTP GET              GET /calendars/public.ics through Flask's test client
  icalendar alone       Calendar.to_ical() of the same 2,000 prebuilt Event objects

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

from icalendar import Calendar  # noqa: E402

from trainapp import create_app  # noqa: E402
from trainapp.accounts.models import Role, User  # noqa: E402
from trainapp.calendars import feeds, ical  # noqa: E402
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
        starts_at = start + timedelta(days=n * 730 // count, hours=(n % 3) * 2)
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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(test_config(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp)))
        timezone = app.config["TIMEZONE"]
        name = f"{app.config['ORGANISATION_NAME']}: training sessions"
        results = {}
        with app.app_context():
            db.create_all()
            seed(args.sessions)

            def query_and_events():
                return feeds.public(utcnow()).events

            def route_work():
                return ical.feed(feeds.public(utcnow()).events, name, timezone=timezone)

            prebuilt = feeds.public(utcnow()).events
            assert len(prebuilt) == args.sessions, f"{len(prebuilt)} events, expected {args.sessions}"

            def serialise():
                return ical.feed(prebuilt, name, timezone=timezone)

            def icalendar_alone():
                calendar = Calendar()
                calendar.add("prodid", ical.PRODID)
                calendar.add("version", "2.0")
                for event in prebuilt:
                    calendar.add_component(event)
                return calendar.to_ical()

            for label, run in [
                ("query + events (feeds.public)", query_and_events),
                ("serialise (ical.feed)", serialise),
                ("feeds.public + ical.feed", route_work),
                ("icalendar alone: to_ical()", icalendar_alone),
            ]:
                results[label] = median_seconds(run, args.runs)
            db.session.remove()

        # Outside any app context, as in production: each request has its own context and session.
        client = app.test_client()

        def http_get():
            response = client.get("/calendars/public.ics")
            assert response.status_code == 200
            return response.data

        results["HTTP GET /calendars/public.ics"] = median_seconds(http_get, args.runs, fresh_session=False)
        feed_bytes = results["feeds.public + ical.feed"][1]
        assert results["HTTP GET /calendars/public.ics"][1] == feed_bytes, "the route gave other bytes"
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
        "query + events (feeds.public)",
        "serialise (ical.feed)",
        "feeds.public + ical.feed",
        "HTTP GET /calendars/public.ics",
        "icalendar alone: to_ical()",
    ]:
        seconds = results[label][0]
        print(f"{label:34}{seconds * 1000:9.0f}{seconds / baseline:13.1f}x")


if __name__ == "__main__":
    main()
