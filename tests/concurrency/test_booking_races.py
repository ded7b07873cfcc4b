"""A place is sold at most once: many people at once, against gunicorn with 4 workers.

Every request is a real HTTP request from its own thread and cookie jar, all released
together by a barrier, on SQLite (WAL + BEGIN IMMEDIATE) and on PostgreSQL (row lock).
"""

import pytest

from tests.concurrency.harness import (
    Browser,
    HoldingMonitor,
    book_directly,
    booking_ids,
    race,
    seed_scenario,
    session_state,
    signed_in_browsers,
    subjects_sent_to,
)

pytestmark = pytest.mark.concurrency


def _book_path(session_id: int) -> str:
    return f"/sessions/{session_id}/book"


def _close(browsers: list[Browser]) -> None:
    for browser in browsers:
        browser.close()


def _assert_no_server_trouble(server, result) -> None:
    assert result.server_errors == [], f"some requests failed: {result.statuses}"
    assert set(result.statuses) <= {200, 302}, result.statuses
    log = server.log_since_mark()
    assert "database is locked" not in log, log
    assert "Traceback" not in log, log


def test_fifty_people_booking_ten_places_at_once_get_ten_places_and_forty_waiting(server):
    scenario = seed_scenario(server.app, people=50, capacity=10)
    book = _book_path(scenario.session_id)
    browsers = signed_in_browsers(server.base_url, scenario.people, lambda person: book)
    try:
        with HoldingMonitor(server.database_url, scenario.session_id) as monitor:
            result = race([lambda b=b: b.post(book, {}) for b in browsers])
    finally:
        _close(browsers)

    _assert_no_server_trouble(server, result)
    assert monitor.highest <= 10, f"{monitor.highest} places were held at one moment"
    state = session_state(server.app, scenario.session_id)
    assert state.statuses == {"confirmed": 10, "waiting": 40}
    assert state.places_taken == 10
    assert all(len(rows) == 1 for rows in state.by_user.values()) and len(state.by_user) == 50


def test_ten_identical_posts_from_one_person_make_one_booking(server):
    scenario = seed_scenario(server.app, people=1, capacity=10)
    book = _book_path(scenario.session_id)
    (first_tab,) = signed_in_browsers(server.base_url, scenario.people, lambda person: book)
    tabs = [first_tab] + [first_tab.twin() for _ in range(9)]
    try:
        result = race([lambda t=t: t.post(book, {}) for t in tabs])
    finally:
        _close(tabs)

    _assert_no_server_trouble(server, result)
    state = session_state(server.app, scenario.session_id)
    assert state.by_user == {scenario.people[0].id: ["confirmed"]}
    assert state.places_taken == 1
    assert [s.split(":")[0] for s in subjects_sent_to(server.app, scenario.people[0].email)] == ["Booked"]


def test_cancellations_racing_with_bookings_never_sell_more_than_the_capacity(server):
    scenario = seed_scenario(server.app, people=30, capacity=10)
    booked, newcomers = scenario.people[:10], scenario.people[10:]
    book_directly(server.app, scenario.session_id, booked)
    ids = booking_ids(server.app, scenario.session_id)
    leaving = booked[:5]
    book = _book_path(scenario.session_id)
    cancellers = signed_in_browsers(server.base_url, leaving, lambda person: f"/bookings/{ids[person.id]}/cancel")
    bookers = signed_in_browsers(server.base_url, newcomers, lambda person: book)
    calls = [
        lambda b=b, p=p: b.post(f"/bookings/{ids[p.id]}/cancel", {"reason": "Cannot make it"})
        for b, p in zip(cancellers, leaving, strict=True)
    ] + [lambda b=b: b.post(book, {}) for b in bookers]
    try:
        with HoldingMonitor(server.database_url, scenario.session_id) as monitor:
            result = race(calls)
    finally:
        _close(cancellers + bookers)

    _assert_no_server_trouble(server, result)
    assert monitor.samples > 0
    assert monitor.highest <= 10, f"{monitor.highest} places were held at one moment"
    state = session_state(server.app, scenario.session_id)
    # Every freed place went to someone: five cancelled, ten hold places, fifteen wait.
    assert state.statuses == {"confirmed": 10, "cancelled": 5, "waiting": 15}
    assert state.places_taken == state.holding == 10
    assert all(state.by_user[p.id] == ["cancelled"] for p in leaving)


def test_two_cancellations_at_once_promote_the_first_two_people_waiting(server):
    scenario = seed_scenario(server.app, people=13, capacity=10)
    book_directly(server.app, scenario.session_id, scenario.people)  # ten booked, then three waiting, in order
    ids = booking_ids(server.app, scenario.session_id)
    leaving = scenario.people[:2]
    first, second, third = scenario.people[10:]
    cancellers = signed_in_browsers(server.base_url, leaving, lambda person: f"/bookings/{ids[person.id]}/cancel")
    try:
        result = race(
            [
                lambda b=b, p=p: b.post(f"/bookings/{ids[p.id]}/cancel", {"reason": ""})
                for b, p in zip(cancellers, leaving, strict=True)
            ]
        )
    finally:
        _close(cancellers)

    _assert_no_server_trouble(server, result)
    state = session_state(server.app, scenario.session_id)
    assert [state.by_user[p.id] for p in leaving] == [["cancelled"], ["cancelled"]]
    assert state.by_user[first.id] == ["confirmed"]
    assert state.by_user[second.id] == ["confirmed"]
    assert state.by_user[third.id] == ["waiting"]
    assert state.statuses == {"confirmed": 10, "cancelled": 2, "waiting": 1}
    assert state.places_taken == 10
    for person, told in ((first, 1), (second, 1), (third, 0)):
        subjects = subjects_sent_to(server.app, person.email)
        assert sum(s.startswith("A place has come free") for s in subjects) == told, (person, subjects)
