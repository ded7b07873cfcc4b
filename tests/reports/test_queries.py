"""Every figure of the board report and of coverage, against a hand calculation.

The dataset is small and fixed, and each expected number below is worked out in a comment
from the rows that make it, so a wrong figure points straight at the rule it breaks.
Dates are in the partnership's time (Europe/London); 2025-03-30 is when the clocks went
forward, so every date in the report's quarter is in BST (UTC+1).
"""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from tests.factories import make_agency, make_course, make_programme, make_session, make_user
from trainapp.accounts.models import AgencyKind, Role
from trainapp.attendance.models import Evaluation, EvaluationKind
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.funding.models import (
    Allocation,
    Charge,
    ChargeReason,
    ChargeStatus,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)
from trainapp.reports.models import CoverageTarget
from trainapp.reports.queries import ReportFilters, board_report, coverage
from trainapp.timezones import local_to_utc

ATTENDED, PARTIAL, NO_SHOW = AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL, AttendanceStatus.NO_SHOW
TURNED_AWAY, UNABLE = AttendanceStatus.TURNED_AWAY, AttendanceStatus.UNABLE

# 1pm on Friday 20 June 2025, London time: S4 (below) has started but not ended.
NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
QUARTER = (date(2025, 4, 1), date(2025, 6, 30))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(day, time(hour, minute))


def book(
    db, session, person, status=BookingStatus.CONFIRMED, attendance=None, *, walk_in=False, late=False, agency=None
):
    booking = Booking(
        session=session,
        user=person,
        agency_id=(agency or person.agency).id,
        booked_by=person,
        status=status,
        attendance=attendance,
        minutes_missed=45 if attendance == PARTIAL else None,
        is_walk_in=walk_in,
        is_late_cancellation=late,
    )
    db.session.add(booking)
    db.session.flush()
    return booking


def evaluate(db, booking, before, after, kind=EvaluationKind.AFTER):
    db.session.add(
        Evaluation(
            booking=booking,
            kind=kind,
            confidence_before=before,
            confidence_after=after,
            submitted_at=booking.session.ends_at,
        )
    )


def charge(db, booking, reason, pence, status=ChargeStatus.RAISED, raised_at=None):
    db.session.add(
        Charge(
            booking=booking,
            agency_id=booking.agency_id,
            reason=reason,
            amount_pence=pence,
            status=status,
            raised_at=raised_at or booking.session.ends_at,
        )
    )


@pytest.fixture
def w(db):
    """Three agencies, two programmes of one course each, seven sessions.

    Who          agency               sessions (mark)
    a1..a5       Wessex Police        S1 A, S2 A, S3 booked, S4 booked, S6 A; a4 cancels S1; a5 waits for S1
    b1..b5       Downs Council        S1 N/T/U, S2 A/P, S3 booked, S4 late-cancels, S6 N; b5 late-cancels S1
    c1, c2       Harbour Charity      c1 walks in to S1 and attends S5; c2 no-show on S2
    (A attended, P partial, N no-show, T late and turned away, U unable with notice)

    S1  Awareness (P1)  Thu 10 Apr 09:30-12:30  capacity 10  delivered
    S2  Up2U (P2)       Wed 14 May 09:00-16:00  capacity 8   still "scheduled": ended, register not sent
    S3  Awareness (P1)  Thu  5 Jun              capacity 12  cancelled
    S4  Up2U (P2)       Fri 20 Jun 11:00-17:00  capacity 6   under way at NOW: not run yet
    S5  Awareness (P1)  Tue  1 Apr 00:30-02:30  capacity 5   delivered; 31 March in UTC
    S6  Awareness (P1)  Thu 20 Mar              capacity 10  delivered; before the quarter
    """
    p1 = make_programme("Domestic Abuse Act training")
    p2 = make_programme("Up2U Family Practice Model")
    awareness = make_course(programme=p1, title="Domestic Abuse Awareness", refresher_months=36)
    up2u = make_course(programme=p2, title="Up2U Practitioner Training")
    police = make_agency("Wessex Police")
    council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
    charity = make_agency("Harbour Charity", kind=AgencyKind.VOLUNTARY, is_partner=False)
    a1, a2, a3, a4, a5 = (make_user(agency=police, name=f"Police {n}") for n in range(1, 6))
    b1, b2, b3, b4, b5 = (make_user(agency=council, name=f"Council {n}") for n in range(1, 6))
    c1, c2 = (make_user(agency=charity, name=f"Charity {n}") for n in range(1, 3))

    s1 = make_session(awareness, local(date(2025, 4, 10), 9, 30), hours=3, capacity=10, status=SessionStatus.DELIVERED)
    s2 = make_session(up2u, local(date(2025, 5, 14), 9), hours=7, capacity=8)
    s3 = make_session(awareness, local(date(2025, 6, 5), 9, 30), hours=3, capacity=12, status=SessionStatus.CANCELLED)
    s4 = make_session(up2u, local(date(2025, 6, 20), 11), hours=6, capacity=6)
    s5 = make_session(awareness, local(date(2025, 4, 1), 0, 30), hours=2, capacity=5, status=SessionStatus.DELIVERED)
    s6 = make_session(awareness, local(date(2025, 3, 20), 9, 30), hours=3, capacity=10, status=SessionStatus.DELIVERED)
    assert s5.starts_at == datetime(2025, 3, 31, 23, 30, tzinfo=UTC)

    # S1: every mark, a walk-in, an ordinary and a late cancellation, someone on the waiting list.
    s1_a1 = book(db, s1, a1, attendance=ATTENDED)
    s1_a2 = book(db, s1, a2, attendance=ATTENDED)
    book(db, s1, a3, attendance=PARTIAL)
    s1_b1 = book(db, s1, b1, attendance=NO_SHOW)
    s1_b2 = book(db, s1, b2, attendance=TURNED_AWAY)
    book(db, s1, b3, attendance=UNABLE)
    book(db, s1, c1, attendance=ATTENDED, walk_in=True)
    book(db, s1, a4, BookingStatus.CANCELLED)
    s1_b5 = book(db, s1, b5, BookingStatus.CANCELLED, late=True)
    book(db, s1, a5, BookingStatus.WAITING)
    # S2: one confirmed booking has no mark yet (booked, not attended).
    s2_a1 = book(db, s2, a1, attendance=ATTENDED)
    s2_b1 = book(db, s2, b1, attendance=ATTENDED)
    s2_c2 = book(db, s2, c2, attendance=NO_SHOW)
    book(db, s2, b2, attendance=PARTIAL)
    book(db, s2, a2)
    # S3 was cancelled with its bookings left as they were: they are no part of any figure.
    book(db, s3, a1)
    book(db, s3, b1)
    # S4 has not ended: its booking is not counted, but the late cancellation before it is.
    book(db, s4, a1)
    s4_b3 = book(db, s4, b3, BookingStatus.CANCELLED, late=True)
    # S5.
    s5_c1 = book(db, s5, c1, attendance=ATTENDED)
    s5_a3 = book(db, s5, a3, attendance=NO_SHOW)
    # S6, before the quarter.
    s6_a1 = book(db, s6, a1, attendance=ATTENDED)
    s6_b1 = book(db, s6, b1, attendance=NO_SHOW)
    book(db, s6, b2, BookingStatus.CANCELLED, late=True)

    evaluate(db, s1_a1, 2, 4)
    evaluate(db, s1_a1, 3, 5, kind=EvaluationKind.FOLLOW_UP)  # eight weeks on: not "after the course"
    evaluate(db, s1_a2, 3, 5)
    evaluate(db, s2_a1, 1, 3)
    evaluate(db, s2_b1, 2, 3)
    evaluate(db, s5_c1, 4, 4)
    evaluate(db, s6_a1, 1, 1)  # before the quarter

    grant = Grant(
        name="OPCC 2025",
        funder="OPCC",
        amount_pence=50_000_00,
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        status=GrantStatus.AWARDED,
    )
    for_p1 = Allocation(grant=grant, programme=p1, amount_pence=20_000_00)
    for_p2 = Allocation(grant=grant, programme=p2, amount_pence=30_000_00)
    for allocation, target, category, pence, state, day in [
        (for_p1, {"session": s1}, CostCategory.TRAINER, 450_00, CostState.PAID, date(2025, 4, 10)),
        (for_p2, {"session": s2}, CostCategory.VENUE, 120_00, CostState.COMMITTED, date(2025, 5, 14)),
        (for_p2, {"programme": p2}, CostCategory.LICENCES, 4_800_00, CostState.PAID, date(2025, 4, 1)),
        (for_p1, {"programme": p1}, CostCategory.MATERIALS, 50_00, CostState.COMMITTED, date(2025, 6, 30)),
        (for_p1, {"session": s6}, CostCategory.TRAINER, 450_00, CostState.PAID, date(2025, 3, 20)),
        (for_p1, {"programme": p1}, CostCategory.MATERIALS, 70_00, CostState.COMMITTED, date(2025, 7, 1)),
    ]:
        db.session.add(
            CostLine(
                allocation=allocation, category=category, amount_pence=pence, state=state, incurred_on=day, **target
            )
        )

    charge(db, s1_b1, ChargeReason.NO_SHOW, 35_00)
    charge(db, s1_b2, ChargeReason.TURNED_AWAY, 35_00, ChargeStatus.WAIVED)
    charge(db, s1_b5, ChargeReason.LATE_CANCELLATION, 35_00, raised_at=local(date(2025, 4, 8), 15))
    charge(db, s2_c2, ChargeReason.NO_SHOW, 90_00)  # a non-partner's full-day rate
    charge(db, s5_a3, ChargeReason.NO_SHOW, 35_00, ChargeStatus.WITHDRAWN)  # the register was corrected
    charge(db, s6_b1, ChargeReason.NO_SHOW, 35_00)  # raised before the quarter
    charge(db, s4_b3, ChargeReason.LATE_CANCELLATION, 35_00, raised_at=local(date(2025, 6, 19), 10))
    db.session.flush()
    return SimpleNamespace(p1=p1, p2=p2, police=police, council=council, charity=charity)


def report(start=QUARTER[0], end=QUARTER[1], programme=None, agency=None):
    return board_report(
        ReportFilters(start, end, programme.id if programme else None, agency.id if agency else None), NOW
    )


def figures(summary) -> dict:
    return {
        name: getattr(summary, name)
        for name in (
            "sessions_run",
            "sessions_cancelled",
            "places_offered",
            "booked",
            "attended",
            "partial",
            "walk_ins",
            "late_cancellations",
            "no_shows",
            "turned_away",
            "unable",
        )
    }


def rows(rows) -> list[tuple]:
    return [(r.name, r.booked, r.attended, r.no_shows, r.walk_ins) for r in rows]


# --- the whole partnership, one quarter ---------------------------------------------------


def test_summary_counts_what_happened_in_the_quarter(w):
    result = report()

    assert figures(result.summary) == {
        "sessions_run": 3,  # S1, S2 (ended, register not yet sent), S5 (1 April local time); not S4 (under way)
        "sessions_cancelled": 1,  # S3
        "places_offered": 23,  # 10 + 8 + 5: the run sessions only
        "booked": 13,  # confirmed places on run sessions: S1 a1 a2 a3 b1 b2 b3, S2 a1 b1 c2 b2 a2, S5 c1 a3
        "attended": 7,  # in full or in part: S1 a1 a2 a3, S2 a1 b1 b2, S5 c1 (not the walk-in)
        "partial": 2,  # S1 a3, S2 b2
        "walk_ins": 1,  # c1 on S1
        "late_cancellations": 2,  # b5 on S1, b3 on S4 (the cancellation has happened, though S4 has not)
        "no_shows": 3,  # S1 b1, S2 c2, S5 a3
        "turned_away": 1,  # S1 b2
        "unable": 1,  # S1 b3
    }
    assert result.summary.fill_rate == pytest.approx(13 / 23)  # 56.5%: booked / offered
    assert result.summary.show_rate == pytest.approx(7 / 13)  # 53.8%: attended / booked
    assert result.absence == {
        "No-show": 3,
        "Late and turned away": 1,
        "Unable to attend (gave notice)": 1,
        "Late cancellation": 2,
    }


def test_attendance_by_agency(w):
    # (agency, booked, attended, no-shows, walk-ins), by name.
    assert rows(report().by_agency) == [
        ("Downs Council", 5, 2, 1, 0),  # S1 b1 b2 b3, S2 b1 b2; attended S2 b1 b2; no-show S1 b1
        ("Harbour Charity", 2, 1, 1, 1),  # S2 c2, S5 c1; attended S5 c1; no-show S2 c2; walked in to S1
        ("Wessex Police", 6, 4, 1, 0),  # S1 a1 a2 a3, S2 a1 a2, S5 a3; attended S1 a1 a2 a3, S2 a1
    ]
    assert [r.show_rate for r in report().by_agency] == pytest.approx([2 / 5, 1 / 2, 4 / 6])


def test_attendance_by_programme(w):
    result = report()
    assert [(r.name, r.sessions, r.offered) for r in result.by_programme] == [
        ("Domestic Abuse Act training", 2, 15),  # S1 and S5: 10 + 5 places
        ("Up2U Family Practice Model", 1, 8),  # S2
    ]
    assert rows(result.by_programme) == [
        ("Domestic Abuse Act training", 8, 4, 2, 1),  # S1 6 + S5 2 booked; a1 a2 a3 + c1; b1, a3; c1
        ("Up2U Family Practice Model", 5, 3, 1, 0),  # S2: a1 b1 b2 came, c2 did not, a2 not marked
    ]
    assert [r.show_rate for r in result.by_programme] == pytest.approx([4 / 8, 3 / 5])


def test_months_follow_local_time_and_include_months_with_nothing_run(w):
    # S5 began at 23:30 UTC on 31 March: 00:30 on 1 April here, so it counts in April.
    # June had S3 (cancelled) and S4 (not ended): a month with nothing run shows as zeros.
    assert report().by_month == [
        (date(2025, 4, 1), 15, 8, 4),  # S1 + S5: offered 10 + 5, booked 6 + 2, attended 3 + 1
        (date(2025, 5, 1), 8, 5, 3),  # S2
        (date(2025, 6, 1), 0, 0, 0),
    ]


def test_confidence_before_and_after_with_the_number_of_responses(w):
    result = report()
    # After-course evaluations on the quarter's sessions: S1 a1 2->4, S1 a2 3->5, S2 a1 1->3,
    # S2 b1 2->3, S5 c1 4->4. Not a1's follow-up on S1, nor S6's (before the quarter).
    assert result.responses == 5
    assert result.confidence_before == pytest.approx((2 + 3 + 1 + 2 + 4) / 5)  # 2.4
    assert result.confidence_after == pytest.approx((4 + 5 + 3 + 3 + 4) / 5)  # 3.8


def test_funding_summary_for_the_period(w):
    result = report()
    # Costs incurred 1 April to 30 June inclusive: S1 trainer £450 paid, S2 venue £120 committed,
    # Up2U licence £4,800 paid (on 1 April), P1 materials £50 committed (on 30 June); not S6's
    # £450 (20 March) nor the £70 on 1 July.
    assert (result.costs_committed, result.costs_paid) == (120_00 + 50_00, 450_00 + 4_800_00)
    # Charges raised in the quarter and still owed: S1 b1 £35, S1 b5 £35, S2 c2 £90, S4 b3 £35.
    # Waived: S1 b2 £35. Not a3's (withdrawn) nor S6 b1's (raised in March).
    assert (result.charges_raised, result.charges_raised_pence) == (4, 195_00)
    assert (result.charges_waived, result.charges_waived_pence) == (1, 35_00)


# --- filters ----------------------------------------------------------------------------------


def test_one_agency_sees_its_own_people_against_every_place_offered(w):
    result = report(agency=w.council)
    assert figures(result.summary) == {
        # Sessions and places are the partnership's, whoever filled them.
        "sessions_run": 3,
        "sessions_cancelled": 1,
        "places_offered": 23,
        "booked": 5,  # S1 b1 b2 b3, S2 b1 b2
        "attended": 2,  # S2 b1, b2 (partly)
        "partial": 1,  # S2 b2
        "walk_ins": 0,
        "late_cancellations": 2,  # b5 on S1, b3 on S4
        "no_shows": 1,
        "turned_away": 1,
        "unable": 1,  # S1 b1, b2, b3
    }
    assert result.summary.show_rate == pytest.approx(2 / 5)
    assert rows(result.by_agency) == [("Downs Council", 5, 2, 1, 0)]
    assert rows(result.by_programme) == [
        ("Domestic Abuse Act training", 3, 0, 1, 0),  # S1 b1 b2 b3: nobody came
        ("Up2U Family Practice Model", 2, 2, 0, 0),  # S2 b1 b2
    ]
    assert result.by_month == [(date(2025, 4, 1), 15, 3, 0), (date(2025, 5, 1), 8, 2, 2), (date(2025, 6, 1), 0, 0, 0)]
    # Only b1's evaluation of S2 (2->3).
    assert (result.responses, result.confidence_before, result.confidence_after) == (1, 2.0, 3.0)
    # Council's charges: S1 b1, S1 b5, S4 b3 raised (£35 each); S1 b2 waived.
    assert (result.charges_raised, result.charges_raised_pence) == (3, 105_00)
    assert (result.charges_waived, result.charges_waived_pence) == (1, 35_00)


def test_one_programme(w):
    result = report(programme=w.p2)
    assert figures(result.summary) == {
        "sessions_run": 1,
        "sessions_cancelled": 0,
        "places_offered": 8,  # S2
        "booked": 5,
        "attended": 3,
        "partial": 1,
        "walk_ins": 0,  # S2 a1 b1 b2 came; c2 no-show; a2 unmarked
        "late_cancellations": 1,  # b3 on S4
        "no_shows": 1,
        "turned_away": 0,
        "unable": 0,
    }
    assert result.summary.fill_rate == pytest.approx(5 / 8)
    assert rows(result.by_agency) == [
        ("Downs Council", 2, 2, 0, 0),
        ("Harbour Charity", 1, 0, 1, 0),
        ("Wessex Police", 2, 1, 0, 0),
    ]
    assert rows(result.by_programme) == [("Up2U Family Practice Model", 5, 3, 1, 0)]
    assert result.by_month == [(date(2025, 4, 1), 0, 0, 0), (date(2025, 5, 1), 8, 5, 3), (date(2025, 6, 1), 0, 0, 0)]
    # S2 a1 1->3, S2 b1 2->3.
    assert (result.responses, result.confidence_before, result.confidence_after) == (2, 1.5, 3.0)
    # The programme's own money: S2's venue (committed) and the Up2U licence (paid).
    assert (result.costs_committed, result.costs_paid) == (120_00, 4_800_00)
    # S2 c2's no-show (£90) and b3's late cancellation of S4 (£35); nothing waived.
    assert (result.charges_raised, result.charges_raised_pence) == (2, 125_00)
    assert (result.charges_waived, result.charges_waived_pence) == (0, 0)


def test_one_programme_and_one_agency(w):
    result = report(programme=w.p1, agency=w.police)
    assert figures(result.summary) == {
        "sessions_run": 2,
        "sessions_cancelled": 1,
        "places_offered": 15,  # S1 and S5 run, S3 cancelled
        "booked": 4,  # S1 a1 a2 a3, S5 a3 (a4 cancelled in good time, a5 only waiting)
        "attended": 3,
        "partial": 1,
        "walk_ins": 0,
        "late_cancellations": 0,
        "no_shows": 1,
        "turned_away": 0,
        "unable": 0,  # S5 a3
    }
    assert rows(result.by_agency) == [("Wessex Police", 4, 3, 1, 0)]
    # S1 a1 2->4, S1 a2 3->5.
    assert (result.responses, result.confidence_before, result.confidence_after) == (2, 2.5, 4.5)
    # The Domestic Abuse programme's costs: S1 trainer (paid), materials on 30 June (committed).
    assert (result.costs_committed, result.costs_paid) == (50_00, 450_00)
    # Police's only charge in the quarter (S5 a3) was withdrawn.
    assert (result.charges_raised, result.charges_waived) == (0, 0)


def test_the_range_is_whole_local_days(w):
    # March: S6 is in; S5 (23:30 UTC on 31 March, but 1 April here) is not.
    result = report(date(2025, 3, 1), date(2025, 3, 31))
    assert figures(result.summary) == {
        "sessions_run": 1,
        "sessions_cancelled": 0,
        "places_offered": 10,
        "booked": 2,
        "attended": 1,
        "partial": 0,
        "walk_ins": 0,
        "late_cancellations": 1,
        "no_shows": 1,
        "turned_away": 0,
        "unable": 0,
    }
    assert result.by_month == [(date(2025, 3, 1), 10, 2, 1)]
    assert (result.responses, result.confidence_before, result.confidence_after) == (1, 1.0, 1.0)
    assert (result.costs_committed, result.costs_paid) == (0, 450_00)
    assert (result.charges_raised, result.charges_raised_pence) == (1, 35_00)
    # One day: 1 April alone holds S5 and the licence bought that day.
    day = report(date(2025, 4, 1), date(2025, 4, 1))
    assert (day.summary.sessions_run, day.summary.booked, day.summary.attended) == (1, 2, 1)
    assert day.costs_paid == 4_800_00


def test_a_period_with_nothing_in_it_has_no_rates_rather_than_zero_rates(w):
    result = report(date(2024, 1, 1), date(2024, 1, 31))
    assert figures(result.summary) == dict.fromkeys(figures(result.summary), 0)
    assert (result.summary.fill_rate, result.summary.show_rate) == (None, None)
    assert (result.responses, result.confidence_before, result.confidence_after) == (0, None, None)
    assert result.by_agency == []
    assert [(r.name, r.booked, r.show_rate) for r in result.by_programme] == [
        ("Domestic Abuse Act training", 0, None),
        ("Up2U Family Practice Model", 0, None),
    ]
    assert result.by_month == [(date(2024, 1, 1), 0, 0, 0)]


# --- coverage -----------------------------------------------------------------------------------

TODAY = date(2025, 6, 20)


def trained(db, course, person, day, attendance=ATTENDED, *, walk_in=False, agency=None, hour=10):
    """A run session of ``course`` on ``day`` (local time) that ``person`` is marked on."""
    session = make_session(course, local(day, hour), hours=1, status=SessionStatus.DELIVERED)
    return book(db, session, person, attendance=attendance, walk_in=walk_in, agency=agency)


def target(db, agency, course, needed):
    db.session.add(CoverageTarget(agency=agency, course=course, staff_needed=needed))


def coverage_rows(agency=None, today=TODAY) -> list[tuple]:
    return [
        (r.agency.name, r.course.title, r.needed, r.in_date, r.due_soon, r.overdue, r.gap)
        for r in coverage(today, agency.id if agency else None)
    ]


@pytest.mark.parametrize(
    ("attended_on", "expected"),
    [
        # A 12-month refresher seen on 20 June 2025: due on the anniversary of the course.
        (date(2024, 6, 19), (0, 0, 1)),  # was due 19 June 2025, yesterday: overdue
        (date(2024, 6, 20), (1, 1, 0)),  # due today: still in date, and due within 90 days
        (date(2024, 9, 18), (1, 1, 0)),  # due 18 September 2025, 90 days on: due soon
        (date(2024, 9, 19), (1, 0, 0)),  # due in 91 days: in date, not yet due
        (date(2025, 6, 19), (1, 0, 0)),  # trained yesterday
    ],
    ids=lambda value: str(value),
)
def test_a_refresher_falls_due_90_days_ahead_and_is_overdue_the_day_after(db, attended_on, expected):
    police = make_agency("Wessex Police")
    course = make_course(title="DASH Risk Assessment", refresher_months=12)
    trained(db, course, make_user(agency=police), attended_on)
    target(db, police, course, 4)
    in_date, due_soon, overdue = expected
    assert coverage_rows() == [("Wessex Police", "DASH Risk Assessment", 4, in_date, due_soon, overdue, 4 - in_date)]


def test_due_dates_follow_the_local_day_of_the_course(db):
    # 00:30 on 20 June 2024 here is 23:30 on 19 June in UTC: the course was on the 20th, so it is
    # due today (in date, due soon), not overdue since yesterday.
    police = make_agency("Wessex Police")
    course = make_course(title="DASH Risk Assessment", refresher_months=12)
    trained(db, course, make_user(agency=police), date(2024, 6, 20), hour=0)
    target(db, police, course, 1)
    assert coverage_rows() == [("Wessex Police", "DASH Risk Assessment", 1, 1, 1, 0, 0)]
    # The next day it is overdue.
    assert coverage_rows(today=TODAY + timedelta(days=1)) == [("Wessex Police", "DASH Risk Assessment", 1, 0, 0, 1, 1)]


@pytest.fixture
def trained_staff(db):
    """Two agencies with targets for a refresher course and a course that never expires."""
    police = make_agency("Wessex Police")
    council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
    charity = make_agency("Harbour Charity", kind=AgencyKind.VOLUNTARY)
    dash = make_course(title="DASH Risk Assessment", refresher_months=12)
    up2u = make_course(title="Up2U Practitioner Training", refresher_months=None, partial_counts_as_completed=True)
    p = [make_user(agency=police, name=f"Police {n}") for n in range(1, 10)]
    lead = make_user(Role.AGENCY_LEAD, agency=police, name="Police lead")
    q = [make_user(agency=council, name=f"Council {n}") for n in range(1, 4)]

    trained(db, dash, p[0], date(2024, 6, 19))  # overdue
    trained(db, dash, p[1], date(2024, 6, 20))  # in date, due soon
    trained(db, dash, p[2], date(2024, 9, 18))  # in date, due soon
    trained(db, dash, p[3], date(2023, 1, 10))  # overdue, but ...
    trained(db, dash, p[3], date(2025, 1, 10))  # ... came again: in date
    trained(db, dash, p[4], date(2025, 2, 1), PARTIAL)  # partial does not count for DASH: not trained
    trained(db, dash, p[5], date(2025, 3, 1), NO_SHOW)  # not trained
    trained(db, dash, p[6], date(2025, 4, 1), walk_in=True)  # a walk-in who attended is trained: in date
    p[7].active = False
    trained(db, dash, p[7], date(2025, 4, 1))  # has left: not counted
    trained(db, dash, lead, date(2025, 5, 1))  # the lead is one of the agency's staff: in date
    trained(db, up2u, p[0], date(2015, 1, 10))  # no refresher: in date for good
    trained(db, up2u, p[8], date(2025, 2, 1), PARTIAL)  # Up2U counts partial attendance
    trained(db, dash, q[0], date(2025, 5, 1))  # in date
    trained(db, dash, q[1], date(2024, 1, 1))  # overdue
    trained(db, dash, q[2], date(2025, 2, 1), agency=police)  # trained while at the police; counts where they are now
    target(db, police, dash, 10)
    target(db, police, up2u, 3)
    target(db, council, dash, 2)
    target(db, council, up2u, 4)
    target(db, charity, dash, 5)
    db.session.flush()
    return SimpleNamespace(police=police, council=council)


def test_coverage_per_agency_and_course(trained_staff):
    # (agency, course, needed, trained and in date, of whom due within 90 days, overdue, still to train)
    assert coverage_rows() == [
        ("Downs Council", "DASH Risk Assessment", 2, 2, 0, 1, 0),  # q1, q3 in date; q2 overdue
        ("Downs Council", "Up2U Practitioner Training", 4, 0, 0, 0, 4),  # nobody trained
        ("Harbour Charity", "DASH Risk Assessment", 5, 0, 0, 0, 5),
        ("Wessex Police", "DASH Risk Assessment", 10, 5, 2, 1, 5),  # p2 p3 (due soon) p4 p7 lead; p1 overdue
        ("Wessex Police", "Up2U Practitioner Training", 3, 2, 0, 0, 1),  # p1 (2015), p9 (partial counts)
    ]


def test_an_agency_lead_sees_only_their_agency(trained_staff):
    assert coverage_rows(trained_staff.police) == [
        ("Wessex Police", "DASH Risk Assessment", 10, 5, 2, 1, 5),
        ("Wessex Police", "Up2U Practitioner Training", 3, 2, 0, 0, 1),
    ]


@pytest.mark.parametrize(
    ("trained_on", "today", "expected"),
    [
        # A one-month refresher done on 28 February is due on 28 March: overdue by 30 March.
        (date(2025, 2, 28), date(2025, 3, 30), (0, 0, 1)),
        # Done on 31 January, it is due on 28 February, the month's last day: still in date that day.
        (date(2025, 1, 31), date(2025, 2, 28), (1, 1, 0)),
        (date(2025, 1, 31), date(2025, 3, 1), (0, 0, 1)),
    ],
    ids=str,
)
def test_refreshers_due_at_a_month_end_are_counted_on_their_real_due_date(db, trained_on, today, expected):
    police = make_agency("Wessex Police")
    course = make_course(title="Monthly Briefing", refresher_months=1)
    trained(db, course, make_user(agency=police), trained_on)
    target(db, police, course, 1)
    in_date, due_soon, overdue = expected
    assert coverage_rows(today=today) == [
        ("Wessex Police", "Monthly Briefing", 1, in_date, due_soon, overdue, 1 - in_date)
    ]


def test_attendance_at_a_cancelled_session_is_not_coverage(db):
    police = make_agency("Wessex Police")
    course = make_course(title="DASH Risk Assessment", refresher_months=12)
    booking = trained(db, course, make_user(agency=police), date(2025, 5, 1))
    booking.session.status = SessionStatus.CANCELLED
    target(db, police, course, 1)
    assert coverage_rows() == [("Wessex Police", "DASH Risk Assessment", 1, 0, 0, 0, 1)]


def test_coverage_of_courses_that_never_need_refreshing(db):
    police = make_agency("Wessex Police")
    course = make_course(title="Up2U Practitioner Training", refresher_months=None)
    trained(db, course, make_user(agency=police), date(2015, 1, 10))
    target(db, police, course, 2)
    assert coverage_rows() == [("Wessex Police", "Up2U Practitioner Training", 2, 1, 0, 0, 1)]
