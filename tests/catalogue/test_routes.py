"""Catalogue pages through their real forms (CSRF included): what coordinators, trainers and staff see.

Who may open which page is covered by tests/core/test_access.py; rules in depth by test_services.py.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from tests.factories import (
    fresh_client,
    make_agency,
    make_course,
    make_programme,
    make_session,
    make_user,
    make_venue,
)
from tests.pages import signed_in, submit
from tests.support import counting_queries
from trainapp.accounts.models import AgencyKind, Role
from trainapp.bookings import services as bookings
from trainapp.bookings import session_lifecycle
from trainapp.catalogue import services
from trainapp.catalogue.models import (
    Course,
    DeliveryMode,
    Programme,
    SessionSeries,
    SessionStatus,
    TrainingSession,
)
from trainapp.db import utcnow
from trainapp.timezones import to_local

PROBLEM = "There is a problem"


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def listed(response) -> list[str]:
    """Course titles of the sessions listed on a page, in order."""
    return re.findall(r'<a class="govuk-link" href="/sessions/\d+">([^<]+)</a>', text(response))


def date_boxes(day: date) -> list[str]:
    """What a person types in the three GOV.UK date boxes: day, month, year."""
    return [str(day.day), str(day.month), str(day.year)]


def fill(session, places: int) -> None:
    """Book people onto a session: places are counted from the bookings themselves."""
    for _ in range(places):
        person = make_user()
        bookings.book_place(session.id, person, by=person)


def hold(session, places=2) -> None:
    """Hold places on a session for an agency of their own."""
    bookings.reserve_places(
        session.id,
        make_agency(),
        places=places,
        release_at=session.starts_at - timedelta(days=1),
        by=make_user(Role.COORDINATOR),
    )


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR, name="Cora Lane")


@pytest.fixture
def as_coordinator(client, coordinator):
    return signed_in(client, coordinator)


@pytest.fixture
def world(db):
    """A published course, a trainer and a venue to build sessions from."""
    course = make_course(title="Safeguarding Basics", default_capacity=12)
    trainer = make_user(Role.TRAINER, name="Tom Baker")
    venue = make_venue("Town Hall")
    db.session.commit()
    return course, trainer, venue


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


def series_form(world, step="submit", **changes):
    """The November to January Thursday series, 10:00 to 12:00, unless changed."""
    course, trainer, venue = world
    data = {
        "course": str(course.id),
        "weekday": "3",
        "start_time": "10:00",
        "end_time": "12:00",
        "first_on": date_boxes(date(2027, 11, 4)),
        "last_on": date_boxes(date(2028, 1, 27)),
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


# Programmes, venues and courses -------------------------------------------------------


def test_a_coordinator_adds_a_programme_and_a_venue_and_sees_them_listed(as_coordinator, db):
    response = submit(
        as_coordinator,
        "/programmes/new",
        {"name": "Up2U Family Practice", "description": "Whole-family work"},
    )
    assert response.status_code == 302 and response.location == "/programmes"
    page = text(as_coordinator.get("/programmes"))
    assert "Up2U Family Practice has been saved." in page
    assert "Up2U Family Practice" in page

    response = submit(
        as_coordinator, "/venues/new", {"name": "Civic Centre", "address": "1 Market Square", "active": "y"}
    )
    assert response.status_code == 302 and response.location == "/venues"
    page = text(as_coordinator.get("/venues"))
    assert "Civic Centre" in page and "1 Market Square" in page and "Available" in page


def test_a_programme_name_already_taken_is_refused_on_the_form(as_coordinator, db):
    make_programme("Up2U Family Practice")
    response = submit(as_coordinator, "/programmes/new", {"name": "up2u family practice", "description": ""})
    assert response.status_code == 200
    assert PROBLEM in text(response)
    assert "A programme with this name already exists" in text(response)
    assert count(db, Programme) == 1


def test_a_coordinator_creates_a_published_course_and_sees_its_details_on_its_page(as_coordinator, db):
    programme = make_programme("Up2U Family Practice")
    first = make_course(programme=programme, title="Domestic Abuse Awareness")
    db.session.commit()

    response = submit(
        as_coordinator,
        "/courses/new",
        {
            "programme": str(programme.id),
            "title": "Working with Families",
            "level": "2",
            "summary": "Practical whole-family approaches.",
            "audience": "Front-line practitioners",
            "duration_hours": "3.5",
            "cpd_hours": "3.5",
            "refresher_months": "24",
            "prerequisite": str(first.id),
            "eligible_kinds": ["police", "council"],
            "requires_approval": "y",
            "default_capacity": "16",
            "cancellation_notice_days": "5",
            "status": "published",
            "submit": "Save course",
        },
    )

    course = db.session.scalar(sa.select(Course).where(Course.title == "Working with Families"))
    assert response.status_code == 302 and response.location == f"/courses/{course.id}"
    page = text(as_coordinator.get(response.location))
    assert "Working with Families has been saved." in page
    assert '<h1 class="govuk-heading-l">Working with Families</h1>' in page
    assert "Up2U Family Practice" in page and "Practical whole-family approaches." in page
    assert "Draft" not in page
    for shown in (
        "Front-line practitioners",
        "Police, Council",
        "Level 2",
        "3 hours 30 minutes",
        "Domestic Abuse Awareness",  # must be completed first
        "Every 24 months",
        "Your agency lead must approve your booking",
    ):
        assert shown in page, shown

    # Published: a member of staff can find it too.
    staff = signed_in(fresh_client(as_coordinator.application), make_user())
    assert staff.get(f"/courses/{course.id}").status_code == 200


def test_a_draft_course_is_hidden_from_staff_but_shown_to_coordinators(app, as_coordinator, db):
    course = make_course(title="Still Being Written", status="draft")
    db.session.commit()
    staff = signed_in(fresh_client(app), make_user())
    assert staff.get(f"/courses/{course.id}").status_code == 404
    page = text(as_coordinator.get(f"/courses/{course.id}"))
    assert "Draft: only coordinators can see this course" in page
    listing = text(as_coordinator.get("/courses"))
    assert "Still Being Written" in listing and "Draft" in listing


# One session: the form refuses bad input and changes nothing ----------------------------

BAD_SESSIONS = {
    "end before start": ({"start_time": "12:00", "end_time": "10:00"}, "The end must be after the start"),
    "longer than 24 hours": (
        {"end_day": date_boxes(date(2027, 11, 5)), "end_time": "10:30"},
        "A session cannot be longer than 24 hours",
    ),
    "no places": ({"capacity": "0"}, "Places must be between 1 and 500"),
    "more than 500 places": ({"capacity": "501"}, "Places must be between 1 and 500"),
    "online without a link": (
        {"delivery_mode": "online", "venue": "0"},
        "Enter the joining link for an online or hybrid session",
    ),
    "unknown trainer": ({"trainers": ["999999"]}, "Choose each trainer from the list of active trainers"),
    "31 February": ({"day": ["31", "2", "2028"]}, "Date must be a real date"),
    "01:30 as the clocks go forward": (
        # The last Sunday of March 2028: 01:00 to 02:00 does not happen in the UK.
        {"day": date_boxes(date(2028, 3, 26)), "start_time": "01:30", "end_time": "03:00"},
        "01:30 on 26 March 2028 does not exist here: the clocks go forward",
    ),
}


@pytest.mark.parametrize("changes, message", BAD_SESSIONS.values(), ids=BAD_SESSIONS.keys())
def test_bad_session_input_is_explained_on_the_form_and_saves_nothing(as_coordinator, db, world, changes, message):
    response = submit(as_coordinator, "/sessions/new", session_form(world, **changes))

    assert response.status_code == 200
    page = text(response)
    assert PROBLEM in page
    assert message in page
    assert count(db, TrainingSession) == 0


def test_a_good_session_is_saved_and_shown_in_uk_time(as_coordinator, db, world):
    response = submit(as_coordinator, "/sessions/new", session_form(world, notes="Bring your lunch"))

    session = db.session.scalar(sa.select(TrainingSession))
    assert response.status_code == 302 and response.location == f"/sessions/{session.id}"
    page = text(as_coordinator.get(response.location))
    assert "The session has been saved." in page
    assert "Thursday 4 November 2027, 10am to midday" in page
    assert "Town Hall" in page and "Tom Baker" in page and "12 of 12" in page
    assert "Bring your lunch" in page


# Clashes ----------------------------------------------------------------------------------


def test_a_trainer_clash_is_listed_and_saved_only_once_confirmed(as_coordinator, db, world):
    course, trainer, _ = world
    other_course = make_course(title="Harm Reduction")
    make_session(
        course=other_course,
        starts_at=datetime(2027, 11, 4, 9, 0, tzinfo=UTC),
        trainers=[trainer],
        venue=make_venue("Library"),
    )
    db.session.commit()

    data = session_form(world, start_time="10:00", end_time="12:00")
    response = submit(as_coordinator, "/sessions/new", data)
    page = text(response)
    assert response.status_code == 200
    assert PROBLEM in page
    assert "Clashes with other sessions" in page
    assert "Harm Reduction, Thursday 4 November 2027, 9am to 11am</a>: Tom Baker is already training" in page
    assert "Save anyway, despite the clashes" in page
    assert count(db, TrainingSession) == 1

    response = submit(as_coordinator, "/sessions/new", {**data, "confirm_clashes": "y"})
    assert response.status_code == 302
    assert count(db, TrainingSession) == 2


def test_a_venue_clash_is_listed_too(as_coordinator, db, world):
    _, _, venue = world
    make_session(starts_at=datetime(2027, 11, 4, 11, 0, tzinfo=UTC), venue=venue)
    db.session.commit()

    response = submit(as_coordinator, "/sessions/new", session_form(world))
    assert "Town Hall is already booked" in text(response)
    assert count(db, TrainingSession) == 1


# Weekly series ----------------------------------------------------------------------------


def test_the_november_to_january_thursday_series_is_built_in_one_step(as_coordinator, db, world):
    response = submit(as_coordinator, "/series/new", series_form(world))

    series = db.session.scalar(sa.select(SessionSeries))
    assert response.status_code == 302 and response.location == f"/series/{series.id}"
    page = text(as_coordinator.get(response.location))
    assert "13 sessions of Safeguarding Basics have been created." in page
    assert "Every Thursday, 10am to midday, from 4 November 2027 to 27 January 2028." in page
    sessions = db.session.scalars(sa.select(TrainingSession).order_by(TrainingSession.starts_at)).all()
    assert [to_local(s.starts_at).date() for s in sessions] == [
        date(2027, 11, 4) + timedelta(weeks=n) for n in range(13)
    ]
    assert all(s.series_id == series.id and s.capacity == 12 for s in sessions)


def test_sessions_either_side_of_the_october_clock_change_both_show_ten_oclock(as_coordinator, db, world):
    assert submit(as_coordinator, "/series/new", series_form(world)).status_code == 302
    # The last Thursday before the clocks go back on 31 October 2027, added on its own.
    october = session_form(world, day=date_boxes(date(2027, 10, 28)))
    assert submit(as_coordinator, "/sessions/new", october).status_code == 302

    before = db.session.scalar(sa.select(TrainingSession).order_by(TrainingSession.starts_at).limit(1))
    after = db.session.scalar(
        sa.select(TrainingSession)
        .where(TrainingSession.series_id.is_not(None))
        .order_by(TrainingSession.starts_at)
        .limit(1)
    )
    assert "Thursday 28 October 2027, 10am to midday" in text(as_coordinator.get(f"/sessions/{before.id}"))
    assert "Thursday 4 November 2027, 10am to midday" in text(as_coordinator.get(f"/sessions/{after.id}"))
    # Stored in UTC: 09:00 in summer time, 10:00 after the clocks go back.
    assert (before.starts_at.hour, after.starts_at.hour) == (9, 10)


def test_checking_the_dates_lists_bank_holidays_left_out_then_ticked_dates_are_skipped(as_coordinator, db, world):
    # Mondays from 15 March to 19 April 2027; Easter Monday is 29 March.
    spring = series_form(
        world,
        step="check",
        weekday="0",
        first_on=date_boxes(date(2027, 3, 15)),
        last_on=date_boxes(date(2027, 4, 19)),
    )
    response = submit(as_coordinator, "/series/new", spring)
    page = text(response)
    assert response.status_code == 200
    assert PROBLEM not in page
    assert "5 dates" in page
    assert "Left out because they are bank holidays: 29 March 2027." in page
    for day in (
        "Monday 15 March 2027",
        "Monday 22 March 2027",
        "Monday 5 April 2027",
        "Monday 12 April 2027",
        "Monday 19 April 2027",
    ):
        assert day in page, day
    assert "Monday 29 March 2027" not in page
    assert count(db, TrainingSession) == 0 and count(db, SessionSeries) == 0

    spring.pop("check")
    response = submit(
        as_coordinator,
        "/series/new",
        {**spring, "submit": "Create the sessions", "skip": ["2027-04-05", "2027-04-12"]},
    )
    assert response.status_code == 302
    assert "3 sessions of Safeguarding Basics have been created." in text(as_coordinator.get(response.location))
    starts = db.session.scalars(sa.select(TrainingSession.starts_at).order_by(TrainingSession.starts_at)).all()
    assert [to_local(s) for s in starts] == [
        datetime(2027, 3, 15, 10, tzinfo=to_local(starts[0]).tzinfo),
        datetime(2027, 3, 22, 10, tzinfo=to_local(starts[1]).tzinfo),
        datetime(2027, 4, 19, 10, tzinfo=to_local(starts[2]).tzinfo),
    ]


BAD_SERIES = {
    "last date before first": (
        {"first_on": date_boxes(date(2027, 11, 4)), "last_on": date_boxes(date(2027, 11, 1))},
        "The last date must be on or after the first date",
    ),
    "more than 200 sessions": (
        {"first_on": date_boxes(date(2028, 1, 6)), "last_on": date_boxes(date(2032, 6, 24))},
        "A series cannot have more than 200 sessions",
    ),
    "many years": (
        {"first_on": date_boxes(date(2028, 1, 6)), "last_on": date_boxes(date(2040, 1, 5))},
        "A series cannot have more than 200 sessions",
    ),
    "no Thursday in range": (
        {"first_on": date_boxes(date(2027, 11, 1)), "last_on": date_boxes(date(2027, 11, 3))},
        "There are no dates on that weekday between the first and last dates",
    ),
    "end before start": ({"start_time": "12:00", "end_time": "10:00"}, "The end must be after the start"),
    "no places": ({"capacity": "0"}, "Places must be between 1 and 500"),
    "more than 500 places": ({"capacity": "501"}, "Places must be between 1 and 500"),
    "online without a link": (
        {"delivery_mode": "online", "venue": "0"},
        "Enter the joining link for an online or hybrid session",
    ),
    "unknown trainer": ({"trainers": ["999999"]}, "Choose each trainer from the list of active trainers"),
    "31 February": ({"first_on": ["31", "2", "2028"]}, "First date must be a real date"),
    "01:30 as the clocks go forward": (
        {
            "weekday": "6",
            "first_on": date_boxes(date(2027, 3, 21)),
            "last_on": date_boxes(date(2027, 4, 4)),
            "start_time": "01:30",
            "end_time": "03:00",
        },
        "01:30 on 28 March 2027 does not exist here: the clocks go forward",
    ),
}


@pytest.mark.parametrize("changes, message", BAD_SERIES.values(), ids=BAD_SERIES.keys())
def test_bad_series_input_is_explained_on_the_form_and_saves_nothing(as_coordinator, db, world, changes, message):
    response = submit(as_coordinator, "/series/new", series_form(world, **changes))

    assert response.status_code == 200
    page = text(response)
    assert PROBLEM in page
    assert message in page
    assert count(db, TrainingSession) == 0 and count(db, SessionSeries) == 0


def _thursdays_in_november(db, coordinator, world):
    course, trainer, venue = world
    template = services.SessionDetails(
        starts_at=datetime.min,
        ends_at=datetime.min,
        delivery_mode=DeliveryMode.IN_PERSON,
        venue=venue,
        joining_link="",
        capacity=12,
        trainers=[trainer],
    )
    series = services.create_series(
        course,
        services.SeriesDetails(
            weekday=3,
            start_time=time(10),
            end_time=time(12),
            first_on=date(2027, 11, 1),
            last_on=date(2027, 11, 30),
            skip=set(),
            template=template,
        ),
        by=coordinator,
    )
    db.session.commit()
    return series


def series_statuses(response) -> list[str]:
    return re.findall(r'data-label="Status">(\w+)<', text(response))


def test_cancelling_a_series_from_a_date_cancels_only_the_later_sessions(as_coordinator, db, coordinator, world):
    series = _thursdays_in_november(db, coordinator, world)
    path = f"/series/{series.id}"

    response = submit(
        as_coordinator,
        f"{path}/cancel",
        {"which": "from", "from_on": date_boxes(date(2027, 11, 18)), "reason": "The trainer is on leave"},
        form_page=path,
    )
    assert response.status_code == 302 and response.location == path
    page = as_coordinator.get(path)
    assert "2 sessions have been cancelled." in text(page)
    assert series_statuses(page) == ["Scheduled", "Scheduled", "Cancelled", "Cancelled"]
    third = db.session.scalars(sa.select(TrainingSession).order_by(TrainingSession.starts_at)).all()[2]
    assert "This session has been cancelled: The trainer is on leave" in text(
        as_coordinator.get(f"/sessions/{third.id}")
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"reason": ""}, "Enter a reason for cancelling"),
        (
            {"from_on": date_boxes(date(2027, 12, 1))},
            "No scheduled sessions in this series fall on or after that date",
        ),
    ],
    ids=["no reason", "nothing after the date"],
)
def test_cancelling_a_series_needs_a_reason_and_a_date_with_sessions_after_it(
    as_coordinator, db, coordinator, world, changes, message
):
    series = _thursdays_in_november(db, coordinator, world)
    path = f"/series/{series.id}"
    data = {"which": "from", "from_on": date_boxes(date(2027, 11, 18)), "reason": "The trainer is on leave", **changes}

    response = submit(as_coordinator, f"{path}/cancel", data, form_page=path)
    assert response.status_code == 400
    assert PROBLEM in text(response) and message in text(response)
    assert series_statuses(as_coordinator.get(path)) == ["Scheduled"] * 4


# Changing and cancelling one session -----------------------------------------------------


def test_moving_a_session_raises_its_calendar_version_and_shows_who_changed_it(as_coordinator, db, world):
    course, trainer, venue = world
    session = make_session(
        course=course,
        starts_at=datetime(2027, 11, 4, 10, tzinfo=UTC),
        trainers=[trainer],
        venue=venue,
        capacity=12,
    )
    db.session.commit()
    path = f"/sessions/{session.id}/edit"
    form_page = text(as_coordinator.get(path))
    assert 'value="10:00"' in form_page and 'value="12:00"' in form_page
    assert "Last changed by" not in text(as_coordinator.get(f"/sessions/{session.id}"))

    response = submit(as_coordinator, path, session_form(world, start_time="11:00", end_time="13:00"))

    assert response.status_code == 302 and response.location == f"/sessions/{session.id}"
    page = text(as_coordinator.get(response.location))
    assert "Thursday 4 November 2027, 11am to 1pm" in page
    assert "Last changed by Cora Lane on" in page
    assert "(calendar version 1)" in page
    assert db.session.get(TrainingSession, session.id).sequence == 1


def test_changing_only_the_notes_keeps_the_calendar_version(as_coordinator, db, world):
    course, trainer, venue = world
    session = make_session(
        course=course,
        starts_at=datetime(2027, 11, 4, 10, tzinfo=UTC),
        trainers=[trainer],
        venue=venue,
        capacity=12,
    )
    db.session.commit()

    response = submit(as_coordinator, f"/sessions/{session.id}/edit", session_form(world, notes="Parking at the back"))
    assert response.status_code == 302
    page = text(as_coordinator.get(f"/sessions/{session.id}"))
    assert "Parking at the back" in page
    assert db.session.get(TrainingSession, session.id).sequence == 0


def test_cancelling_a_session_asks_for_a_reason_then_shows_it_cancelled(as_coordinator, db, world):
    course, trainer, venue = world
    session = make_session(
        course=course, starts_at=datetime(2027, 11, 4, 10, tzinfo=UTC), trainers=[trainer], venue=venue
    )
    db.session.commit()
    path = f"/sessions/{session.id}/cancel"

    response = submit(as_coordinator, path, {"reason": "  "})
    assert response.status_code == 200
    assert PROBLEM in text(response) and "Enter a reason for cancelling" in text(response)
    assert db.session.get(TrainingSession, session.id).status == SessionStatus.SCHEDULED

    response = submit(as_coordinator, path, {"reason": "The trainer is unwell"})
    assert response.status_code == 302 and response.location == f"/sessions/{session.id}"
    page = text(as_coordinator.get(response.location))
    assert "The session has been cancelled." in page
    assert "This session has been cancelled: The trainer is unwell" in page
    assert "Change the session" not in page
    cancelled = db.session.get(TrainingSession, session.id)
    assert cancelled.status == SessionStatus.CANCELLED and cancelled.sequence == 1


# Finding training -------------------------------------------------------------------------


def _month_start(months_ahead: int) -> date:
    first = to_local(utcnow()).date().replace(day=1)
    for _ in range(months_ahead):
        first = (first + timedelta(days=32)).replace(day=1)
    return first


@pytest.fixture
def catalogue(db):
    """Sessions of several courses: next month, the month after, a draft, and one in the past."""
    next_month, month_after = _month_start(1), _month_start(2)
    family = make_programme("Family Practice")
    harm = make_programme("Harm Reduction")
    basics = make_course(programme=family, title="Up2U Basics")
    online = make_course(programme=harm, title="Online Awareness")
    draft = make_course(programme=family, title="Secret Draft", status="draft")
    old = make_course(programme=harm, title="Last Year's Course")

    def at(day: date) -> datetime:
        return datetime(day.year, day.month, 15, 10, tzinfo=UTC)

    fill(make_session(course=basics, starts_at=at(next_month), capacity=10), 10)
    online_session = make_session(
        course=online,
        starts_at=at(month_after),
        delivery_mode=DeliveryMode.ONLINE,
        joining_link="https://meet.example.org/x",
    )
    online_session.venue = None
    make_session(course=draft, starts_at=at(next_month) + timedelta(days=1))
    make_session(course=old, starts_at=(utcnow() - timedelta(days=10)).replace(microsecond=0))
    db.session.commit()
    return {
        "family": family,
        "harm": harm,
        "basics": basics,
        "online": online,
        "next_month": next_month,
        "month_after": month_after,
    }


def test_staff_find_upcoming_published_sessions_soonest_first(client, db, catalogue):
    staff = signed_in(client, make_user())
    response = staff.get("/sessions")
    assert response.status_code == 200
    assert listed(response) == ["Up2U Basics", "Online Awareness"]
    page = text(response)
    assert "Full" in page and "10 places left" in page
    assert "Add a session" not in page

    # Staff cannot ask for past sessions: the list stays upcoming only.
    assert listed(staff.get("/sessions?when=past")) == ["Up2U Basics", "Online Awareness"]
    # A draft course's session is not found by guessing its address either.
    draft_session = db.session.scalar(sa.select(TrainingSession).join(Course).where(Course.title == "Secret Draft"))
    assert staff.get(f"/sessions/{draft_session.id}").status_code == 404


@pytest.mark.parametrize(
    "query, expected",
    [
        (lambda c: f"programme={c['family'].id}", ["Up2U Basics"]),
        (lambda c: f"programme={c['harm'].id}", ["Online Awareness"]),
        (lambda c: f"course={c['online'].id}", ["Online Awareness"]),
        (lambda c: f"month={c['next_month']:%Y-%m}", ["Up2U Basics"]),
        (lambda c: f"month={c['month_after']:%Y-%m}", ["Online Awareness"]),
        (lambda c: "mode=online", ["Online Awareness"]),
        (lambda c: "mode=in_person", ["Up2U Basics"]),
        (lambda c: "mode=hybrid", []),
        (lambda c: "places=y", ["Online Awareness"]),
    ],
    ids=[
        "programme",
        "other programme",
        "course",
        "month",
        "later month",
        "online",
        "in person",
        "hybrid",
        "places left",
    ],
)
def test_staff_filter_the_sessions(client, db, catalogue, query, expected):
    staff = signed_in(client, make_user())
    response = staff.get(f"/sessions?{query(catalogue)}")
    assert response.status_code == 200
    assert listed(response) == expected
    if not expected:
        assert "No sessions match. Try fewer filters." in text(response)


def test_coordinators_also_see_draft_courses_and_past_sessions(as_coordinator, db, catalogue):
    response = as_coordinator.get("/sessions")
    assert listed(response) == ["Up2U Basics", "Secret Draft", "Online Awareness"]
    assert "Draft course" in text(response)
    assert listed(as_coordinator.get("/sessions?when=past")) == ["Last Year's Course"]
    assert len(listed(as_coordinator.get("/sessions?when=all"))) == 4


def test_a_session_page_shows_the_course_time_place_trainers_and_places_left(client, db, world):
    course, trainer, venue = world
    session = make_session(
        course=course,
        starts_at=datetime(2027, 11, 4, 14, tzinfo=UTC),
        trainers=[trainer],
        venue=venue,
        capacity=12,
    )
    fill(session, 5)
    db.session.commit()
    page = text(signed_in(client, make_user()).get(f"/sessions/{session.id}"))
    assert '<h1 class="govuk-heading-l">Safeguarding Basics</h1>' in page
    assert "Thursday 4 November 2027, 2pm to 4pm" in page
    assert "Town Hall" in page and "1 High Street" in page
    assert "Tom Baker" in page
    assert "7 of 12" in page
    assert "About it" in page  # the course summary
    assert "Manage this session" not in page


@pytest.mark.parametrize("role", [Role.STAFF, Role.COORDINATOR])
def test_the_session_list_runs_a_fixed_number_of_queries(app, client, db, role):
    signed_in(client, make_user(role))

    def add_sessions(n):
        # Each with its own programme, course, venue and trainer, so loading any per row would show.
        for _ in range(n):
            make_session(trainers=[make_user(Role.TRAINER), make_user(Role.TRAINER)])
        db.session.commit()

    add_sessions(3)
    with counting_queries(db.engine) as few:
        small = client.get("/sessions")
    add_sessions(27)
    with counting_queries(db.engine) as many:
        large = client.get("/sessions")

    assert len(listed(small)) == 3
    assert len(listed(large)) == app.config["PAGE_SIZE"]
    assert "30 sessions" in text(large)
    assert len(many) == len(few), many
    second = client.get("/sessions?page=2")
    assert len(listed(second)) == 5 and "Page 2 of 2" in text(second)


@pytest.mark.parametrize("role", [Role.STAFF, Role.COORDINATOR])
def test_a_filtered_later_page_of_the_session_list_runs_a_fixed_number_of_queries(app, client, db, role):
    viewer = make_user(role, agency=make_agency())
    signed_in(client, viewer)
    programme = make_programme("Safeguarding")
    page_size = app.config["PAGE_SIZE"]

    def add_sessions(n):
        # Each with its own course, venue, trainers, bookings and places held for an agency,
        # so loading or counting any of them per row would show.
        for _ in range(n):
            session = make_session(
                course=make_course(programme=programme), trainers=[make_user(Role.TRAINER), make_user(Role.TRAINER)]
            )
            fill(session, 2)
            hold(session)
        make_session()  # in another programme: filtered out
        db.session.commit()

    path = f"/sessions?programme={programme.id}&places=y&page=2"
    add_sessions(page_size + 2)
    with counting_queries(db.engine) as few:
        small = client.get(path)
    add_sessions(page_size)
    with counting_queries(db.engine) as many:
        large = client.get(path)

    assert len(listed(small)) == 2
    assert len(listed(large)) == page_size
    assert "Page 2 of 2" in text(small) and "Page 2 of 3" in text(large)
    assert len(many) == len(few), "\n".join(few + [""] + many)


@pytest.mark.parametrize("role", [Role.STAFF, Role.COORDINATOR])
def test_the_session_page_runs_a_fixed_number_of_queries(client, db, role, world):
    viewer = make_user(role, agency=make_agency())
    signed_in(client, viewer)

    def session_with(people, trainers, held):
        session = make_session(
            course=world[0], trainers=[make_user(Role.TRAINER) for _ in range(trainers)], capacity=50
        )
        fill(session, people)
        for _ in range(held):
            hold(session)
        bookings.book_place(session.id, viewer, by=viewer)
        db.session.commit()
        return session

    few_session, many_session = session_with(1, 1, 1), session_with(30, 6, 5)
    with counting_queries(db.engine) as few:
        small = client.get(f"/sessions/{few_session.id}")
    with counting_queries(db.engine) as many:
        large = client.get(f"/sessions/{many_session.id}")

    assert "46 of 50" in text(small)  # 50 less 2 booked, less 2 held for another agency
    assert "9 of 50" in text(large)  # 50 less 31 booked, less 5 × 2 held
    assert len(many) == len(few), "\n".join(few + [""] + many)


def test_a_trainer_sees_only_their_own_sessions(client, db):
    tom = make_user(Role.TRAINER, name="Tom Baker")
    tess = make_user(Role.TRAINER, name="Tess Gray")
    soon = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    make_session(course=make_course(title="Tom's First"), starts_at=soon, trainers=[tom])
    make_session(course=make_course(title="Tom's Second"), starts_at=soon + timedelta(days=7), trainers=[tom, tess])
    make_session(course=make_course(title="Tess's Own"), starts_at=soon, trainers=[tess])
    make_session(course=make_course(title="Tom's Old"), starts_at=soon - timedelta(days=30), trainers=[tom])
    db.session.commit()

    signed_in(client, tom)
    response = client.get("/my-sessions")
    assert response.status_code == 200
    assert listed(response) == ["Tom's First", "Tom's Second"]
    assert listed(client.get("/my-sessions?when=past")) == ["Tom's Old"]


# Places left: one count, as the person looking may book ----------------------------------


def list_item(response, title) -> str:
    """The text of the session card for this course in a session list."""
    for item in re.findall(r'<li class="app-session-list__item">.*?</li>', text(response), flags=re.S):
        if f">{title}</a>" in item:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item))
    raise AssertionError(f"no session of {title} listed")


def test_places_held_for_an_agency_are_open_only_to_its_staff_on_the_list_page_and_filter(app, db):
    police = make_agency("Wessex Police", kind=AgencyKind.POLICE)
    council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
    held = make_session(course=make_course(title="Held Course"), capacity=3)
    make_session(course=make_course(title="Open Course"), capacity=2)
    bookings.reserve_places(
        held.id, police, places=3, release_at=held.starts_at - timedelta(days=1), by=make_user(Role.COORDINATOR)
    )
    db.session.commit()
    outsider = signed_in(fresh_client(app), make_user(agency=council))
    insider = signed_in(fresh_client(app), make_user(agency=police))

    assert "Full of 3" in list_item(outsider.get("/sessions"), "Held Course")
    assert listed(outsider.get("/sessions?places=y")) == ["Open Course"]
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(outsider.get(f"/sessions/{held.id}"))))
    assert "Places left Full (3 places)" in page
    assert "No places left : you can join the waiting list." in page

    assert "3 places left of 3" in list_item(insider.get("/sessions"), "Held Course")
    assert listed(insider.get("/sessions?places=y")) == ["Held Course", "Open Course"]
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(insider.get(f"/sessions/{held.id}"))))
    assert "Places left 3 of 3" in page
    assert "3 places left, including 3 held for Wessex Police." in page

    # One of the agency's staff takes a held place: the others see one fewer, outsiders still none.
    insider_booking = submit(insider, f"/sessions/{held.id}/book", {})
    assert insider_booking.status_code == 302
    assert "2 places left of 3" in list_item(insider.get("/sessions"), "Held Course")
    assert "Full of 3" in list_item(outsider.get("/sessions"), "Held Course")


def test_past_and_cancelled_sessions_show_no_places_left_and_no_booking_buttons(app, db, coordinator):
    agency = make_agency()
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    cancelled = make_session(course=make_course(title="Cancelled Course"), capacity=4)
    session_lifecycle.cancel_session(cancelled.id, by=coordinator, reason="Trainer unwell")
    past = make_session(
        course=make_course(title="Past Course"), starts_at=(utcnow() - timedelta(days=3)).replace(microsecond=0)
    )
    make_session(course=make_course(title="Open Course"), capacity=4)
    db.session.commit()

    as_coord = signed_in(fresh_client(app), coordinator)
    everything = as_coord.get("/sessions?when=all")
    assert "4 places left of 4" in list_item(everything, "Open Course")
    for title in ("Cancelled Course", "Past Course"):
        item = list_item(everything, title)
        assert "left" not in item and "Full" not in item
    as_lead = signed_in(fresh_client(app), lead)
    for session in (cancelled, past):
        for client in (as_coord, as_lead):
            page = text(client.get(f"/sessions/{session.id}"))
            assert "Places left" not in page and "places left" not in page
            for button in ("Book a place", "Join the waiting list", "Book places for"):
                assert button not in page
        refused = as_lead.get(f"/sessions/{session.id}/book-for")
        assert refused.status_code == 302 and refused.location == f"/sessions/{session.id}"
        assert "Book places for staff" not in text(as_coord.get(f"/sessions/{session.id}/bookings"))


def _imports(path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_catalogue_never_reaches_up_into_bookings_and_route_modules_never_import_each_other():
    from pathlib import Path

    import trainapp

    package = Path(trainapp.__file__).parent
    for path in (package / "catalogue").glob("*.py"):
        assert not [m for m in _imports(path) if m.startswith("trainapp.bookings")], path.name
    route_modules = {
        ".".join(path.relative_to(package.parent).with_suffix("").parts) for path in package.rglob("*routes.py")
    }
    for path in package.rglob("*routes.py"):
        assert not (_imports(path) & route_modules), path
