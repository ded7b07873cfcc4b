"""Rules for the catalogue: courses, sessions, clashes and weekly series."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import AgencyKind, Role, User
from trainapp.catalogue.models import (
    MAX_CAPACITY,
    Course,
    CourseStatus,
    DeliveryMode,
    Programme,
    SessionSeries,
    SessionStatus,
    TrainingSession,
    Venue,
)
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.timezones import UnclearLocalTime, local_to_utc, to_local
from trainapp.workdays import is_bank_holiday

MAX_SESSION_LENGTH = timedelta(hours=24)
MAX_SERIES_SESSIONS = 200


class ClashFound(DomainError):
    """Saving would double-book a trainer or venue; the person may confirm and save anyway."""

    # The box that confirms, shown with the clashes: the control that puts this right.
    field = "confirm_clashes"

    def __init__(self, clashes: list["Clash"]):
        super().__init__(
            'This clashes with other sessions. Check the clashes, then select "Save anyway" and save again.'
        )
        self.clashes = clashes


@dataclass(frozen=True)
class Clash:
    session: TrainingSession
    reason: str


# Programmes and venues ---------------------------------------------------------------


def _ensure_unique(model, column, value: str, current_id: int | None, message: str, field_name: str):
    query = sa.select(model.id).where(sa.func.lower(column) == value.strip().lower())
    if current_id is not None:
        query = query.where(model.id != current_id)
    if db.session.scalar(query) is not None:
        raise DomainError(message, field_name)


def save_programme(programme: Programme | None, *, by: User, name: str, description: str) -> Programme:
    """Create or rename a programme; names are unique."""
    require_coordinator(by, "change the catalogue")
    _ensure_unique(
        Programme,
        Programme.name,
        name,
        programme.id if programme is not None else None,
        "A programme with this name already exists",
        "name",
    )
    created = programme is None
    programme = programme or Programme()
    before = {"name": programme.name, "description": programme.description}
    programme.name, programme.description = name.strip(), description.strip()
    db.session.add(programme)
    db.session.flush()
    after = {"name": programme.name, "description": programme.description}
    audit.record(
        by,
        "programme.created" if created else "programme.updated",
        programme,
        before=None if created else before,
        after=after,
    )
    return programme


def save_venue(venue: Venue | None, *, by: User, name: str, address: str, active: bool = True) -> Venue:
    """Create or change a venue; names are unique."""
    require_coordinator(by, "change the catalogue")
    _ensure_unique(
        Venue,
        Venue.name,
        name,
        venue.id if venue is not None else None,
        "A venue with this name already exists",
        "name",
    )
    created = venue is None
    venue = venue or Venue()
    venue.name, venue.address, venue.active = name.strip(), address.strip(), active
    db.session.add(venue)
    db.session.flush()
    audit.record(
        by,
        "venue.created" if created else "venue.updated",
        venue,
        after={"name": venue.name, "address": venue.address, "active": venue.active},
    )
    return venue


# Courses -----------------------------------------------------------------------------


@dataclass
class CourseDetails:
    programme: Programme
    title: str
    level: int | None
    summary: str
    audience: str
    duration_minutes: int
    cpd_hours: Decimal | None
    refresher_months: int | None
    prerequisite: Course | None
    eligible_kinds: list[str]
    requires_approval: bool
    default_capacity: int
    cancellation_notice_days: int
    status: CourseStatus = CourseStatus.DRAFT
    certificate_needs_evaluation: bool = False
    partial_counts_as_completed: bool = False


def _check_course(details: CourseDetails, course: Course | None) -> None:
    if details.level is not None and not 1 <= details.level <= 4:
        raise DomainError("Level must be 1, 2, 3 or 4, or none", "level")
    if not 0 < details.duration_minutes <= 24 * 60:
        raise DomainError("Duration must be between 1 minute and 24 hours", "duration_minutes")
    if not 1 <= details.default_capacity <= MAX_CAPACITY:
        raise DomainError(f"Capacity must be between 1 and {MAX_CAPACITY}", "default_capacity")
    if details.cancellation_notice_days < 0 or details.cancellation_notice_days > 60:
        raise DomainError("Cancellation notice must be between 0 and 60 working days", "cancellation_notice_days")
    if details.refresher_months is not None and not 1 <= details.refresher_months <= 240:
        raise DomainError("Refresher period must be between 1 and 240 months", "refresher_months")
    if details.cpd_hours is not None and details.cpd_hours < 0:
        raise DomainError("CPD hours cannot be negative", "cpd_hours")
    unknown = set(details.eligible_kinds) - {k.value for k in AgencyKind}
    if unknown:
        raise DomainError("Choose kinds of agency from the list", "eligible_kinds")
    prerequisite = details.prerequisite
    seen = {course.id} if course is not None and course.id is not None else set()
    while prerequisite is not None:
        if prerequisite.id in seen:
            raise DomainError("A course cannot require itself, directly or through other courses", "prerequisite")
        seen.add(prerequisite.id)
        prerequisite = prerequisite.prerequisite


def save_course(course: Course | None, details: CourseDetails, *, by: User) -> Course:
    """Create or change a course after checking its rules."""
    require_coordinator(by, "change the catalogue")
    _check_course(details, course)
    _ensure_unique(
        Course,
        Course.title,
        details.title,
        course.id if course is not None else None,
        "A course with this title already exists",
        "title",
    )
    created = course is None
    course = course or Course()
    before = _course_snapshot(course) if not created else None
    for name, value in details.__dict__.items():
        setattr(course, name, value.strip() if isinstance(value, str) else value)
    db.session.add(course)
    db.session.flush()
    after = _course_snapshot(course)
    if before is None:
        audit.record(by, "course.created", course, after=after)
    else:
        old, new = audit.changes(before, after)
        if new:
            audit.record(by, "course.updated", course, before=old, after=new)
    return course


def _course_snapshot(course: Course) -> dict:
    return {
        "title": course.title,
        "programme_id": course.programme_id if course.programme is None else course.programme.id,
        "level": course.level,
        "duration_minutes": course.duration_minutes,
        "cpd_hours": str(course.cpd_hours) if course.cpd_hours is not None else None,
        "refresher_months": course.refresher_months,
        "prerequisite_id": course.prerequisite.id if course.prerequisite else None,
        "eligible_kinds": list(course.eligible_kinds or []),
        "requires_approval": course.requires_approval,
        "default_capacity": course.default_capacity,
        "cancellation_notice_days": course.cancellation_notice_days,
        "status": str(course.status) if course.status else None,
        "certificate_needs_evaluation": course.certificate_needs_evaluation,
        "partial_counts_as_completed": course.partial_counts_as_completed,
    }


# Sessions ----------------------------------------------------------------------------


@dataclass
class SessionDetails:
    starts_at: datetime
    ends_at: datetime
    delivery_mode: DeliveryMode
    venue: Venue | None
    joining_link: str
    capacity: int
    trainers: list[User] = field(default_factory=list)
    booking_opens_at: datetime | None = None
    booking_closes_at: datetime | None = None
    notes: str = ""


def check_session_details(details: SessionDetails) -> None:
    """Raise DomainError, naming the field, for details no session may have."""
    if details.ends_at <= details.starts_at:
        raise DomainError("The end must be after the start", "end_time")
    if details.ends_at - details.starts_at > MAX_SESSION_LENGTH:
        raise DomainError("A session cannot be longer than 24 hours", "end_time")
    if not 1 <= details.capacity <= MAX_CAPACITY:
        raise DomainError(f"Capacity must be between 1 and {MAX_CAPACITY}", "capacity")
    if details.delivery_mode.needs_link:
        link = details.joining_link.strip()
        if not link:
            raise DomainError("Enter the joining link for an online or hybrid session", "joining_link")
        if not link.startswith("https://") or " " in link:
            raise DomainError("Enter a joining link that starts with https://", "joining_link")
    if details.delivery_mode.needs_venue and details.venue is None:
        raise DomainError("Choose a venue for an in-person or hybrid session", "venue")
    if not details.trainers:
        raise DomainError("Choose at least one trainer", "trainers")
    for trainer in details.trainers:
        if not trainer.active or trainer.role not in {Role.TRAINER, Role.COORDINATOR}:
            raise DomainError(f"{trainer.name} is not an active trainer", "trainers")
    if (
        details.booking_opens_at
        and details.booking_closes_at
        and (details.booking_closes_at <= details.booking_opens_at)
    ):
        raise DomainError("Booking must close after it opens", "booking_closes_on")
    if details.booking_closes_at and details.booking_closes_at > details.starts_at:
        raise DomainError("Booking must close before the session starts", "booking_closes_on")


def find_clashes(details: SessionDetails, exclude_ids: set[int] | None = None) -> list[Clash]:
    """Scheduled sessions overlapping in time that share a trainer or the venue."""
    return _clashes([details], exclude_ids)[0]


def _overlaps(session: TrainingSession, details: SessionDetails) -> bool:
    return session.starts_at < details.ends_at and session.ends_at > details.starts_at


def _clashes(occurrences: list[SessionDetails], exclude_ids: set[int] | None = None) -> list[list[Clash]]:
    """The clashes of each occurrence (same trainers and venue, different times), in one query
    whatever their number, so a long series is checked as quickly as a single session."""
    if not occurrences:
        return []
    first = occurrences[0]
    trainer_ids = [t.id for t in first.trainers]
    conditions = []
    if first.venue is not None:
        conditions.append(TrainingSession.venue_id == first.venue.id)
    if trainer_ids:
        conditions.append(TrainingSession.trainers.any(User.id.in_(trainer_ids)))
    if not conditions:
        return [[] for _ in occurrences]
    query = (
        sa.select(TrainingSession)
        .options(selectinload(TrainingSession.trainers))
        .where(
            TrainingSession.status != SessionStatus.CANCELLED,
            sa.or_(
                *(
                    sa.and_(TrainingSession.starts_at < o.ends_at, TrainingSession.ends_at > o.starts_at)
                    for o in occurrences
                )
            ),
            sa.or_(*conditions),
        )
        .order_by(TrainingSession.starts_at)
    )
    if exclude_ids:
        query = query.where(TrainingSession.id.not_in(exclude_ids))
    others = list(db.session.scalars(query))
    found = []
    for occurrence in occurrences:
        clashes = []
        for other in (other for other in others if _overlaps(other, occurrence)):
            shared = sorted(t.name for t in other.trainers if t.id in trainer_ids)
            reasons = []
            if shared:
                reasons.append(f"{', '.join(shared)} {'is' if len(shared) == 1 else 'are'} already training")
            if first.venue is not None and other.venue_id == first.venue.id:
                reasons.append(f"{first.venue.name} is already booked")
            clashes.append(Clash(other, " and ".join(reasons)))
        found.append(clashes)
    return found


def _apply(session: TrainingSession, details: SessionDetails) -> None:
    for name, value in details.__dict__.items():
        setattr(session, name, value)
    session.venue_id = details.venue.id if details.venue else None
    if not details.delivery_mode.needs_link:
        session.joining_link = ""
    if not details.delivery_mode.needs_venue:
        session.venue, session.venue_id = None, None


def create_session(
    course: Course, details: SessionDetails, *, by: User, confirm_clashes: bool = False
) -> TrainingSession:
    """Add one dated session of a course."""
    require_coordinator(by, "change the catalogue")
    check_session_details(details)
    clashes = find_clashes(details)
    if clashes and not confirm_clashes:
        raise ClashFound(clashes)
    session = TrainingSession(course=course, updated_by=by)
    _apply(session, details)
    db.session.add(session)
    db.session.flush()
    audit.record(by, "session.created", session, after=session.snapshot())
    return session


CALENDAR_FIELDS = {"starts_at", "ends_at", "delivery_mode", "venue_id", "joining_link", "status"}


def update_session(
    session: TrainingSession, details: SessionDetails, *, by: User, confirm_clashes: bool = False
) -> None:
    """Change a session; a change of time or place raises its calendar sequence."""
    require_coordinator(by, "change the catalogue")
    if session.is_cancelled:
        raise DomainError("A cancelled session cannot be changed")
    check_session_details(details)
    if details.capacity < session.places_taken:
        raise DomainError(f"Capacity cannot be lower than the {session.places_taken} places already taken", "capacity")
    clashes = find_clashes(details, exclude_ids={session.id})
    if clashes and not confirm_clashes:
        raise ClashFound(clashes)
    before = session.snapshot()
    _apply(session, details)
    after = session.snapshot()
    old, new = audit.changes(before, after)
    if not new:
        return
    if CALENDAR_FIELDS & new.keys():
        session.sequence += 1
    session.updated_at, session.updated_by = utcnow(), by
    action = "session.rescheduled" if {"starts_at", "ends_at"} & new.keys() else "session.updated"
    audit.record(by, action, session, before=old, after=new)


def cancel_session(session: TrainingSession, *, by: User, reason: str) -> None:
    """Cancel one session, with a reason people will be told."""
    require_coordinator(by, "change the catalogue")
    if not reason.strip():
        raise DomainError("Enter a reason for cancelling the session", "reason")
    session.status.check_transition(SessionStatus.CANCELLED)
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason.strip()
    session.sequence += 1
    session.updated_at, session.updated_by = utcnow(), by
    audit.record(
        by,
        "session.cancelled",
        session,
        before={"status": "scheduled"},
        after={"status": "cancelled"},
        reason=reason.strip(),
    )


# Weekly series -----------------------------------------------------------------------


@dataclass
class SeriesPlan:
    dates: list[date]
    bank_holidays: list[date]
    skipped: list[date]


def plan_series(weekday: int, first_on: date, last_on: date, skip: set[date] | None = None) -> SeriesPlan:
    """The dates of a weekly series, leaving out bank holidays and dates the coordinator ticks."""
    skip = skip or set()
    if last_on < first_on:
        raise DomainError("The last date must be on or after the first date", "last_on")
    if (last_on - first_on).days > 7 * (MAX_SERIES_SESSIONS + 60):
        raise DomainError(f"A series cannot have more than {MAX_SERIES_SESSIONS} sessions", "last_on")
    first = first_on + timedelta(days=(weekday - first_on.weekday()) % 7)
    dates, holidays, skipped = [], [], []
    day = first
    while day <= last_on:
        if is_bank_holiday(day):
            holidays.append(day)
        elif day in skip:
            skipped.append(day)
        else:
            dates.append(day)
        day += timedelta(days=7)
    if not dates and not holidays and not skipped:
        raise DomainError("There are no dates on that weekday between the first and last dates", "weekday")
    if not dates:
        raise DomainError("Every date in the series is skipped: there would be no sessions", "weekday")
    if len(dates) > MAX_SERIES_SESSIONS:
        raise DomainError(f"A series cannot have more than {MAX_SERIES_SESSIONS} sessions", "last_on")
    return SeriesPlan(dates, holidays, skipped)


@dataclass
class SeriesDetails:
    weekday: int
    start_time: time
    end_time: time
    first_on: date
    last_on: date
    skip: set[date]
    template: SessionDetails


def _occurrence(template: SessionDetails, day: date, start: time, end: time) -> SessionDetails:
    times = {}
    for name, at in (("start_time", start), ("end_time", end)):
        try:
            times[name] = local_to_utc(day, at)
        except UnclearLocalTime as error:
            raise DomainError(str(error), name) from error
    return SessionDetails(**{**template.__dict__, "starts_at": times["start_time"], "ends_at": times["end_time"]})


class SeriesNeedsConfirming(DomainError):
    """The series may be created once the coordinator confirms each problem (clashes, past dates)."""

    def __init__(self, problems: list[DomainError], clashes: list[Clash]):
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems
        self.clashes = clashes

    def each_problem(self) -> list[DomainError]:
        return self.problems


def clashes_in(error: DomainError) -> list[Clash]:
    """The clashes a refusal asks the coordinator to confirm, for the page to list (often none)."""
    return error.clashes if isinstance(error, ClashFound | SeriesNeedsConfirming) else []


def _listed(days: list[date]) -> str:
    names = [f"{d.day} {d:%B %Y}" for d in days[:3]]
    if len(days) > 3:
        return f"{', '.join(names)} and {len(days) - 3} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass
class SeriesCheck:
    """What checking a series found: its dates, and what the coordinator must confirm."""

    plan: SeriesPlan
    occurrences: list[SessionDetails]
    clashes: list[Clash]
    passed: list[date]

    def require_confirmed(self, *, clashes: bool, past: bool) -> None:
        problems: list[DomainError] = []
        if self.clashes and not clashes:
            problems.append(ClashFound(self.clashes))
        if self.passed and not past:
            count = len(self.passed)
            problems.append(
                DomainError(
                    f"{count} of the dates {'has' if count == 1 else 'have'} passed ({_listed(self.passed)}). "
                    "Choose a later first date, or tick “Create sessions on dates that have passed” "
                    "to record training already given",
                    "first_on",
                )
            )
        if problems:
            raise SeriesNeedsConfirming(problems, self.clashes)


def check_series(details: SeriesDetails, *, now: datetime | None = None) -> SeriesCheck:
    """Every check creating the series makes, for "Check the dates" and "Create the sessions" alike.

    Raises DomainError for what no series may have (times the clocks skip or repeat, bad details);
    returns the clashes and passed dates, which the coordinator may confirm."""
    plan = plan_series(details.weekday, details.first_on, details.last_on, details.skip)
    occurrences = [_occurrence(details.template, day, details.start_time, details.end_time) for day in plan.dates]
    for occurrence in occurrences:
        check_session_details(occurrence)
    now = now or utcnow()
    return SeriesCheck(
        plan=plan,
        occurrences=occurrences,
        clashes=[clash for clashes in _clashes(occurrences) for clash in clashes],
        passed=[day for day, o in zip(plan.dates, occurrences, strict=True) if o.starts_at < now],
    )


def create_series(
    course: Course,
    details: SeriesDetails,
    *,
    by: User,
    confirm_clashes: bool = False,
    confirm_past: bool = False,
) -> SessionSeries:
    """Create every weekly occurrence in one go; each becomes an ordinary session."""
    require_coordinator(by, "change the catalogue")
    checked = check_series(details)
    checked.require_confirmed(clashes=confirm_clashes, past=confirm_past)
    plan, occurrences = checked.plan, checked.occurrences
    series = SessionSeries(
        course=course,
        weekday=details.weekday,
        starts_at_local=details.start_time,
        ends_at_local=details.end_time,
        first_on=details.first_on,
        last_on=details.last_on,
        created_by_id=by.id,
    )
    db.session.add(series)
    for occurrence in occurrences:
        session = TrainingSession(course=course, series=series, updated_by=by)
        _apply(session, occurrence)
        db.session.add(session)
    db.session.flush()
    audit.record(
        by,
        "series.created",
        series,
        after={
            "course_id": course.id,
            "sessions": len(occurrences),
            "first_on": details.first_on.isoformat(),
            "last_on": details.last_on.isoformat(),
            "bank_holidays_skipped": [d.isoformat() for d in plan.bank_holidays],
            "dates_skipped": [d.isoformat() for d in plan.skipped],
            "dates_passed": [d.isoformat() for d in checked.passed],
        },
    )
    return series


def sessions_to_cancel(
    series: SessionSeries, *, by: User, reason: str, from_on: date | None, now: datetime
) -> list[TrainingSession]:
    """The scheduled sessions of a series still to come (on or after a local date, when given).

    Only chooses them: cancelling a session ends its bookings, which bookings does."""
    require_coordinator(by, "change the catalogue")
    if not reason.strip():
        raise DomainError("Enter a reason for cancelling the sessions", "reason")
    chosen = [
        session
        for session in series.sessions
        if session.status == SessionStatus.SCHEDULED
        and session.starts_at > now
        and (from_on is None or to_local(session.starts_at).date() >= from_on)
    ]
    if not chosen:
        if from_on is None:
            raise DomainError("No scheduled sessions of this series are still to come", "which")
        raise DomainError("No scheduled sessions in this series fall on or after that date", "from_on")
    return chosen
