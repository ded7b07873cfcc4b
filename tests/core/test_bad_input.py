"""No 500 for bad input: every route in the URL map, with malformed and out-of-range values.

Each route is asked for, by every method it allows, with bad values in place of each part of
its path, and (with a real path) with bad values in each query parameter its view reads. The
parameters are not listed by hand: the first, plain request to each page records every name
the view asks the query string for (``page`` on every paginated list), so a parameter added
later is tried too.
"""

import re
import time
from urllib.parse import quote, urlencode

import pytest
from werkzeug.datastructures import ImmutableMultiDict

from tests.core.test_access import build_world
from tests.factories import csrf_token, fresh_client, sign_in
from tests.pages import error_summary

# 2**31 is one past PostgreSQL's INTEGER, 2**63 one past SQLite's and BIGINT, 10**20 past both;
# the long one is past Python's own limit for turning digits into a number.
TOO_BIG = [str(2**31), str(2**63), str(10**20), "9" * 5000]
PATH_VALUES = TOO_BIG + ["-1", "0", "abc", "x" * 3000, "a\x00b"]
# Filters also take numbers with a point and months.
QUERY_VALUES = PATH_VALUES + ["1.5", "0000-01"]
ROLES = ["anonymous", "coordinator", "staff", "agency_lead"]
# Paths are matched before anyone's role is looked at, so three kinds of visitor are enough.
PATH_ROLES = ["anonymous", "coordinator", "staff"]

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _real_values(w) -> dict[str, str]:
    """A value that exists for every argument a route names, so a query parameter reaches its view."""
    return {
        "agency_id": w.home_agency.id,
        "allocation_id": w.allocation.id,
        "booking_id": w.staff_booking.id,
        "charge_id": w.charge.id,
        "cost_id": w.cost.id,
        "course_id": w.course.id,
        "filename": "css/app.css",
        "grant_id": w.grant.id,
        "import_id": w.staff_import.id,
        "message_id": w.failed_message.id,
        "needs_id": w.staff_needs.id,
        "programme_id": w.programme.id,
        "request_id": w.access_request.id,
        "reservation_id": w.reservation.id,
        "series_id": w.series.id,
        "session_id": w.session.id,
        "token": w.staff_token,
        "user_id": w.colleague.id,
        "venue_id": w.venue.id,
    }


class _RecordingArgs(ImmutableMultiDict):
    """A query string that remembers every name a view asked it for."""

    asked: set[str] = set()

    def __getitem__(self, key):
        _RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):  # noqa: A002 - the library's own parameter name
        _RecordingArgs.asked.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        _RecordingArgs.asked.add(key)
        return super().__contains__(key)


def _path(rule, values: dict[str, str]) -> str:
    return _ARGUMENT.sub(lambda m: quote(str(values[m.group("name")]), safe=""), rule.rule)


def _is_id(rule) -> bool:
    return any(m.group("converter") == "int" for m in _ARGUMENT.finditer(rule.rule))


def _methods(rule) -> list[str]:
    return [method for method in ("GET", "POST") if method in rule.methods]


@pytest.fixture
def crawl(app, db, monkeypatch):
    """Sends requests as one person at a time and keeps every response a person should never see."""
    recording = type("RecordingRequest", (app.request_class,), {"parameter_storage_class": _RecordingArgs})
    monkeypatch.setattr(app, "request_class", recording)
    world = build_world(db)
    real = _real_values(world)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    unknown = {m.group("name") for r in rules for m in _ARGUMENT.finditer(r.rule)} - real.keys()
    assert not unknown, f"give the crawl a real value for {sorted(unknown)} in _real_values"
    return world, real, rules


def _client_for(app, world, who):
    client = fresh_client(app)
    if who != "anonymous":
        assert sign_in(client, getattr(world.people, who)).status_code == 302
    token = csrf_token(client.get("/sign-in" if who == "anonymous" else "/"))
    return client, token


def _bad_paths(client, token, rules, who, failures) -> int:
    """Every route, by every method, with each bad value in place of its path's arguments."""
    sent = 0
    for rule in rules:
        for method in _methods(rule) if rule.arguments else []:
            data = {"csrf_token": token} if method == "POST" else None
            for value in PATH_VALUES:
                status = client.open(_path(rule, dict.fromkeys(rule.arguments, value)), method=method, data=data)
                sent += 1
                too_big = value in TOO_BIG and _is_id(rule)
                if status.status_code >= 500 or (too_big and status.status_code != 404):
                    failures.append(f"{method} {rule.rule} with {value[:20]!r} as {who}: {status.status_code}")
    return sent


def _bad_queries(client, rules, real, who, failures, read) -> int:
    """Every page, with each bad value in each query parameter its view reads."""
    sent = 0
    for rule in rules:
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = _path(rule, real)
        _RecordingArgs.asked = set()
        first = client.get(path)
        sent += 1
        if first.status_code >= 500:
            failures.append(f"GET {path} as {who}: {first.status_code}")
        names = set(_RecordingArgs.asked)
        read[who, rule.endpoint] = names
        for name in sorted(names):
            for value in QUERY_VALUES:
                status = client.get(f"{path}?{urlencode({name: value})}").status_code
                sent += 1
                if status >= 500:
                    failures.append(f"GET {rule.rule}?{name}={value[:20]!r} as {who}: {status}")
    return sent


def test_no_route_answers_500_to_a_bad_path_or_query_value(app, crawl, db):
    world, real, rules = crawl
    failures: list[str] = []
    read: dict[tuple[str, str], set[str]] = {}
    started, sent = time.monotonic(), 0
    for who in ROLES:
        client, token = _client_for(app, world, who)
        if who in PATH_ROLES:
            sent += _bad_paths(client, token, rules, who, failures)
        sent += _bad_queries(client, rules, real, who, failures, read)
    print(f"\n{sent} requests in {time.monotonic() - started:.1f} s on {db.engine.dialect.name}")
    # The recording saw what the views read: a paginated list's page, a calendar feed's filters.
    assert "page" in read["coordinator", "users.list_users"]
    assert {"programme", "course"} <= read["anonymous", "calendars.public_feed"]
    assert not failures, f"{len(failures)} answers a person should never see:\n" + "\n".join(failures)


def test_a_form_with_thousands_of_fields_is_refused_as_too_large(app, db):
    client = fresh_client(app)
    fields = "&".join(f"field{n}=1" for n in range(5000))

    response = client.post("/sign-in", data=fields, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "What you sent is too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/users?page=abc", 400),
        ("/users?page=1.5", 400),
        (f"/users?page={2**31}", 400),
        ("/users?page=0", 404),
        ("/users?page=99", 404),
        (f"/charges?agency={10**20}", 400),
        ("/charges?agency=-1", 400),
        ("/charges?agency=", 200),
        (f"/calendars/public.ics?course={2**63}", 400),
        ("/calendars/public.ics?course=0", 200),
    ],
)
def test_a_page_number_or_filter_id_the_database_cannot_hold_is_refused(app, db, query, status):
    client = fresh_client(app)
    sign_in(client, build_world(db).people.coordinator)

    assert client.get(query).status_code == status


def test_a_filter_chosen_from_a_list_says_what_is_wrong(app, db):
    client = fresh_client(app)
    sign_in(client, build_world(db).people.coordinator)

    page = client.get(f"/users?agency={2**31}")

    assert page.status_code == 200
    assert error_summary(page) == ["Choose agency from the list"]


def test_a_nul_character_in_a_form_is_a_bad_request(app, db):
    client = fresh_client(app)
    token = csrf_token(client.get("/sign-in"))

    response = client.post("/sign-in", data={"csrf_token": token, "email": "a\x00b@example.org", "password": "x"})

    assert response.status_code == 400
