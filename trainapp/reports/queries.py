"""The board report and coverage, computed in SQL aggregates (no rows loaded into Python)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from trainapp.accounts.models import Agency, User
from trainapp.attendance.models import Evaluation, EvaluationKind
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import Course, Programme, SessionStatus, TrainingSession
from trainapp.extensions import db
from trainapp.funding.models import Charge, ChargeStatus, CostLine, CostState
from trainapp.timezones import local_to_utc

ABSENT = [AttendanceStatus.NO_SHOW, AttendanceStatus.TURNED_AWAY, AttendanceStatus.UNABLE]
THERE = [AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL]


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    programme_id: int | None = None
    agency_id: int | None = None

    @property
    def utc_range(self) -> tuple[datetime, datetime]:
        return local_to_utc(self.start, time(0)), local_to_utc(self.end + timedelta(days=1), time(0))


@dataclass
class Summary:
    sessions_run: int = 0
    sessions_cancelled: int = 0
    places_offered: int = 0
    booked: int = 0
    attended: int = 0
    partial: int = 0
    walk_ins: int = 0
    late_cancellations: int = 0
    no_shows: int = 0
    turned_away: int = 0
    unable: int = 0

    @property
    def fill_rate(self) -> float | None:
        return self.booked / self.places_offered if self.places_offered else None

    @property
    def show_rate(self) -> float | None:
        return self.attended / self.booked if self.booked else None


@dataclass
class Row:
    name: str
    booked: int = 0
    attended: int = 0
    no_shows: int = 0
    walk_ins: int = 0
    offered: int = 0
    sessions: int = 0

    @property
    def show_rate(self) -> float | None:
        return self.attended / self.booked if self.booked else None


@dataclass
class BoardReport:
    filters: ReportFilters
    summary: Summary
    by_agency: list[Row]
    by_programme: list[Row]
    by_month: list[tuple[date, int, int, int]]  # month, offered, booked, attended
    confidence_before: float | None
    confidence_after: float | None
    responses: int
    costs_committed: int
    costs_paid: int
    charges_raised: int
    charges_raised_pence: int
    charges_waived: int
    charges_waived_pence: int
    absence: dict[str, int] = field(default_factory=dict)


def _months(filters: ReportFilters) -> list[date]:
    """The first day of every month the range touches."""
    months, day = [], filters.start.replace(day=1)
    while day <= filters.end:
        months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def _month_index(filters: ReportFilters):
    """Which of the range's months (local time) a session starts in, as 0, 1, 2...

    Month boundaries are local midnights turned into UTC here, so a session at 00:30 on
    1 April in BST (23:30 on 31 March in UTC) counts in April, on every database.
    """
    ends = [local_to_utc(month, time(0)) for month in _months(filters)[1:]] + [filters.utc_range[1]]
    return sa.case(*[(TrainingSession.starts_at < end, index) for index, end in enumerate(ends)],
                   else_=len(ends) - 1)


def _sessions(filters: ReportFilters, now: datetime):
    """Sessions starting in the range (and programme), as a subquery of ids and facts."""
    start, end = filters.utc_range
    query = (
        sa.select(TrainingSession.id, TrainingSession.capacity, TrainingSession.status, TrainingSession.starts_at,
                  TrainingSession.ends_at, Course.programme_id, _month_index(filters).label("month"))
        .join(TrainingSession.course)
        .where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end)
    )
    if filters.programme_id:
        query = query.where(Course.programme_id == filters.programme_id)
    return query.subquery()


def _ran(sessions, now: datetime):
    return sa.and_(sessions.c.status != SessionStatus.CANCELLED, sessions.c.ends_at <= now)


def _count(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def board_report(filters: ReportFilters, now: datetime) -> BoardReport:
    """Every figure a board asks for, each an aggregate over the range."""
    sessions = _sessions(filters, now)
    ran = _ran(sessions, now)
    run, cancelled, offered = db.session.execute(
        sa.select(_count(ran), _count(sessions.c.status == SessionStatus.CANCELLED),
                  sa.func.coalesce(sa.func.sum(sa.case((ran, sessions.c.capacity), else_=0)), 0))
    ).one()

    booking_filter = [Booking.status == BookingStatus.CONFIRMED]
    if filters.agency_id:
        booking_filter.append(Booking.agency_id == filters.agency_id)
    placed = Booking.is_walk_in.is_(False)
    figures = db.session.execute(
        sa.select(
            _count(placed),
            _count(sa.and_(placed, Booking.attendance.in_(THERE))),
            _count(Booking.attendance == AttendanceStatus.PARTIAL),
            _count(Booking.is_walk_in.is_(True)),
            _count(Booking.attendance == AttendanceStatus.NO_SHOW),
            _count(Booking.attendance == AttendanceStatus.TURNED_AWAY),
            _count(Booking.attendance == AttendanceStatus.UNABLE),
        )
        .join(sessions, sessions.c.id == Booking.session_id)
        .where(ran, *booking_filter)
    ).one()
    late_query = (
        sa.select(sa.func.count(Booking.id))
        .join(sessions, sessions.c.id == Booking.session_id)
        .where(Booking.is_late_cancellation.is_(True))
    )
    if filters.agency_id:
        late_query = late_query.where(Booking.agency_id == filters.agency_id)
    summary = Summary(
        sessions_run=int(run), sessions_cancelled=int(cancelled), places_offered=int(offered),
        booked=int(figures[0]), attended=int(figures[1]), partial=int(figures[2]), walk_ins=int(figures[3]),
        no_shows=int(figures[4]), turned_away=int(figures[5]), unable=int(figures[6]),
        late_cancellations=int(db.session.scalar(late_query)),
    )

    by_agency = [
        Row(name=name, booked=int(b), attended=int(a), no_shows=int(n), walk_ins=int(w))
        for name, b, a, n, w in db.session.execute(
            sa.select(Agency.name, _count(placed), _count(sa.and_(placed, Booking.attendance.in_(THERE))),
                      _count(Booking.attendance == AttendanceStatus.NO_SHOW), _count(Booking.is_walk_in.is_(True)))
            .join(sessions, sessions.c.id == Booking.session_id)
            .join(Agency, Agency.id == Booking.agency_id)
            .where(ran, *booking_filter)
            .group_by(Agency.name).order_by(Agency.name)
        )
    ]
    offered_by_programme = {
        programme_id: (int(count), int(capacity or 0))
        for programme_id, count, capacity in db.session.execute(
            sa.select(sessions.c.programme_id, sa.func.count(sessions.c.id), sa.func.sum(sessions.c.capacity))
            .where(ran).group_by(sessions.c.programme_id)
        )
    }
    booked_by_programme = {
        p: (int(b), int(a), int(n), int(w))
        for p, b, a, n, w in db.session.execute(
            sa.select(sessions.c.programme_id, _count(placed), _count(sa.and_(placed, Booking.attendance.in_(THERE))),
                      _count(Booking.attendance == AttendanceStatus.NO_SHOW), _count(Booking.is_walk_in.is_(True)))
            .join(sessions, sessions.c.id == Booking.session_id)
            .where(ran, *booking_filter).group_by(sessions.c.programme_id)
        )
    }
    by_programme = []
    for programme in db.session.scalars(sa.select(Programme).order_by(Programme.name)):
        if filters.programme_id and programme.id != filters.programme_id:
            continue
        count, capacity = offered_by_programme.get(programme.id, (0, 0))
        b, a, n, w = booked_by_programme.get(programme.id, (0, 0, 0, 0))
        by_programme.append(Row(programme.name, booked=b, attended=a, no_shows=n, walk_ins=w,
                                offered=int(capacity or 0), sessions=int(count)))

    month = sessions.c.month
    offered_by_month = dict(db.session.execute(
        sa.select(month, sa.func.sum(sessions.c.capacity)).where(ran).group_by(month)
    ).all())
    bookings_by_month = {
        m: (int(b), int(a)) for m, b, a in db.session.execute(
            sa.select(month, _count(placed), _count(sa.and_(placed, Booking.attendance.in_(THERE))))
            .join(sessions, sessions.c.id == Booking.session_id)
            .where(ran, *booking_filter).group_by(month)
        )
    }
    # Every month of the range, so a month with nothing run shows as a gap in the chart.
    by_month = [
        (first, int(offered_by_month.get(index) or 0), *bookings_by_month.get(index, (0, 0)))
        for index, first in enumerate(_months(filters))
    ]

    confidence = sa.select(
        sa.func.avg(Evaluation.confidence_before), sa.func.avg(Evaluation.confidence_after),
        sa.func.count(Evaluation.id),
    ).join(Evaluation.booking).join(sessions, sessions.c.id == Booking.session_id).where(
        Evaluation.kind == EvaluationKind.AFTER)
    if filters.agency_id:
        confidence = confidence.where(Booking.agency_id == filters.agency_id)
    before, after, responses = db.session.execute(confidence).one()

    start, end = filters.utc_range
    cost_query = sa.select(
        sa.func.coalesce(sa.func.sum(sa.case((CostLine.state == CostState.COMMITTED, CostLine.amount_pence),
                                             else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((CostLine.state == CostState.PAID, CostLine.amount_pence), else_=0)), 0),
    ).where(CostLine.incurred_on >= filters.start, CostLine.incurred_on <= filters.end)
    if filters.programme_id:
        # A cost line is for one session or one programme: either way it belongs to a programme.
        cost_query = cost_query.where(sa.or_(
            CostLine.programme_id == filters.programme_id,
            CostLine.session_id.in_(sa.select(TrainingSession.id).join(TrainingSession.course)
                                    .where(Course.programme_id == filters.programme_id)),
        ))
    committed, paid = db.session.execute(cost_query).one()
    charge_query = (
        sa.select(Charge.status, sa.func.count(Charge.id), sa.func.coalesce(sa.func.sum(Charge.amount_pence), 0))
        .where(Charge.raised_at >= start, Charge.raised_at < end, Charge.status != ChargeStatus.WITHDRAWN)
        .group_by(Charge.status)
    )
    if filters.agency_id:
        charge_query = charge_query.where(Charge.agency_id == filters.agency_id)
    if filters.programme_id:
        charge_query = charge_query.where(Charge.booking_id.in_(
            sa.select(Booking.id).join(Booking.session).join(TrainingSession.course)
            .where(Course.programme_id == filters.programme_id)))
    charges = {status: (int(n), int(total)) for status, n, total in db.session.execute(charge_query)}
    raised = charges.get(ChargeStatus.RAISED, (0, 0))
    waived = charges.get(ChargeStatus.WAIVED, (0, 0))
    return BoardReport(
        filters=filters, summary=summary, by_agency=by_agency, by_programme=by_programme, by_month=by_month,
        confidence_before=float(before) if before is not None else None,
        confidence_after=float(after) if after is not None else None, responses=int(responses),
        costs_committed=int(committed), costs_paid=int(paid),
        charges_raised=raised[0], charges_raised_pence=raised[1],
        charges_waived=waived[0], charges_waived_pence=waived[1],
        absence={"No-show": summary.no_shows, "Late and turned away": summary.turned_away,
                 "Unable to attend (gave notice)": summary.unable, "Late cancellation": summary.late_cancellations},
    )


@dataclass
class CoverageRow:
    agency: Agency
    course: Course
    needed: int
    in_date: int
    due_soon: int
    overdue: int

    @property
    def gap(self) -> int:
        return max(self.needed - self.in_date, 0)


def coverage(today: date, agency_id: int | None = None) -> list[CoverageRow]:
    """Per agency and course with a target: staff trained and in date, due within 90 days, overdue.

    One aggregate query per course that has targets: a course's refresher period turns
    "due" and "overdue" into two fixed cut-off dates, so the database does the counting.
    """
    from trainapp.attendance.services import add_months
    from trainapp.bookings.rules import completed_marks
    from trainapp.reports.models import CoverageTarget

    query = sa.select(CoverageTarget).options(
        sa.orm.joinedload(CoverageTarget.agency), sa.orm.joinedload(CoverageTarget.course)
    )
    if agency_id:
        query = query.where(CoverageTarget.agency_id == agency_id)
    targets = db.session.scalars(query).all()
    counts: dict[tuple[int, int], tuple[int, int, int]] = {}
    for course in {t.course for t in targets}:
        last = (
            sa.select(User.agency_id.label("agency_id"), sa.func.max(TrainingSession.starts_at).label("last"))
            .select_from(Booking).join(Booking.user).join(Booking.session)
            # Trained means the course was completed: partly attending counts only where the course says so.
            .where(Booking.status == BookingStatus.CONFIRMED, Booking.attendance.in_(completed_marks(course)),
                   User.active.is_(True),
                   TrainingSession.course_id == course.id)
            .group_by(User.agency_id, User.id)
            .subquery()
        )
        if course.refresher_months:
            # attended on or after `fresh` -> in date; before `due_by` -> due within 90 days.
            overdue_before = local_to_utc(add_months(today, -course.refresher_months), time(0))
            due_before = local_to_utc(add_months(today + timedelta(days=91), -course.refresher_months), time(0))
            in_date = _count(last.c.last >= overdue_before)
            due_soon = _count(sa.and_(last.c.last >= overdue_before, last.c.last < due_before))
            overdue = _count(last.c.last < overdue_before)
        else:
            in_date, due_soon, overdue = sa.func.count(), sa.literal(0), sa.literal(0)
        for agency, fresh, soon, late in db.session.execute(
            sa.select(last.c.agency_id, in_date, due_soon, overdue).group_by(last.c.agency_id)
        ):
            counts[(agency, course.id)] = (int(fresh), int(soon), int(late))
    result = []
    for target in sorted(targets, key=lambda t: (t.agency.name, t.course.title)):
        in_date, due_soon, overdue = counts.get((target.agency_id, target.course_id), (0, 0, 0))
        result.append(CoverageRow(target.agency, target.course, target.staff_needed, in_date, due_soon, overdue))
    return result
