"""One place that turns stored UTC into the partnership's local time for people."""

from datetime import date, datetime
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
