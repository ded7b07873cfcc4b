"""Rules for report inputs: date ranges and presets, and coverage targets."""

from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from trainapp import audit
from trainapp.accounts.models import Agency, User
from trainapp.catalogue.models import Course
from trainapp.db import utcnow
from trainapp.errors import DomainError, NotAllowed
from trainapp.extensions import db
from trainapp.reports.models import CoverageTarget

MAX_RANGE = timedelta(days=3653)  # ten years


def financial_year_start(day: date) -> date:
    """UK financial years start on 1 April."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    if preset in ("this-quarter", "last-quarter"):
        start = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
        if preset == "last-quarter":
            start -= relativedelta(months=3)
        return start, start + relativedelta(months=3) - timedelta(days=1)
    if preset in ("this-year", "last-year"):
        start = financial_year_start(today)
        if preset == "last-year":
            start = date(start.year - 1, 4, 1)
        return start, date(start.year + 1, 3, 31)
    raise DomainError("Choose a period from the list", "preset")


DEFAULT_PRESET = "this-year"
PRESET_AND_DATES = 'Choose "Choose dates below" to report on the dates you typed, or clear the dates'


def report_period(
    preset: str | None, start: date | None, end: date | None, shown: tuple[date, date] | None, today: date
) -> tuple[date, date, str]:
    """The period a board report covers, and the preset that names it ("" for typed dates).

    A preset applies only when chosen; dates count as typed unless they are the period the page
    last showed (the page fills the boxes in), so changing the period list alone changes the
    period, and a chosen period with other dates is refused rather than one quietly winning.
    `preset` is None when the filter was not sent at all: then this financial year.
    """
    typed = start is not None or end is not None
    if preset:
        period = preset_range(preset, today)
        if typed and (start, end) not in (period, shown):
            raise DomainError(PRESET_AND_DATES, "preset")
        return *period, preset
    if preset is None and not typed:
        return *preset_range(DEFAULT_PRESET, today), DEFAULT_PRESET
    return *check_range(start, end), ""


def check_range(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None or end is None:
        raise DomainError("Enter both dates, or choose a period", "start")
    if end < start:
        raise DomainError("The end date must be on or after the start date", "end")
    if end - start > MAX_RANGE:
        raise DomainError("A report can cover at most 10 years", "end")
    return start, end


def save_target(*, by: User, agency: Agency, course: Course, staff_needed: int) -> CoverageTarget:
    """Coordinators set any agency's targets; agency leads their own agency's."""
    if not by.can_manage_staff_of(agency.id):
        raise NotAllowed("You can only set targets for your own agency")
    if staff_needed < 0:
        raise DomainError("Enter a number of 0 or more", "staff_needed")
    target = db.session.scalar(
        sa.select(CoverageTarget).where(CoverageTarget.agency_id == agency.id, CoverageTarget.course_id == course.id)
    )
    before = {"staff_needed": target.staff_needed} if target else None
    if target is None:
        target = CoverageTarget(agency=agency, course=course)
        db.session.add(target)
    target.staff_needed, target.updated_at, target.updated_by_id = staff_needed, utcnow(), by.id
    db.session.flush()
    audit.record(by, "coverage_target.saved", target, before=before, after={"staff_needed": staff_needed})
    return target
