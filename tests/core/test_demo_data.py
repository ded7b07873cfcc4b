"""The demo partnership is believable: nobody is asked to be in two places, training falls on working
days, and nobody holds a place on a course without having done the course it builds on.

The demo is dated relative to today, so the small one is built for several todays (a weekend
before the clock change, the start of September, Christmas) as well as the real one. The large
one is built at a reduced scale (the full one takes about a minute) that is still dense enough,
several sessions a day, for clashes and bank holidays to come up.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession, session_trainers
from trainapp.demo import large
from trainapp.timezones import to_local
from trainapp.workdays import bank_holiday_name, is_working_day

TODAYS = {
    "real today": None,
    "a Sunday before the October clock change": datetime(2027, 10, 24, 9, tzinfo=UTC),
    "the first of September": datetime(2027, 9, 1, 9, tzinfo=UTC),
    "Christmas Eve": datetime(2026, 12, 24, 9, tzinfo=UTC),
}

DENSE = large.Scale(agencies=5, people=400, sessions=900, bookings=6000, years=1, trainers=6)


def trainers_in_two_places(db) -> list[tuple[int, int, int]]:
    """(trainer, session, other session) for every pair of live sessions a trainer overlaps on."""
    one, other = aliased(TrainingSession), aliased(TrainingSession)
    first, second = session_trainers.alias("first"), session_trainers.alias("second")
    query = (
        sa.select(first.c.user_id, one.id, other.id)
        .join(one, one.id == first.c.session_id)
        .join(second, sa.and_(second.c.user_id == first.c.user_id, second.c.session_id > first.c.session_id))
        .join(other, other.id == second.c.session_id)
        .where(
            one.status != SessionStatus.CANCELLED,
            other.status != SessionStatus.CANCELLED,
            one.starts_at < other.ends_at,
            other.starts_at < one.ends_at,
        )
    )
    return db.session.execute(query).all()


def sessions_off_working_days(db) -> list[str]:
    days = {to_local(starts_at).date() for starts_at in db.session.scalars(sa.select(TrainingSession.starts_at))}
    return sorted(
        f"{day:%A} {day}" + (f" ({bank_holiday_name(day)})" if bank_holiday_name(day) else "")
        for day in days
        if not is_working_day(day)
    )


def places_without_the_prerequisite(db) -> list[tuple[int, str]]:
    """(person, course) for each place held on a course whose prerequisite the person had not
    completed (attended, or partly where that course allows it) before the session began."""
    later_session, later_course = aliased(TrainingSession), aliased(Course)
    earlier, earlier_session, prerequisite = aliased(Booking), aliased(TrainingSession), aliased(Course)
    completed_before = (
        sa.select(earlier.id)
        .join(earlier_session, earlier_session.id == earlier.session_id)
        .join(prerequisite, prerequisite.id == earlier_session.course_id)
        .where(
            earlier.user_id == Booking.user_id,
            earlier.status == BookingStatus.CONFIRMED,
            earlier_session.course_id == later_course.prerequisite_id,
            earlier_session.status != SessionStatus.CANCELLED,
            earlier_session.ends_at <= later_session.starts_at,
            sa.or_(
                earlier.attendance == AttendanceStatus.ATTENDED,
                sa.and_(earlier.attendance == AttendanceStatus.PARTIAL, prerequisite.partial_counts_as_completed),
            ),
        )
    )
    query = (
        sa.select(Booking.user_id, later_course.title)
        .join(later_session, later_session.id == Booking.session_id)
        .join(later_course, later_course.id == later_session.course_id)
        .where(
            Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.AWAITING_APPROVAL]),
            later_session.status != SessionStatus.CANCELLED,
            later_course.prerequisite_id.is_not(None),
            ~completed_before.exists(),
        )
    )
    return db.session.execute(query).all()


def assert_believable(db) -> None:
    assert db.session.scalar(sa.select(sa.func.count(TrainingSession.id))) > 0
    found = {
        "trainer in two places": trainers_in_two_places(db),
        "not a working day": sessions_off_working_days(db),
        "prerequisite not completed": places_without_the_prerequisite(db),
    }
    assert {problem: cases for problem, cases in found.items() if cases} == {}


@pytest.fixture
def demo_today(monkeypatch, request):
    """Make the demo loaders see ``request.param`` as now (None: the real now)."""
    moment = request.param
    if moment is not None:
        from trainapp.demo import attendance, bookings, catalogue, funding

        for module in (attendance, bookings, catalogue, funding):
            monkeypatch.setattr(module, "utcnow", lambda: moment)
    return moment


@pytest.mark.parametrize("demo_today", TODAYS.values(), ids=TODAYS.keys(), indirect=True)
def test_the_demo_partnership_is_believable(app, db, demo_today):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output

    assert_believable(db)
    # Some people did go on from one course to the next: the check is not passing on empty data.
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Booking.id))
            .join(Booking.session)
            .join(TrainingSession.course)
            .where(Course.prerequisite_id.is_not(None), Booking.status == BookingStatus.CONFIRMED)
        )
        > 0
    )


def test_a_dense_large_partnership_is_believable(db):
    large.load_large(DENSE, now=datetime(2026, 6, 20, 12, tzinfo=UTC))
    db.session.commit()

    assert_believable(db)
