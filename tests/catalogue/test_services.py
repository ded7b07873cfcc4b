from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_course, make_programme, make_session, make_user, make_venue
from tests.support import counting_queries
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.catalogue import services
from trainapp.catalogue.models import DeliveryMode, SessionStatus, TrainingSession
from trainapp.errors import DomainError, InvalidTransition, NotAllowed
from trainapp.timezones import to_local


def _details(start, hours=2, **kw):
    fields = dict(
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        delivery_mode=DeliveryMode.IN_PERSON,
        venue=kw.pop("venue", None) or make_venue(),
        joining_link="",
        capacity=10,
        trainers=kw.pop("trainers", None) or [make_user(Role.TRAINER)],
    )
    fields.update(kw)
    return services.SessionDetails(**fields)


START = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR)


# Weekly series -------------------------------------------------------------------------


def test_the_november_to_january_thursday_series_skips_christmas_period_bank_holidays_only(app):
    # 2026-11-05 to 2027-01-28: Thursdays; Christmas Day 2026 is a Friday, so nothing is skipped.
    plan = services.plan_series(3, date(2026, 11, 4), date(2027, 1, 28))
    assert len(plan.dates) == 13
    assert plan.dates[0] == date(2026, 11, 5) and plan.dates[-1] == date(2027, 1, 28)
    assert plan.bank_holidays == []


def test_bank_holidays_and_ticked_dates_are_left_out(app):
    # Mondays in spring 2027: Easter Monday 29 March and the May bank holidays 3 and 31 May.
    plan = services.plan_series(0, date(2027, 3, 22), date(2027, 6, 7), skip={date(2027, 4, 12)})
    assert date(2027, 3, 29) in plan.bank_holidays
    assert date(2027, 5, 3) in plan.bank_holidays and date(2027, 5, 31) in plan.bank_holidays
    assert plan.skipped == [date(2027, 4, 12)]
    assert all(d.weekday() == 0 for d in plan.dates)
    assert not {date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31), date(2027, 4, 12)} & set(plan.dates)
    assert len(plan.dates) == 12 - 4


def test_a_series_across_the_october_clock_change_stays_at_ten_local(app, db, coordinator):
    course = make_course()
    template = _details(START)
    series = services.create_series(
        course,
        services.SeriesDetails(
            weekday=3,
            start_time=time(10),
            end_time=time(12),
            first_on=date(2027, 10, 21),
            last_on=date(2027, 11, 4),
            skip=set(),
            template=template,
        ),
        by=coordinator,
    )
    # Clocks go back on 31 October 2027: the last session is in GMT.
    before, after = series.sessions[1], series.sessions[2]
    assert to_local(before.starts_at).time() == time(10) == to_local(after.starts_at).time()
    assert before.starts_at.hour == 9 and after.starts_at.hour == 10
    assert after.starts_at - before.starts_at == timedelta(days=7, hours=1)
    assert len(series.sessions) == 3
    assert all(s.series_id == series.id for s in series.sessions)


def test_a_series_across_the_march_clock_change_stays_at_ten_local(app, db, coordinator):
    series = services.create_series(
        make_course(),
        services.SeriesDetails(
            weekday=3,
            start_time=time(10),
            end_time=time(12),
            first_on=date(2028, 3, 16),
            last_on=date(2028, 3, 30),
            skip=set(),
            template=_details(START),
        ),
        by=coordinator,
    )
    hours = [s.starts_at.hour for s in series.sessions]
    assert hours == [10, 10, 9]  # clocks go forward on 26 March 2028


@pytest.mark.parametrize(
    ("weekday", "first", "last", "message"),
    [
        (3, date(2027, 1, 10), date(2027, 1, 1), "on or after the first date"),
        (3, date(2027, 1, 1), date(2031, 12, 31), "more than 200"),
        (3, date(2027, 1, 1), date(2027, 1, 6), "no dates on that weekday"),
    ],
)
def test_bad_series_are_refused(app, weekday, first, last, message):
    with pytest.raises(DomainError, match=message):
        services.plan_series(weekday, first, last)


def test_a_series_whose_every_date_is_ticked_off_is_refused(app):
    with pytest.raises(DomainError, match="no sessions"):
        services.plan_series(3, date(2027, 1, 7), date(2027, 1, 7), skip={date(2027, 1, 7)})


def test_a_series_at_a_time_the_clocks_skip_is_refused(app, db, coordinator):
    with pytest.raises(DomainError, match="does not exist"):
        services.create_series(
            make_course(),
            services.SeriesDetails(
                weekday=6,
                start_time=time(1, 30),
                end_time=time(3),
                first_on=date(2027, 3, 21),
                last_on=date(2027, 3, 28),
                skip=set(),
                template=_details(START),
            ),
            by=coordinator,
        )
    assert db.session.scalar(sa.select(sa.func.count(TrainingSession.id))) == 0


def test_checking_a_series_for_clashes_takes_the_same_queries_for_5_weeks_as_for_30(app, db):
    def check(weeks):
        trainer, venue = make_user(Role.TRAINER, name=f"Trainer of {weeks}"), make_venue()
        # Every week clashes, by trainer or by venue, each with a trainer of its own, so
        # loading anything per clash or per week would show.
        for week in range(weeks):
            make_session(
                starts_at=START + timedelta(weeks=week, hours=1),
                trainers=[trainer, make_user(Role.TRAINER)] if week % 2 else [make_user(Role.TRAINER)],
                venue=make_venue() if week % 2 else venue,
            )
        details = services.SeriesDetails(
            weekday=START.weekday(),
            start_time=time(10),
            end_time=time(12),
            first_on=START.date(),
            last_on=START.date() + timedelta(weeks=weeks - 1),
            skip=set(),
            template=_details(START, trainers=[trainer], venue=venue),
        )
        db.session.commit()
        with counting_queries(db.engine) as statements:
            checked = services.check_series(details, now=START - timedelta(days=30))
        return checked, statements

    few, few_statements = check(5)
    many, many_statements = check(30)
    assert len(few.clashes) == len(few.occurrences) == 5
    assert len(many.clashes) == len(many.occurrences) == 29  # the August bank holiday is left out
    assert many.clashes[0].reason.endswith(" is already booked")
    assert many.clashes[1].reason == "Trainer of 30 is already training"
    assert len(many_statements) == len(few_statements), "\n".join(few_statements + [""] + many_statements)


def test_a_series_with_dates_that_have_passed_is_created_only_once_confirmed(app, db, coordinator):
    details = services.SeriesDetails(
        weekday=3,
        start_time=time(10),
        end_time=time(12),
        first_on=date(2027, 11, 4),
        last_on=date(2027, 11, 25),
        skip=set(),
        template=_details(START),
    )
    now = datetime(2027, 11, 12, 9, tzinfo=UTC)

    checked = services.check_series(details, now=now)
    assert checked.passed == [date(2027, 11, 4), date(2027, 11, 11)] and checked.clashes == []
    with pytest.raises(services.SeriesNeedsConfirming, match="2 of the dates have passed") as refused:
        checked.require_confirmed(clashes=False, past=False)
    assert refused.value.field == "first_on"
    checked.require_confirmed(clashes=False, past=True)


def test_a_series_at_a_time_the_clocks_repeat_is_refused_at_the_time_concerned(app, db, coordinator):
    with pytest.raises(DomainError, match="happens twice here, first in BST and then in GMT") as refused:
        services.check_series(
            services.SeriesDetails(
                weekday=6,
                start_time=time(0, 30),
                end_time=time(1, 30),
                first_on=date(2027, 10, 24),
                last_on=date(2027, 11, 7),
                skip=set(),
                template=_details(START),
            ),
        )
    assert refused.value.field == "end_time"


def test_cancelling_a_series_from_a_date_leaves_earlier_sessions(app, db, coordinator):
    series = services.create_series(
        make_course(),
        services.SeriesDetails(
            weekday=3,
            start_time=time(10),
            end_time=time(12),
            first_on=date(2027, 11, 4),
            last_on=date(2027, 12, 2),
            skip=set(),
            template=_details(START),
        ),
        by=coordinator,
    )
    now = datetime(2027, 11, 1, tzinfo=UTC)
    chosen = services.sessions_to_cancel(series, by=coordinator, from_on=date(2027, 11, 18), reason="Funding", now=now)
    assert [to_local(s.starts_at).date() for s in chosen] == [date(2027, 11, 18), date(2027, 11, 25), date(2027, 12, 2)]
    assert len(services.sessions_to_cancel(series, by=coordinator, from_on=None, reason="Funding", now=now)) == 5
    for session in chosen:
        services.cancel_session(session, by=coordinator, reason="Funding")
    with pytest.raises(DomainError, match="No scheduled sessions"):
        services.sessions_to_cancel(series, by=coordinator, from_on=date(2027, 11, 18), reason="Again", now=now)


# Sessions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(ends_at=START - timedelta(minutes=1)), "end must be after the start"),
        (dict(ends_at=START + timedelta(hours=25)), "longer than 24 hours"),
        (dict(capacity=0), "between 1 and 500"),
        (dict(capacity=501), "between 1 and 500"),
        (dict(delivery_mode=DeliveryMode.ONLINE, venue=None, joining_link=""), "joining link"),
        (dict(delivery_mode=DeliveryMode.ONLINE, joining_link="http://insecure.example.org"), "https://"),
        (dict(trainers=[]), "at least one trainer"),
    ],
)
def test_bad_session_details_are_refused(app, db, coordinator, change, message):
    details = _details(START)
    for key, value in change.items():
        setattr(details, key, value)
    if "trainers" in change:
        details.trainers = []
    with pytest.raises(DomainError, match=message):
        services.create_session(make_course(), details, by=coordinator)
    assert db.session.scalar(sa.select(sa.func.count(TrainingSession.id))) == 0


def test_a_staff_member_is_not_a_trainer(app, db, coordinator):
    with pytest.raises(DomainError, match="not an active trainer"):
        services.create_session(make_course(), _details(START, trainers=[make_user(Role.STAFF)]), by=coordinator)


def test_only_coordinators_create_sessions(app, db):
    with pytest.raises(NotAllowed):
        services.create_session(make_course(), _details(START), by=make_user(Role.TRAINER))


def test_an_overlapping_trainer_or_venue_is_a_clash_until_confirmed(app, db, coordinator):
    trainer, venue = make_user(Role.TRAINER), make_venue()
    existing = make_session(starts_at=START, trainers=[trainer], venue=make_venue())
    same_venue = make_session(starts_at=START + timedelta(hours=1), trainers=[make_user(Role.TRAINER)], venue=venue)
    details = _details(START + timedelta(minutes=30), trainers=[trainer], venue=venue)
    with pytest.raises(services.ClashFound) as found:
        services.create_session(make_course(), details, by=coordinator)
    clashed = {clash.session.id: clash.reason for clash in found.value.clashes}
    assert set(clashed) == {existing.id, same_venue.id}
    assert trainer.name in clashed[existing.id] and venue.name in clashed[same_venue.id]
    created = services.create_session(make_course(), details, by=coordinator, confirm_clashes=True)
    assert created.id


def test_back_to_back_and_cancelled_sessions_do_not_clash(app, db, coordinator):
    trainer = make_user(Role.TRAINER)
    make_session(starts_at=START - timedelta(hours=2), hours=2, trainers=[trainer])
    cancelled = make_session(starts_at=START, trainers=[trainer])
    cancelled.status = SessionStatus.CANCELLED
    assert services.find_clashes(_details(START, trainers=[trainer])) == []


def test_rescheduling_raises_the_sequence_and_records_who(app, db, coordinator):
    session = make_session(starts_at=START)
    details = _details(START + timedelta(days=1), venue=session.venue, trainers=session.trainers)
    services.update_session(session, details, by=coordinator)
    assert session.sequence == 1 and session.updated_by == coordinator
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "session.rescheduled")).one()
    assert event.before["starts_at"] != event.after["starts_at"]
    moved = _details(START + timedelta(days=1), venue=make_venue(), trainers=session.trainers)
    services.update_session(session, moved, by=coordinator)
    assert session.sequence == 2


def test_saving_unchanged_details_keeps_the_sequence(app, db, coordinator):
    session = make_session(starts_at=START)
    same = _details(START, venue=session.venue, trainers=session.trainers, capacity=session.capacity)
    services.update_session(session, same, by=coordinator)
    assert session.sequence == 0


def test_capacity_cannot_drop_below_places_taken(app, db, coordinator):
    session = make_session(starts_at=START, capacity=10)
    session.places_taken = 6
    with pytest.raises(DomainError, match="6 places already taken"):
        services.update_session(
            session, _details(START, venue=session.venue, trainers=session.trainers, capacity=5), by=coordinator
        )


def test_cancelling_needs_a_reason_raises_the_sequence_and_happens_once(app, db, coordinator):
    session = make_session(starts_at=START)
    with pytest.raises(DomainError, match="reason"):
        services.cancel_session(session, by=coordinator, reason=" ")
    services.cancel_session(session, by=coordinator, reason="Trainer unwell")
    assert session.status == SessionStatus.CANCELLED and session.sequence == 1
    with pytest.raises(InvalidTransition):
        services.cancel_session(session, by=coordinator, reason="Again")
    with pytest.raises(DomainError, match="cancelled session cannot be changed"):
        services.update_session(session, _details(START), by=coordinator)


# Courses -------------------------------------------------------------------------------


def _course_details(**kw):
    fields = dict(
        programme=make_programme(),
        title="Level 2",
        level=2,
        summary="s",
        audience="",
        duration_minutes=120,
        cpd_hours=2,
        refresher_months=36,
        prerequisite=None,
        eligible_kinds=["police"],
        requires_approval=False,
        default_capacity=20,
        cancellation_notice_days=5,
    )
    fields.update(kw)
    return services.CourseDetails(**fields)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(level=5), "Level must be"),
        (dict(default_capacity=0), "between 1 and 500"),
        (dict(duration_minutes=0), "Duration"),
        (dict(cancellation_notice_days=-1), "notice"),
        (dict(eligible_kinds=["pirates"]), "kinds of agency"),
    ],
)
def test_bad_courses_are_refused(app, db, coordinator, change, message):
    with pytest.raises(DomainError, match=message):
        services.save_course(None, _course_details(**change), by=coordinator)


def test_a_course_cannot_require_itself_through_a_chain(app, db, coordinator):
    level1 = services.save_course(None, _course_details(title="L1", level=1), by=coordinator)
    level2 = services.save_course(None, _course_details(title="L2", prerequisite=level1), by=coordinator)
    with pytest.raises(DomainError, match="cannot require itself"):
        services.save_course(level1, _course_details(title="L1", level=1, prerequisite=level2), by=coordinator)


def test_course_titles_are_unique(app, db, coordinator):
    services.save_course(None, _course_details(title="Awareness"), by=coordinator)
    with pytest.raises(DomainError, match="already exists"):
        services.save_course(None, _course_details(title="awareness"), by=coordinator)
