"""One place that turns stored UTC into the partnership's local time for people."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def format_datetime(moment: datetime | None) -> str:
    """'Thursday 4 November 2027, 10:00am' in local time."""
    if moment is None:
        return ""
    local = to_local(moment)
    hour = local.strftime("%I:%M").lstrip("0")
    return f"{local:%A} {local.day} {local:%B %Y}, {hour}{local.strftime('%p').lower()}{_zone_if_repeated(local)}"


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


def format_time(moment: datetime | None) -> str:
    """'10:00am' in local time."""
    if moment is None:
        return ""
    local = to_local(moment)
    return local.strftime("%I:%M").lstrip("0") + local.strftime("%p").lower() + _zone_if_repeated(local)
