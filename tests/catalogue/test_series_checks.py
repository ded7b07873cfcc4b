"""Checking a weekly series' dates finds everything creating it would refuse or ask to confirm, and
times the clocks make unclear (skipped in March, repeated in October) are refused on both the series
and the single-session forms, beside the field and in the error summary."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_course, make_session, make_user, make_venue
from tests.pages import error_summary, field_error, plain, signed_in, submit
from trainapp.accounts.models import Role
from trainapp.catalogue.models import SessionSeries, TrainingSession
from trainapp.db import utcnow
from trainapp.timezones import to_local
from trainapp.workdays import is_bank_holiday

CLASH = 'This clashes with other sessions. Check the clashes, then select "Save anyway" and save again.'


def date_boxes(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def saved(db) -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count(TrainingSession.id)).where(TrainingSession.series_id.is_not(None))),
        db.session.scalar(sa.select(sa.func.count(SessionSeries.id))),
    )


@pytest.fixture
def as_coordinator(client, db):
    return signed_in(client, make_user(Role.COORDINATOR, name="Cora Lane"))


@pytest.fixture
def world(db):
    course = make_course(title="Safeguarding Basics", default_capacity=12)
    trainer = make_user(Role.TRAINER, name="Tom Baker")
    venue = make_venue("Town Hall")
    db.session.commit()
    return course, trainer, venue


def series_form(world, step, **changes):
    """Thursdays in November 2027, 10:00 to 12:00, unless changed."""
    course, trainer, venue = world
    data = {
        "course": str(course.id),
        "weekday": "3",
        "start_time": "10:00",
        "end_time": "12:00",
        "first_on": date_boxes(date(2027, 11, 4)),
        "last_on": date_boxes(date(2027, 11, 25)),
        "delivery_mode": "in_person",
        "venue": str(venue.id),
        "joining_link": "",
        "capacity": "12",
        "trainers": [str(trainer.id)],
        "notes": "",
        step: "Check the dates" if step == "check" else "Create the sessions",
    }
    data.update(changes)
    return data


def session_form(world, **changes):
    course, trainer, venue = world
    data = {
        "course": str(course.id),
        "day": date_boxes(date(2027, 11, 4)),
        "start_time": "10:00",
        "end_time": "12:00",
        "end_day": ["", "", ""],
        "delivery_mode": "in_person",
        "venue": str(venue.id),
        "joining_link": "",
        "capacity": "12",
        "trainers": [str(trainer.id)],
        "notes": "",
        "booking_opens_on": ["", "", ""],
        "booking_closes_on": ["", "", ""],
        "submit": "Save session",
    }
    data.update(changes)
    return data


def _a_trainer_clash_on_18_november(world, db) -> None:
    _, trainer, _ = world
    make_session(
        course=make_course(title="Harm Reduction"),
        starts_at=datetime(2027, 11, 18, 11, 0, tzinfo=UTC),
        trainers=[trainer],
        venue=make_venue("Library"),
    )
    db.session.commit()


# The check finds what creating would -----------------------------------------------------


@pytest.mark.parametrize("step", ["check", "submit"])
def test_a_trainer_clash_is_found_alike_by_checking_and_by_creating(as_coordinator, db, world, step):
    _a_trainer_clash_on_18_november(world, db)

    response = submit(as_coordinator, "/series/new", series_form(world, step))

    assert response.status_code == 200
    assert error_summary(response) == [CLASH]
    page = plain(response)
    assert "Harm Reduction, Thursday 18 November 2027, 11am to 1pm : Tom Baker is already training" in page
    assert "Save anyway, despite the clashes" in page
    assert "4 dates" in page  # the plan is still shown, to tick dates off
    assert saved(db) == (0, 0)


def test_a_clash_confirmed_on_the_check_stays_listed_and_confirmed_then_is_created(as_coordinator, db, world):
    _a_trainer_clash_on_18_november(world, db)

    checked = submit(as_coordinator, "/series/new", series_form(world, "check", confirm_clashes="y"))
    assert error_summary(checked) == []
    assert "Tom Baker is already training" in plain(checked)
    assert re.search(r'<input[^>]*name="confirm_clashes"[^>]*checked', checked.get_data(as_text=True))

    response = submit(as_coordinator, "/series/new", series_form(world, "submit", confirm_clashes="y"))

    assert response.status_code == 302
    assert saved(db) == (4, 1)


def test_ticking_the_clashing_date_off_clears_the_clash_on_the_check(as_coordinator, db, world):
    _a_trainer_clash_on_18_november(world, db)

    response = submit(as_coordinator, "/series/new", series_form(world, "check", skip=["2027-11-18"]))

    assert response.status_code == 200
    assert error_summary(response) == []
    assert "Clashes with other sessions" not in plain(response)


CHECKED_ALIKE = {
    "01:30 as the clocks go forward": (
        {
            "weekday": "6",
            "first_on": date_boxes(date(2027, 3, 21)),
            "last_on": date_boxes(date(2027, 4, 4)),
            "start_time": "01:30",
            "end_time": "03:00",
        },
        "start_time",
        "01:30 on 28 March 2027 does not exist here: the clocks go forward",
    ),
    "an end at 01:15 as the clocks go forward": (
        {
            "weekday": "6",
            "first_on": date_boxes(date(2027, 3, 21)),
            "last_on": date_boxes(date(2027, 4, 4)),
            "start_time": "00:15",
            "end_time": "01:15",
        },
        "end_time",
        "01:15 on 28 March 2027 does not exist here: the clocks go forward",
    ),
    "01:30 as the clocks go back": (
        {
            "weekday": "6",
            "first_on": date_boxes(date(2027, 10, 24)),
            "last_on": date_boxes(date(2027, 11, 7)),
            "start_time": "01:30",
            "end_time": "03:00",
        },
        "start_time",
        "01:30 on 31 October 2027 happens twice here, first in BST and then in GMT: the clocks go back. "
        "Choose a time before or after the change",
    ),
    "an end at 01:45 as the clocks go back": (
        {
            "weekday": "6",
            "first_on": date_boxes(date(2027, 10, 24)),
            "last_on": date_boxes(date(2027, 11, 7)),
            "start_time": "00:30",
            "end_time": "01:45",
        },
        "end_time",
        "01:45 on 31 October 2027 happens twice here, first in BST and then in GMT: the clocks go back. "
        "Choose a time before or after the change",
    ),
    "online without a link": (
        {"delivery_mode": "online", "venue": "0"},
        "joining_link",
        "Enter the joining link for an online or hybrid session",
    ),
    "an end before the start": (
        {"start_time": "12:00", "end_time": "10:00"},
        "end_time",
        "The end must be after the start",
    ),
}


@pytest.mark.parametrize("step", ["check", "submit"])
@pytest.mark.parametrize("changes, field, message", CHECKED_ALIKE.values(), ids=CHECKED_ALIKE.keys())
def test_checking_refuses_what_creating_refuses_beside_the_field(
    as_coordinator, db, world, step, changes, field, message
):
    response = submit(as_coordinator, "/series/new", series_form(world, step, **changes))

    assert response.status_code == 200
    assert error_summary(response) == [message]
    assert field_error(response, field) == f"Error: {message}"
    assert saved(db) == (0, 0)


# Dates that have passed ----------------------------------------------------------------------


def _fortnight_either_side_of_today() -> dict:
    # Two weeks passed, none today (whose time may or may not have passed), two to come.
    today = to_local(utcnow()).date()
    first = today - timedelta(days=13)
    while is_bank_holiday(first) or is_bank_holiday(first + timedelta(days=7)):
        first += timedelta(days=1)
    return {
        "weekday": str(first.weekday()),
        "first_on": date_boxes(first),
        "last_on": date_boxes(today + timedelta(days=14)),
    }, [first, first + timedelta(days=7)]


def _passed_message(days: list[date]) -> str:
    listed = " and ".join(f"{d.day} {d:%B %Y}" for d in days)
    return (
        f"2 of the dates have passed ({listed}). Choose a later first date, or tick "
        "“Create sessions on dates that have passed” to record training already given"
    )


@pytest.mark.parametrize("step", ["check", "submit"])
def test_dates_that_have_passed_are_flagged_beside_the_first_date_and_not_created(as_coordinator, db, world, step):
    changes, passed = _fortnight_either_side_of_today()

    response = submit(as_coordinator, "/series/new", series_form(world, step, **changes))

    assert response.status_code == 200
    message = _passed_message(passed)
    assert error_summary(response) == [message]
    assert field_error(response, "first_on") == f"Error: {message}"
    assert "Create sessions on dates that have passed" in plain(response)
    assert saved(db) == (0, 0)


def test_dates_that_have_passed_are_created_once_confirmed_and_the_check_still_warns(as_coordinator, db, world):
    changes, passed = _fortnight_either_side_of_today()
    confirmed = series_form(world, "check", confirm_past="y", **changes)

    checked = submit(as_coordinator, "/series/new", confirmed)
    assert checked.status_code == 200
    assert error_summary(checked) == []
    listed = " and ".join(f"{d.day} {d:%B %Y}" for d in passed)
    assert f"Warning These dates have passed: {listed}." in plain(checked)

    confirmed.pop("check")
    response = submit(as_coordinator, "/series/new", {**confirmed, "submit": "Create the sessions"})
    assert response.status_code == 302
    assert saved(db)[1] == 1


# The single-session form and the hour that happens twice -------------------------------------------


def test_a_session_in_the_hour_the_clocks_go_back_is_refused_beside_the_time(as_coordinator, db, world):
    data = session_form(world, day=date_boxes(date(2027, 10, 31)), start_time="01:30", end_time="03:00")

    response = submit(as_coordinator, "/sessions/new", data)

    message = (
        "01:30 on 31 October 2027 happens twice here, first in BST and then in GMT: the clocks go back. "
        "Choose a time before or after the change"
    )
    assert response.status_code == 200
    assert error_summary(response) == [message]
    assert field_error(response, "start_time") == f"Error: {message}"
    assert db.session.scalar(sa.select(sa.func.count(TrainingSession.id))) == 0


def test_a_session_just_outside_the_repeated_hour_is_saved_at_the_time_meant(as_coordinator, db, world):
    data = session_form(world, day=date_boxes(date(2027, 10, 31)), start_time="00:30", end_time="02:00")

    assert submit(as_coordinator, "/sessions/new", data).status_code == 302

    session = db.session.scalar(sa.select(TrainingSession))
    # 00:30 BST is 23:30 UTC the day before; 02:00 GMT is 02:00 UTC: two and a half hours.
    assert session.starts_at == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert session.ends_at == datetime(2027, 10, 31, 2, 0, tzinfo=UTC)


def test_a_session_already_in_the_repeated_hour_says_which_one_it_means(as_coordinator, db, world):
    """Sessions stored before such times were refused (or added another way) name BST or GMT."""
    course, trainer, venue = world
    summer = make_session(course=course, starts_at=datetime(2027, 10, 31, 0, 30, tzinfo=UTC), trainers=[trainer])
    winter = make_session(
        course=course, starts_at=datetime(2027, 10, 31, 1, 30, tzinfo=UTC), hours=1, trainers=[trainer], venue=venue
    )
    db.session.commit()

    assert "Sunday 31 October 2027, 1:30am BST to 2:30am" in plain(as_coordinator.get(f"/sessions/{summer.id}"))
    assert "Sunday 31 October 2027, 1:30am GMT to 2:30am" in plain(as_coordinator.get(f"/sessions/{winter.id}"))
