"""One place that turns stored UTC into the partnership's local time for people."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def format_datetime(moment: datetime | None) -> str:
    """'Thursday 4 November 2027, 10am' in local time."""
    if moment is None:
        return ""
    local = to_local(moment)
    return f"{_long_day(local)}, {format_clock(local.time())}{_zone_if_repeated(local)}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return f"{value.day} {value:%B %Y}"


class UnclearLocalTime(ValueError):
    """A wall-clock time that names no single instant; the message says why, for the person."""


class NonexistentLocalTime(UnclearLocalTime):
    """A wall-clock time skipped when the clocks go forward (e.g. 01:30 on the last Sunday of March)."""


class AmbiguousLocalTime(UnclearLocalTime):
    """A wall-clock time that happens twice when the clocks go back (e.g. 01:30 on the last Sunday of October)."""


def local_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a local date and time; refuses times the clocks skip or repeat.

    A repeated time is refused rather than guessed: a session at "01:30" that night could mean
    either of two instants an hour apart, and a form has nowhere to say which."""
    zone = local_zone()
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    # A skipped time does not survive the round trip back to local time.
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{at:%H:%M} on {day.day} {day:%B %Y} does not exist here: the clocks go forward")
    second = local.replace(fold=1)
    if second.utcoffset() != local.utcoffset():
        raise AmbiguousLocalTime(
            f"{at:%H:%M} on {day.day} {day:%B %Y} happens twice here, first in {local.tzname()} and then in "
            f"{second.tzname()}: the clocks go back. Choose a time before or after the change"
        )
    return instant


def _zone_if_repeated(local: datetime) -> str:
    """' BST' or ' GMT' for a time in the hour the clocks go back, which would otherwise be unclear."""
    other = local.replace(fold=1 - local.fold)
    return f" {local.tzname()}" if other.utcoffset() != local.utcoffset() else ""


def format_time(moment: datetime | time | None) -> str:
    """'10am' in local time; a bare wall-clock time (a series' start) is shown as it is."""
    if moment is None:
        return ""
    if isinstance(moment, time):
        return format_clock(moment)
    local = to_local(moment)
    return format_clock(local.time()) + _zone_if_repeated(local)


def format_clock(at: time) -> str:
    """The GOV.UK style for a time of day: '10am', '10:30am', 'midday', 'midnight'.

    "midday" and "midnight" are used everywhere, ranges included, because the style guide
    prefers them to "12pm" and "12am", which many people read the wrong way round."""
    if at.minute == 0 and at.hour in (0, 12):
        return "midnight" if at.hour == 0 else "midday"
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{'am' if at.hour < 12 else 'pm'}"


def format_time_range(starts_at: datetime, ends_at: datetime) -> str:
    """'10am to midday' on one local day; with both dates when the end falls on a later day."""
    start, end = to_local(starts_at), to_local(ends_at)
    if start.date() == end.date():
        return f"{format_time(starts_at)} to {format_time(ends_at)}"
    return f"{format_datetime(starts_at)} to {format_datetime(ends_at)}"


def format_when(starts_at: datetime, ends_at: datetime) -> str:
    """When a session runs, the one way every page, email and certificate says it.

    'Thursday 4 November 2027, 10am to midday', or, for a session that ends on a later day,
    'Saturday 24 October 2026, 10pm to Sunday 25 October 2026, 2am'."""
    start, end = to_local(starts_at), to_local(ends_at)
    if start.date() == end.date():
        return f"{_long_day(start)}, {format_time_range(starts_at, ends_at)}"
    return format_time_range(starts_at, ends_at)


def format_month(value: date) -> str:
    """'June 2030': a month in full, never 'Jun'."""
    return f"{value:%B %Y}"


def _long_day(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"
