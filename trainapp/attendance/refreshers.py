"""When a course needs doing again: refresher due dates, computed by the database.

A refresher falls due the course's refresher period after the local day of the person's latest
completion (see ``trainapp.bookings.completion``). It is "due soon" from 90 days before that day
and "overdue" the day after it. Because adding months is not something SQLite and PostgreSQL
agree on, queries compare the completion instant with cut-offs worked out here, one per
refresher period, so both databases count and filter exactly the same rows.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.compiler import compiles

from trainapp.timezones import local_to_utc, local_zone, to_local

DUE_SOON = timedelta(days=90)
IN_DATE, DUE, OVERDUE = "in date", "due soon", "overdue"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), or that month's last day when it is shorter."""
    return day + relativedelta(months=months)


def due_on(completed_at: datetime, months: int) -> date:
    return add_months(completed_on(completed_at), months)


def completed_on(completed_at: datetime) -> date:
    if completed_at.tzinfo is None:  # a bare aggregate on SQLite comes back without its zone
        completed_at = completed_at.replace(tzinfo=UTC)
    return to_local(completed_at).date()


def state(due: date, today: date) -> str:
    if due < today:
        return OVERDUE
    return DUE if due <= today + DUE_SOON else IN_DATE


def completed_before_due_by(months: int, last_day: date) -> datetime:
    """The first instant whose completion falls due after ``last_day``.

    A completion at any earlier instant is due on or before ``last_day``. Month ends make this
    more than subtracting months: with a one-month period, 29, 30 and 31 January are all due on
    28 February.
    """
    latest = add_months(last_day, -months)
    while add_months(latest + timedelta(days=1), months) <= last_day:
        latest += timedelta(days=1)
    return local_to_utc(latest + timedelta(days=1), time(0))


def cut_offs(months: list[int], today: date) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """Per refresher period, completions before which are (due within 90 days, overdue) today."""
    due = {m: completed_before_due_by(m, today + DUE_SOON) for m in months}
    overdue = {m: completed_before_due_by(m, today - timedelta(days=1)) for m in months}
    return due, overdue


def by_period(period: sa.ColumnExpressionArgument[int | None], values: dict[int, datetime], type_) -> sa.ColumnElement:
    """A SQL CASE choosing each row's cut-off by its course's refresher period."""
    if not values:
        return sa.cast(sa.null(), type_)  # no course needs refreshing: nothing falls due
    return sa.case({m: sa.literal(v, type_) for m, v in values.items()}, value=period)


def due_order(
    completed_at: sa.ColumnElement, months: sa.ColumnExpressionArgument[int | None]
) -> list[sa.ColumnElement]:
    """ORDER BY terms that sort rows by their due date: the due month, then the day of the month.

    The day is the completion's own day: a month-end clamp never changes which comes first.
    """
    local = LocalTimestamp(completed_at)
    month = sa.cast(sa.extract("year", local), sa.Integer) * 12 + sa.cast(sa.extract("month", local), sa.Integer)
    return [month + months, sa.cast(sa.extract("day", local), sa.Integer)]


class LocalTimestamp(sa.sql.expression.FunctionElement):
    """A stored UTC timestamp as the partnership's local wall-clock time, inside a query."""

    type = sa.DateTime()
    name = "local_timestamp"
    inherit_cache = True


@compiles(LocalTimestamp, "postgresql")
def _local_timestamp_postgresql(element, compiler, **kw):
    (column,) = element.clauses
    zone = sa.literal(local_zone().key)
    return f"timezone({compiler.process(zone, **kw)}, timezone('UTC', {compiler.process(column, **kw)}))"


@compiles(LocalTimestamp)
def _local_timestamp_sqlite(element, compiler, **kw):
    # SQLite knows no time zones. Europe/London, like the rest of Europe, moves its clocks at
    # 01:00 UTC on the last Sunday of March and of October; its two offsets come from the zone.
    (column,) = element.clauses
    winter, summer = _offsets(local_zone())
    at = compiler.process(column, **kw)
    year = f"strftime('%Y', {at})"
    starts = f"datetime({year} || '-03-25', 'weekday 0', '+1 hours')"
    ends = f"datetime({year} || '-10-25', 'weekday 0', '+1 hours')"
    return (
        f"datetime({at}, CASE WHEN {at} >= {starts} AND {at} < {ends} "
        f"THEN '{summer:+d} minutes' ELSE '{winter:+d} minutes' END)"
    )


def _offsets(zone: ZoneInfo) -> tuple[int, int]:
    """The zone's winter and summer offsets from UTC, in minutes."""
    year = to_local(datetime.now(UTC)).year
    return _minutes_from_utc(datetime(year, 1, 15, tzinfo=zone)), _minutes_from_utc(datetime(year, 7, 15, tzinfo=zone))


def _minutes_from_utc(moment: datetime) -> int:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{moment!r} has no time zone, so no offset from UTC")
    return int(offset.total_seconds() // 60)
