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
    return f"{local:%A} {local.day} {local:%B %Y}, {hour}{local.strftime('%p').lower()}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return f"{value.day} {value:%B %Y}"


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped when the clocks go forward (e.g. 01:30 on the last Sunday of March)."""


def local_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a local date and time; refuses times the clocks skip."""
    zone = local_zone()
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    # A skipped time does not survive the round trip back to local time.
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(
            f"{at:%H:%M} on {day.day} {day:%B %Y} does not exist here: the clocks go forward"
        )
    return instant


def format_time(moment: datetime | None) -> str:
    """'10:00am' in local time."""
    if moment is None:
        return ""
    local = to_local(moment)
    return local.strftime("%I:%M").lstrip("0") + local.strftime("%p").lower()
