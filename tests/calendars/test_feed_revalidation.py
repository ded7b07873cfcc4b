"""Feeds polled by calendar programs: "has anything changed?" is answered without building the
feed, and a feed already built is served again from the shared cache."""

from datetime import timedelta

import pytest

from tests.calendars.test_feeds import _old, at, book, details_of, events, personal_url, trainer_url, uid
from tests.factories import make_course, make_programme, make_session, make_user
from tests.support import counting_queries
from trainapp.accounts.models import Role
from trainapp.bookings import services, session_lifecycle
from trainapp.calendars import feeds, routes, writer
from trainapp.db import utcnow

KINDS = ["personal", "trainer", "public", "public-programme", "public-course"]


@pytest.fixture
def now(db):
    return utcnow().replace(microsecond=0)


@pytest.fixture
def builds(monkeypatch):
    """How many times a feed was loaded and written."""
    calls = []
    for module, name in [(feeds, "personal"), (feeds, "trainer"), (feeds, "public"), (writer, "feed")]:
        original = getattr(module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return calls


class World:
    """A learner, a trainer and a programme with sessions they are in, all last changed days ago."""

    def __init__(self, db, now, sessions=1):
        self.db, self.now = db, now
        self.learner = make_user(Role.STAFF)
        self.trainer = make_user(Role.TRAINER)
        self.programme = make_programme(f"Safeguarding {self.learner.id}")
        self.course = make_course(programme=self.programme)
        self.sessions = [
            make_session(course=self.course, starts_at=at(now, 3 + n, 9), trainers=[self.trainer])
            for n in range(sessions)
        ]
        self.bookings = [book(session, self.learner, now - timedelta(days=2)) for session in self.sessions]
        self.session = self.sessions[0]
        self.make_old()

    def make_old(self):
        for session in self.sessions:
            _old(session, session.course, session.venue, now=self.now, days=3)
        _old(*self.bookings, now=self.now, days=2)
        self.db.session.commit()

    def url(self, kind):
        return {
            "personal": personal_url(self.learner),
            "trainer": trainer_url(self.trainer),
            "public": "/calendars/public.ics",
            "public-programme": f"/calendars/public.ics?programme={self.programme.id}",
            "public-course": f"/calendars/public.ics?course={self.course.id}",
        }[kind]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
def test_a_304_builds_nothing_and_runs_the_same_few_queries_however_big_the_feed(
    app, db, client, now, builds, kind, header
):
    counts = []
    for size in (1, 20):
        world = World(db, now, sessions=size)
        url = world.url(kind)
        first = client.get(url)
        assert len(events(first)) == size
        builds.clear()
        value = first.headers["ETag"] if header == "If-None-Match" else first.headers["Last-Modified"]
        with counting_queries(db.engine) as statements:
            answer = client.get(url, headers={header: value})
        assert answer.status_code == 304 and answer.data == b""
        assert builds == []
        counts.append(len(statements))
        world.course.status = "draft"  # the next size's sessions are the only ones in the public feed
        db.session.flush()
        _old(world.course, now=now, days=3)
        db.session.commit()
    assert counts[0] == counts[1] <= 4, counts


@pytest.mark.parametrize("kind", KINDS)
def test_a_second_get_is_served_from_the_cache_without_a_build(db, client, now, builds, kind):
    world = World(db, now, sessions=3)
    url = world.url(kind)
    first = client.get(url)
    assert "feed" in builds
    builds.clear()
    with counting_queries(db.engine) as statements:
        second = client.get(url)
    assert builds == []
    assert second.status_code == 200 and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert len(statements) <= 5, "\n".join(statements)


def _move(world, coordinator):
    session = world.session
    moved = session.starts_at + timedelta(hours=2)
    session_lifecycle.change_session(
        session.id, details_of(session, starts_at=moved, ends_at=moved + timedelta(hours=2)), by=coordinator
    )


def _cancel(world, coordinator):
    session_lifecycle.cancel_session(world.session.id, by=coordinator, reason="Trainer unwell")


def _rename_venue(world, coordinator):
    world.session.venue.name = "The New Hall"


def _retitle_course(world, coordinator):
    world.session.course.title = "Safeguarding, renamed"


def _change_trainer(world, coordinator):
    other = make_user(Role.TRAINER, name="Olive Other")
    session_lifecycle.change_session(world.session.id, details_of(world.session, trainers=[other]), by=coordinator)


def _book(world, coordinator):
    extra = make_session(course=world.course, starts_at=at(world.now, 20, 9), trainers=[world.trainer])
    _old(extra, now=world.now, days=3)
    services.book_place(extra.id, world.learner, by=world.learner)


def _cancel_booking(world, coordinator):
    services.cancel_booking(world.bookings[0].id, by=world.learner)


def _publish_session(world, coordinator):
    make_session(course=world.course, starts_at=at(world.now, 30, 9), trainers=[world.trainer])


def _publish_course(world, coordinator):
    draft = make_course(programme=world.programme, status="draft")
    make_session(course=draft, starts_at=at(world.now, 30, 9))
    world.make_old()
    world.db.session.commit()
    draft.status = "published"


CHANGES = {
    "session time changed": (_move, ["personal", "trainer", "public", "public-programme", "public-course"]),
    "session cancelled": (_cancel, ["personal", "trainer", "public", "public-programme", "public-course"]),
    "venue renamed": (_rename_venue, ["personal", "trainer", "public", "public-programme", "public-course"]),
    "course retitled": (_retitle_course, ["personal", "trainer", "public", "public-programme", "public-course"]),
    "trainer changed": (_change_trainer, ["trainer"]),
    "booking made": (_book, ["personal"]),
    "booking cancelled": (_cancel_booking, ["personal"]),
    "new session published": (_publish_session, ["public", "public-programme", "public-course"]),
    "course published": (_publish_course, ["public", "public-programme"]),
}


@pytest.mark.parametrize(
    ("change", "kind"), [(change, kind) for change, (_, kinds) in CHANGES.items() for kind in kinds]
)
@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
def test_every_change_a_feed_shows_changes_its_validator(db, client, now, change, kind, header):
    world = World(db, now, sessions=2)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    url = world.url(kind)
    first = client.get(url)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    CHANGES[change][0](world, coordinator)
    db.session.commit()
    value = first.headers["ETag"] if header == "If-None-Match" else first.headers["Last-Modified"]
    answer = client.get(url, headers={header: value})
    assert answer.status_code == 200, change
    assert answer.headers["ETag"] != first.headers["ETag"]
    assert answer.data != first.data
    assert client.get(url).data == answer.data  # the cache holds the new feed, not the old one


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
def test_a_session_moving_out_of_the_window_changes_the_validator(db, client, now, kind, header, monkeypatch):
    world = World(db, now, sessions=1)
    ending = make_session(course=world.course, starts_at=now - feeds.WINDOW - timedelta(hours=1), hours=2)
    ending.trainers = [world.trainer]
    world.bookings.append(book(ending, world.learner, now))
    world.sessions.append(ending)
    world.make_old()
    url = world.url(kind)
    first = client.get(url)
    assert uid(ending) in events(first)

    monkeypatch.setattr(routes, "utcnow", lambda: now + timedelta(hours=2))
    value = first.headers["ETag"] if header == "If-None-Match" else first.headers["Last-Modified"]
    answer = client.get(url, headers={header: value})
    assert answer.status_code == 200 and uid(ending) not in events(answer)
    assert answer.headers["ETag"] != first.headers["ETag"]


def test_a_session_coming_into_the_public_horizon_changes_the_validator(app, db, client, now, monkeypatch):
    months = app.config["PUBLIC_FEED_MONTHS_AHEAD"]
    world = World(db, now, sessions=1)
    later = make_session(course=world.course, starts_at=feeds.horizon(now, months) + timedelta(hours=1))
    world.sessions.append(later)
    world.make_old()
    first = client.get("/calendars/public.ics")
    assert uid(later) not in events(first)

    monkeypatch.setattr(routes, "utcnow", lambda: now + timedelta(hours=2))
    for headers in ({"If-None-Match": first.headers["ETag"]}, {"If-Modified-Since": first.headers["Last-Modified"]}):
        answer = client.get("/calendars/public.ics", headers=headers)
        assert answer.status_code == 200 and uid(later) in events(answer)


def test_the_public_feed_covers_30_days_ago_to_the_configured_horizon(app, db, client, now):
    assert app.config["PUBLIC_FEED_MONTHS_AHEAD"] == 12
    shown = {
        "29 days ago": make_session(starts_at=at(now, -29, 10)),
        "11 months ahead": make_session(starts_at=at(now, 11 * 30, 10)),
    }
    hidden = {
        "31 days ago": make_session(starts_at=at(now, -31, 10)),
        "13 months ahead": make_session(starts_at=at(now, 13 * 31, 10)),
    }
    feed = events(client.get("/calendars/public.ics"))
    assert {uid(s) for s in shown.values()} <= set(feed)
    assert not {uid(s) for s in hidden.values()} & set(feed)


def test_the_public_horizon_is_a_setting(app, db, client, now):
    far = make_session(starts_at=at(now, 13 * 31, 10))
    app.config["PUBLIC_FEED_MONTHS_AHEAD"] = 18
    try:
        assert uid(far) in events(client.get("/calendars/public.ics"))
    finally:
        app.config["PUBLIC_FEED_MONTHS_AHEAD"] = 12
    assert uid(far) not in events(client.get("/calendars/public.ics"))
