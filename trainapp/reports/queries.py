"""The board report and coverage, computed in SQL aggregates (no rows loaded into Python)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from trainapp.accounts.models import Agency, User
from trainapp.attendance import refreshers
from trainapp.attendance.models import Evaluation, EvaluationKind
from trainapp.bookings.completion import last_completions, was_present
from trainapp.bookings.models import AgencyReservation, AttendanceStatus, Booking, BookingAccessNeeds, BookingStatus
from trainapp.bookings.needs_list import is_requested
from trainapp.catalogue.models import Course, Programme, SessionStatus, TrainingSession
from trainapp.db import UTCDateTime, utcnow
from trainapp.extensions import db
from trainapp.funding.models import Charge, ChargeStatus, CostLine, CostState
from trainapp.reports.models import CoverageTarget
from trainapp.timezones import local_to_utc

ABSENT = [AttendanceStatus.NO_SHOW, AttendanceStatus.TURNED_AWAY, AttendanceStatus.UNABLE]


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
    # Places booked whose holder asked for access needs, and how many of those were arranged.
    needs_requested: int = 0
    needs_arranged: int = 0
    # With an agency chosen: places held for it, and how many of those its people booked.
    places_held: int | None = None
    booked_on_held: int = 0

    @property
    def fill_rate(self) -> float | None:
        """Places booked over places offered; for one agency, over the places held for it.

        One agency's bookings over every agency's places would read as the partnership's
        sessions standing empty.
        """
        if self.places_held is not None:
            return self.booked_on_held / self.places_held if self.places_held else None
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
    needs_requested: int = 0
    needs_arranged: int = 0

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
    agency_name: str | None = None  # the agency chosen, if any


def _months(filters: ReportFilters) -> list[date]:
    """The first day of every month the range touches."""
    months, day = [], filters.start.replace(day=1)
    while day <= filters.end:
        months.append(day)
        day += relativedelta(months=1)
    return months


def _month_index(filters: ReportFilters):
    """Which of the range's months (local time) a session starts in, as 0, 1, 2...

    Month boundaries are local midnights turned into UTC here, so a session at 00:30 on
    1 April in BST (23:30 on 31 March in UTC) counts in April, on every database.
    """
    ends = [local_to_utc(month, time(0)) for month in _months(filters)[1:]] + [filters.utc_range[1]]
    return sa.case(*[(TrainingSession.starts_at < end, index) for index, end in enumerate(ends)], else_=len(ends) - 1)


def _sessions(filters: ReportFilters, now: datetime) -> sa.CTE:
    """Sessions starting in the range (and programme), as a common table of ids and facts.

    Materialised, so each session's month is worked out once, not again for every booking
    joined to it (SQLite would otherwise fold the table into the query that joins it).
    """
    start, end = filters.utc_range
    query = (
        sa.select(
            TrainingSession.id,
            TrainingSession.capacity,
            TrainingSession.status,
            TrainingSession.starts_at,
            TrainingSession.ends_at,
            Course.programme_id,
            _month_index(filters).label("month"),
        )
        .join(TrainingSession.course)
        .where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end)
    )
    if filters.programme_id:
        query = query.where(Course.programme_id == filters.programme_id)
    return query.cte("report_sessions").prefix_with("MATERIALIZED")


def _ran(sessions, now: datetime):
    return sa.and_(sessions.c.status != SessionStatus.CANCELLED, sessions.c.ends_at <= now)


def _count(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def board_report(filters: ReportFilters, now: datetime) -> BoardReport:
    """Every figure a board asks for, each an aggregate over the range.

    Sessions and bookings are each read once, grouped as finely as any table needs (programme
    and month; agency, programme and month), and the tables are added up from those groups:
    one pass over the range's bookings costs as much as each of five did.
    """
    scope = _scope(filters, now)
    offered = _session_groups(scope)
    booked = _booking_groups(scope)
    summary = _summary(scope, offered, booked)
    before, after, responses = _confidence(scope)
    committed, paid = _costs(filters)
    charges = _charges(filters)
    raised = charges.get(ChargeStatus.RAISED, (0, 0))
    waived = charges.get(ChargeStatus.WAIVED, (0, 0))
    return BoardReport(
        filters=filters,
        summary=summary,
        by_agency=_by_agency(booked),
        by_programme=_by_programme(filters, offered, booked),
        by_month=_by_month(filters, offered, booked),
        confidence_before=float(before) if before is not None else None,
        confidence_after=float(after) if after is not None else None,
        responses=int(responses),
        costs_committed=int(committed),
        costs_paid=int(paid),
        charges_raised=raised[0],
        charges_raised_pence=raised[1],
        charges_waived=waived[0],
        charges_waived_pence=waived[1],
        absence={
            "No-show": summary.no_shows,
            "Late and turned away": summary.turned_away,
            "Unable to attend (gave notice)": summary.unable,
            "Late cancellation": summary.late_cancellations,
        },
        agency_name=db.get_or_404(Agency, filters.agency_id).name if filters.agency_id else None,
    )


@dataclass(frozen=True)
class _Scope:
    """What the board report counts over: the range's sessions, those that ran, and whose bookings."""

    filters: ReportFilters
    sessions: sa.CTE
    ran: sa.ColumnElement[bool]
    placed: sa.ColumnElement[bool]  # booked in advance, not a walk-in


def _scope(filters: ReportFilters, now: datetime) -> _Scope:
    """The sessions and bookings every figure of the report is counted over."""
    sessions = _sessions(filters, now)
    return _Scope(filters, sessions, _ran(sessions, now), Booking.is_walk_in.is_(False))


@dataclass
class _Offered:
    """Sessions in one programme and month: how many ran and were cancelled, and the places on those run."""

    run: int = 0
    cancelled: int = 0
    places: int = 0


def _session_groups(scope: _Scope) -> dict[tuple[int, int], _Offered]:
    """(programme id, month index) -> the sessions starting then, in one grouped query."""
    sessions, ran = scope.sessions, scope.ran
    return {
        (programme_id, month): _Offered(int(run), int(cancelled), int(places))
        for programme_id, month, run, cancelled, places in db.session.execute(
            sa.select(
                sessions.c.programme_id,
                sessions.c.month,
                _count(ran),
                _count(sessions.c.status == SessionStatus.CANCELLED),
                sa.func.coalesce(sa.func.sum(sa.case((ran, sessions.c.capacity), else_=0)), 0),
            ).group_by(sessions.c.programme_id, sessions.c.month)
        )
    }


# What _booking_groups counts, in order: each a number of bookings.
_FIGURES = (
    "booked",
    "attended",
    "partial",
    "walk_ins",
    "no_shows",
    "turned_away",
    "unable",
    "late_cancellations",
    "needs_requested",
    "needs_arranged",
)


def _booking_groups(scope: _Scope) -> dict[tuple[int | None, int, int], tuple[int, ...]]:
    """(agency id, programme id, month index) -> the _FIGURES for the bookings in that group.

    Confirmed bookings on sessions that ran count towards places booked and attendance; late
    cancellations count on every session in the range, whatever became of it. Access needs are
    counted on the places booked, from rows that outlive the erasing of what was asked.
    """
    sessions, ran, placed = scope.sessions, scope.ran, scope.placed
    counted = sa.and_(ran, Booking.status == BookingStatus.CONFIRMED)
    late = Booking.is_late_cancellation.is_(True)
    query = (
        sa.select(
            Booking.agency_id,
            sessions.c.programme_id,
            sessions.c.month,
            _count(sa.and_(counted, placed)),
            _count(sa.and_(counted, placed, was_present())),
            _count(sa.and_(counted, Booking.attendance == AttendanceStatus.PARTIAL)),
            _count(sa.and_(counted, Booking.is_walk_in.is_(True))),
            _count(sa.and_(counted, Booking.attendance == AttendanceStatus.NO_SHOW)),
            _count(sa.and_(counted, Booking.attendance == AttendanceStatus.TURNED_AWAY)),
            _count(sa.and_(counted, Booking.attendance == AttendanceStatus.UNABLE)),
            _count(late),
            _count(sa.and_(counted, placed, is_requested())),
            _count(sa.and_(counted, placed, is_requested(), BookingAccessNeeds.arranged_at.is_not(None))),
        )
        .join(sessions, sessions.c.id == Booking.session_id)
        .outerjoin(BookingAccessNeeds, BookingAccessNeeds.booking_id == Booking.id)
        .where(sa.or_(Booking.status == BookingStatus.CONFIRMED, late))
        .group_by(Booking.agency_id, sessions.c.programme_id, sessions.c.month)
    )
    if scope.filters.agency_id:
        query = query.where(Booking.agency_id == scope.filters.agency_id)
    return {
        (agency_id, programme_id, month): tuple(int(n) for n in figures)
        for agency_id, programme_id, month, *figures in db.session.execute(query)
    }


def _added_up(groups, key) -> dict:
    """The groups' figures added up by ``key(group)``."""
    totals: dict = {}
    for group, figures in groups.items():
        before = totals.get(key(group))
        totals[key(group)] = figures if before is None else tuple(a + b for a, b in zip(before, figures, strict=True))
    return totals


def _summary(scope: _Scope, offered: dict[tuple[int, int], _Offered], booked: dict) -> Summary:
    """Sessions run and cancelled, places offered, and what became of the bookings on them."""
    figures = dict(zip(_FIGURES, _added_up(booked, lambda _: None).get(None, (0,) * len(_FIGURES)), strict=True))
    summary = Summary(
        sessions_run=sum(o.run for o in offered.values()),
        sessions_cancelled=sum(o.cancelled for o in offered.values()),
        places_offered=sum(o.places for o in offered.values()),
        **figures,
    )
    if scope.filters.agency_id:
        summary.places_held, summary.booked_on_held = _held_places(
            scope.filters.agency_id, scope.sessions, scope.ran, scope.placed
        )
    return summary


def _by_agency(booked: dict) -> list[Row]:
    """Booked, attended, no-shows and walk-ins per agency, by name."""
    # In the database's order of names, as every other list of agencies is.
    names = dict(db.session.execute(sa.select(Agency.id, Agency.name).order_by(Agency.name)).tuples().all())
    by_name = _added_up({g: f for g, f in booked.items() if g[0] in names}, lambda group: names[group[0]])
    rows = []
    for name in dict.fromkeys(names.values()):
        f = dict(zip(_FIGURES, by_name.get(name, (0,) * len(_FIGURES)), strict=True))
        # An agency has a row when its people took a place on a session that ran, booked or walked in.
        if f["booked"] or f["walk_ins"]:
            rows.append(
                Row(
                    name,
                    booked=f["booked"],
                    attended=f["attended"],
                    no_shows=f["no_shows"],
                    walk_ins=f["walk_ins"],
                    needs_requested=f["needs_requested"],
                    needs_arranged=f["needs_arranged"],
                )
            )
    return rows


def _by_programme(filters: ReportFilters, offered: dict[tuple[int, int], _Offered], booked: dict) -> list[Row]:
    """Sessions, places offered and what became of the bookings, per programme (or the one chosen)."""
    sessions_by_programme: dict[int, list[int]] = {}
    for (programme_id, _), o in offered.items():
        count, places = sessions_by_programme.get(programme_id, [0, 0])
        sessions_by_programme[programme_id] = [count + o.run, places + o.places]
    bookings_by_programme = {
        programme_id: dict(zip(_FIGURES, counts, strict=True))
        for programme_id, counts in _added_up(booked, lambda group: group[1]).items()
    }
    by_programme = []
    for programme_id, name in db.session.execute(sa.select(Programme.id, Programme.name).order_by(Programme.name)):
        if filters.programme_id and programme_id != filters.programme_id:
            continue
        count, places = sessions_by_programme.get(programme_id, [0, 0])
        f = bookings_by_programme.get(programme_id, dict.fromkeys(_FIGURES, 0))
        by_programme.append(
            Row(
                name,
                booked=f["booked"],
                attended=f["attended"],
                no_shows=f["no_shows"],
                walk_ins=f["walk_ins"],
                offered=places,
                sessions=count,
            )
        )
    return by_programme


def _by_month(
    filters: ReportFilters, offered: dict[tuple[int, int], _Offered], booked: dict
) -> list[tuple[date, int, int, int]]:
    """(month, places offered, booked, attended) for every month of the range."""
    places_by_month: dict[int, int] = {}
    for (_, month), o in offered.items():
        places_by_month[month] = places_by_month.get(month, 0) + o.places
    bookings_by_month = _added_up(booked, lambda group: group[2])
    # Every month of the range, so a month with nothing run shows as a gap in the chart.
    return [
        (first, places_by_month.get(index, 0), *bookings_by_month.get(index, (0, 0))[:2])
        for index, first in enumerate(_months(filters))
    ]


def _confidence(scope: _Scope) -> tuple:
    """Average confidence before and after the course, and how many answered, from after-course evaluations."""
    filters, sessions = scope.filters, scope.sessions
    confidence = (
        sa.select(
            sa.func.avg(Evaluation.confidence_before),
            sa.func.avg(Evaluation.confidence_after),
            sa.func.count(Evaluation.id),
        )
        .join(Evaluation.booking)
        .join(sessions, sessions.c.id == Booking.session_id)
        .where(Evaluation.kind == EvaluationKind.AFTER)
    )
    if filters.agency_id:
        confidence = confidence.where(Booking.agency_id == filters.agency_id)
    return tuple(db.session.execute(confidence).one())


def _costs(filters: ReportFilters) -> tuple[int, int]:
    """Costs committed and paid in the range, for the programme chosen if any."""
    cost_query = sa.select(
        sa.func.coalesce(
            sa.func.sum(sa.case((CostLine.state == CostState.COMMITTED, CostLine.amount_pence), else_=0)), 0
        ),
        sa.func.coalesce(sa.func.sum(sa.case((CostLine.state == CostState.PAID, CostLine.amount_pence), else_=0)), 0),
    ).where(CostLine.incurred_on >= filters.start, CostLine.incurred_on <= filters.end)
    if filters.programme_id:
        # A cost line is for one session or one programme: either way it belongs to a programme.
        cost_query = cost_query.where(
            sa.or_(
                CostLine.programme_id == filters.programme_id,
                CostLine.session_id.in_(
                    sa.select(TrainingSession.id)
                    .join(TrainingSession.course)
                    .where(Course.programme_id == filters.programme_id)
                ),
            )
        )
    committed, paid = db.session.execute(cost_query).one()
    return committed, paid


def _charges(filters: ReportFilters) -> dict[ChargeStatus, tuple[int, int]]:
    """(number, pence) of charges raised in the range per status, withdrawn ones left out."""
    start, end = filters.utc_range
    charge_query = (
        sa.select(Charge.status, sa.func.count(Charge.id), sa.func.coalesce(sa.func.sum(Charge.amount_pence), 0))
        .where(Charge.raised_at >= start, Charge.raised_at < end, Charge.status != ChargeStatus.WITHDRAWN)
        .group_by(Charge.status)
    )
    if filters.agency_id:
        charge_query = charge_query.where(Charge.agency_id == filters.agency_id)
    if filters.programme_id:
        charge_query = charge_query.where(
            Charge.booking_id.in_(
                sa.select(Booking.id)
                .join(Booking.session)
                .join(TrainingSession.course)
                .where(Course.programme_id == filters.programme_id)
            )
        )
    return {status: (int(n), int(total)) for status, n, total in db.session.execute(charge_query)}


def _held_places(agency_id: int, sessions, ran, placed) -> tuple[int, int]:
    """Places held for one agency on the sessions run, and how many its people booked."""
    held = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(AgencyReservation.places), 0))
        .join(sessions, sessions.c.id == AgencyReservation.session_id)
        .where(ran, AgencyReservation.agency_id == agency_id)
    ).scalar_one()
    booked = db.session.execute(
        sa.select(sa.func.count(Booking.id))
        .join(sessions, sessions.c.id == Booking.session_id)
        .where(
            ran,
            placed,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.agency_id == agency_id,
            Booking.reserved_for_agency_id == agency_id,
        )
    ).scalar_one()
    return int(held), int(booked)


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


def coverage(today: date, agency_id: int | None = None, now: datetime | None = None) -> list[CoverageRow]:
    """Per agency and course with a target: staff trained and in date, due within 90 days, overdue.

    Trained means completed, as every page counts it (``trainapp.bookings.completion``), by the
    end of ``today`` (or ``now``, if sooner). One aggregate query: each course's refresher period
    turns "due" and "overdue" into two fixed cut-off instants, so the database does the counting.
    """
    query = sa.select(CoverageTarget).options(
        sa.orm.joinedload(CoverageTarget.agency), sa.orm.joinedload(CoverageTarget.course)
    )
    if agency_id:
        query = query.where(CoverageTarget.agency_id == agency_id)
    targets = db.session.scalars(query).all()
    counts: dict[tuple[int, int], tuple[int, int, int]] = {}
    if targets:
        ended_by = min(now or utcnow(), local_to_utc(today + timedelta(days=1), time(0)))
        last = last_completions(ended_by)
        periods = sorted({t.course.refresher_months for t in targets if t.course.refresher_months})
        due_by, overdue_by = refreshers.cut_offs(periods, today)
        months = Course.refresher_months
        overdue_before = refreshers.by_period(months, overdue_by, UTCDateTime())
        due_before = refreshers.by_period(months, due_by, UTCDateTime())
        is_overdue = sa.and_(months.is_not(None), last.c.completed_at < overdue_before)
        is_due_soon = sa.and_(
            months.is_not(None), last.c.completed_at >= overdue_before, last.c.completed_at < due_before
        )
        rows = db.session.execute(
            sa.select(User.agency_id, last.c.course_id, sa.func.count(), _count(is_due_soon), _count(is_overdue))
            .select_from(last)
            .join(User, User.id == last.c.user_id)
            .join(Course, Course.id == last.c.course_id)
            # Staff count where they work now, whoever they were with when they trained.
            .where(User.active.is_(True), last.c.course_id.in_({t.course_id for t in targets}))
            .group_by(User.agency_id, last.c.course_id)
        )
        for agency, course_id, trained, soon, late in rows:
            counts[(agency, course_id)] = (int(trained) - int(late), int(soon), int(late))
    result = []
    for target in sorted(targets, key=lambda t: (t.agency.name, t.course.title)):
        in_date, due_soon, overdue = counts.get((target.agency_id, target.course_id), (0, 0, 0))
        result.append(CoverageRow(target.agency, target.course, target.staff_needed, in_date, due_soon, overdue))
    return result
