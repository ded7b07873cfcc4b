"""Rules for registers, evaluations, certificates and learner records."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from trainapp import audit
from trainapp.accounts import services as accounts
from trainapp.accounts.models import Agency, Role, User
from trainapp.attendance import refreshers as refreshers_due
from trainapp.attendance import signals
from trainapp.attendance.models import Certificate, Evaluation, EvaluationKind, RegisterSubmission
from trainapp.attendance.refreshers import add_months  # noqa: F401  (re-exported: callers find it with the refresher rules)
from trainapp.bookings import completion
from trainapp.bookings.capacity import lock_session
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.bookings.services import agency_leads
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession
from trainapp.db import UTCDateTime, utcnow
from trainapp.errors import DomainError, NotAllowed
from trainapp.extensions import db
from trainapp.notifications.services import queue_email
from trainapp.paging import ListPage
from trainapp.timezones import to_local

TRAINER_EDIT_WINDOW = timedelta(days=7)
FOLLOW_UP_AFTER = timedelta(weeks=8)
# How long after FOLLOW_UP_AFTER the follow-up is still asked for.
FOLLOW_UP_WINDOW = timedelta(days=14)
WALK_IN_LINK_AGE = 14 * 24 * 60 * 60
CERTIFICATE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# Registers ------------------------------------------------------------------------------


@dataclass
class RegisterAccess:
    can_view: bool
    can_edit: bool
    needs_reason: bool
    message: str


def register_access(session: TrainingSession, user: User, now: datetime) -> RegisterAccess:
    """Who may mark this register now: its trainers until 7 days after the end, then coordinators."""
    delivers = user in session.trainers
    if not (user.is_coordinator or delivers):
        return RegisterAccess(False, False, False, "Only the session's trainers and coordinators take its register")
    if session.status == SessionStatus.CANCELLED:
        return RegisterAccess(True, False, False, "This session was cancelled: it has no register")
    if now < session.starts_at:
        return RegisterAccess(True, False, False, "The register opens when the session starts")
    locked = now > register_locks_at(session)
    if not locked:
        return RegisterAccess(True, True, False, "")
    if user.is_coordinator:
        return RegisterAccess(True, True, True, "The register is locked: a correction needs a reason")
    return RegisterAccess(True, False, False, "The register is locked. Ask a coordinator to correct it")


def register_locks_at(session: TrainingSession) -> datetime:
    """The end of the trainers' window: later changes are corrections, each with a reason."""
    return session.ends_at + TRAINER_EDIT_WINDOW


def _require_edit(session: TrainingSession, user: User, now: datetime, reason: str | None) -> str | None:
    access = register_access(session, user, now)
    if not access.can_view:
        raise NotAllowed(access.message)
    if not access.can_edit:
        raise DomainError(access.message)
    if access.needs_reason and not (reason or "").strip():
        raise DomainError("Enter a reason for correcting a locked register", "reason")
    return (reason or "").strip() or None


def register_rows(session: TrainingSession) -> list[Booking]:
    """Everyone expected or present: confirmed places and walk-ins, by name."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.user)
            .where(Booking.session_id == session.id, Booking.status == BookingStatus.CONFIRMED)
            .options(joinedload(Booking.user).joinedload(User.agency), joinedload(Booking.agency))
            .order_by(User.name, Booking.id)
        )
    )


def registers_to_take(trainer: User, now: datetime) -> list[TrainingSession]:
    """Sessions this person delivers that have started, are not yet locked, and whose register
    has not been submitted, earliest first."""
    return list(
        db.session.scalars(
            sa.select(TrainingSession)
            .options(joinedload(TrainingSession.course), joinedload(TrainingSession.venue))
            .where(
                TrainingSession.trainers.any(User.id == trainer.id),
                TrainingSession.status != SessionStatus.CANCELLED,
                TrainingSession.starts_at <= now,
                # register_locks_at, for every session at once: after it only a coordinator may mark.
                TrainingSession.ends_at >= now - TRAINER_EDIT_WINDOW,
                ~sa.exists().where(RegisterSubmission.session_id == TrainingSession.id),
            )
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        )
    )


@dataclass
class Mark:
    status: AttendanceStatus | None
    minutes_missed: int | None = None


def _apply_mark(booking: Booking, mark: Mark, *, by: User, now: datetime, reason: str | None) -> None:
    session = booking.session
    if mark.status == AttendanceStatus.PARTIAL:
        length = int((session.ends_at - session.starts_at).total_seconds() // 60)
        if not mark.minutes_missed or not 0 < mark.minutes_missed < length:
            raise DomainError(
                f"For {booking.user.name}, enter the minutes missed: between 1 and {length - 1}",
                f"minutes-{booking.id}",
            )
    minutes = mark.minutes_missed if mark.status == AttendanceStatus.PARTIAL else None
    if booking.attendance == mark.status and booking.minutes_missed == minutes:
        return
    before = booking.attendance_snapshot()
    booking.attendance, booking.minutes_missed = mark.status, minutes
    booking.attendance_marked_at, booking.attendance_marked_by = now, by
    audit.record(
        by, "attendance.marked", booking, before=before, after=booking.attendance_snapshot(), reason=reason, at=now
    )
    if mark.status != AttendanceStatus.ATTENDED:
        _withdraw_certificate(booking, by=by, reason=reason)
    signals.attendance_marked.send(booking, by=by)
    if mark.status is not None and mark.status.tells_the_agency:
        for lead in agency_leads(booking.agency_id):
            queue_email(
                lead.email,
                "attendance_missed",
                booking=booking,
                session=session,
                lead=lead,
                dedupe_key=f"missed:{booking.id}:{mark.status}",
            )


def _withdraw_certificate(booking: Booking, *, by: User, reason: str | None) -> None:
    """A corrected register can take full attendance away, and the certificate with it."""
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.booking_id == booking.id))
    if certificate is not None:
        audit.record(by, "certificate.withdrawn", certificate, before={"number": certificate.number}, reason=reason)
        db.session.delete(certificate)


def mark_register(
    session_id: int,
    marks: dict[int, Mark],
    *,
    by: User,
    now: datetime | None = None,
    reason: str | None = None,
) -> int:
    """Record marks for bookings on this session's register; returns how many changed."""
    now = now or utcnow()
    session = lock_session(session_id)
    reason = _require_edit(session, by, now, reason)
    rows = {booking.id: booking for booking in register_rows(session)}
    unknown = set(marks) - set(rows)
    if unknown:
        raise DomainError("Someone in the register is not booked on this session")
    changed = 0
    for booking_id, mark in marks.items():
        booking = rows[booking_id]
        before = (booking.attendance, booking.minutes_missed)
        _apply_mark(booking, mark, by=by, now=now, reason=reason)
        changed += before != (booking.attendance, booking.minutes_missed)
    return changed


def mark_everyone_attended(session_id: int, *, by: User, now: datetime | None = None, reason: str | None = None) -> int:
    """Everyone on the register attended; the trainer then changes the exceptions."""
    now = now or utcnow()
    session = lock_session(session_id)
    return mark_register(
        session.id,
        {b.id: Mark(AttendanceStatus.ATTENDED) for b in register_rows(session)},
        by=by,
        now=now,
        reason=reason,
    )


def submit_register(session_id: int, *, by: User, now: datetime | None = None, reason: str | None = None) -> None:
    """Finish the register: everyone must be marked; the session is then delivered."""
    now = now or utcnow()
    session = lock_session(session_id)
    reason = _require_edit(session, by, now, reason)
    unmarked = [b for b in register_rows(session) if b.attendance is None]
    if unmarked:
        # Named by the first unmarked row's choices, so the error summary takes the trainer there.
        raise DomainError(
            f"Mark everyone before submitting. Not marked: {', '.join(b.user.name for b in unmarked)}",
            f"mark-{unmarked[0].id}",
        )
    submission = db.session.scalar(sa.select(RegisterSubmission).where(RegisterSubmission.session_id == session.id))
    if submission is None:
        db.session.add(RegisterSubmission(session=session, submitted_at=now, submitted_by=by))
    else:
        submission.submitted_at, submission.submitted_by = now, by
    if session.status == SessionStatus.SCHEDULED:
        session.status.check_transition(SessionStatus.DELIVERED)
        session.status = SessionStatus.DELIVERED
    audit.record(by, "register.submitted", session, after={"status": "delivered"}, reason=reason, at=now)


def add_walk_in(
    session_id: int,
    *,
    by: User,
    person: User | None = None,
    name: str = "",
    email: str = "",
    agency: Agency | None = None,
    now: datetime | None = None,
    reason: str | None = None,
) -> Booking:
    """Someone who came without a place: marked attended, and counted as a walk-in, not a place."""
    now = now or utcnow()
    session = lock_session(session_id)
    reason = _require_edit(session, by, now, reason)
    if person is None:
        person = _new_walk_in_person(name=name, email=email, agency=agency, by=by)
    booking = db.session.scalar(
        sa.select(Booking).where(Booking.session_id == session.id, Booking.user_id == person.id)
    )
    if booking is not None and booking.status.is_live:
        raise DomainError(f"{person.name} is already on this session's list", "email")
    if booking is None:
        booking = Booking(session=session, user=person, status=BookingStatus.CONFIRMED)
        db.session.add(booking)
        before = None
    else:
        before = booking.snapshot()
        booking.status = BookingStatus.CONFIRMED
    booking.agency_id = person.agency_id
    booking.booked_by = by
    booking.is_walk_in = True
    booking.reserved_for_agency_id = None
    booking.attendance = AttendanceStatus.ATTENDED
    booking.attendance_marked_at, booking.attendance_marked_by = now, by
    booking.created_at = booking.updated_at = now
    db.session.flush()
    audit.record(
        by,
        "attendance.walk_in",
        booking,
        before=before,
        after={**booking.snapshot(), **booking.attendance_snapshot()},
        reason=reason,
        at=now,
    )
    return booking


def _new_walk_in_person(*, name: str, email: str, agency: Agency | None, by: User) -> User:
    if not name.strip():
        raise DomainError("Enter the walk-in's full name", "name")
    if agency is None:
        raise DomainError("Choose the walk-in's agency", "agency")
    email = accounts.normalise_email(email)
    existing = accounts.find_user_by_email(email)
    if existing is not None:
        return existing
    person = User(
        email=email,
        name=name.strip(),
        role=Role.STAFF,
        agency=agency,
        password_hash="!" + secrets.token_hex(16),
    )  # no password yet: they choose one
    db.session.add(person)
    db.session.flush()
    audit.record(by, "user.created", person, after=person.snapshot(), reason="walk-in at a session")
    accounts.request_password_reset(email, template="walk_in_account", max_age=WALK_IN_LINK_AGE)
    return person


# Evaluations -----------------------------------------------------------------------------


def submit_evaluation(
    booking: Booking,
    kind: EvaluationKind,
    *,
    by: User,
    before: int,
    after: int,
    comments: str,
    now: datetime | None = None,
) -> Evaluation:
    """A learner's confidence before and after (1 to 5), once straight after and once 8 weeks on."""
    now = now or utcnow()
    if by.id != booking.user_id:
        raise NotAllowed("Only the learner can give their own evaluation")
    if booking.attendance is None or not booking.attendance.was_there:
        raise DomainError("You can evaluate a course you attended")
    if kind == EvaluationKind.FOLLOW_UP and now < booking.session.ends_at + FOLLOW_UP_AFTER:
        raise DomainError("The follow-up opens eight weeks after the course")
    for value, field in ((before, "confidence_before"), (after, "confidence_after")):
        if value not in range(1, 6):
            raise DomainError("Choose a score from 1 to 5", field)
    if db.session.scalar(sa.select(Evaluation.id).where(Evaluation.booking_id == booking.id, Evaluation.kind == kind)):
        raise DomainError("You have already given this evaluation. Thank you")
    evaluation = Evaluation(
        booking=booking,
        kind=kind,
        confidence_before=before,
        confidence_after=after,
        comments=comments.strip(),
        submitted_at=now,
    )
    db.session.add(evaluation)
    db.session.flush()
    return evaluation


def queue_follow_ups(now: datetime) -> int:
    """Ask for the 8-week follow-up once per attended booking. Safe to run again."""
    window_start = now - FOLLOW_UP_AFTER - FOLLOW_UP_WINDOW
    bookings = db.session.scalars(
        sa.select(Booking)
        .join(Booking.session)
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(TrainingSession.course))
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            completion.was_present(),
            TrainingSession.ends_at <= now - FOLLOW_UP_AFTER,
            TrainingSession.ends_at > window_start,
        )
    ).all()
    queued = 0
    for booking in bookings:
        if queue_email(
            booking.user.email,
            "evaluation_follow_up",
            booking=booking,
            session=booking.session,
            dedupe_key=f"follow-up:{booking.id}",
        ):
            queued += 1
    return queued


@dataclass
class EvaluationDue:
    booking: Booking
    kind: EvaluationKind


def evaluations_due(person: User, now: datetime) -> list[EvaluationDue]:
    """The evaluations this person is asked for now, oldest session first: straight after a course
    they came to, until the follow-up opens; then the follow-up, while it is still asked for."""
    given = {
        kind: sa.exists().where(Evaluation.booking_id == Booking.id, Evaluation.kind == kind).label(kind.value)
        for kind in EvaluationKind
    }
    follow_up_opened = TrainingSession.ends_at <= now - FOLLOW_UP_AFTER
    rows = db.session.execute(
        sa.select(Booking, follow_up_opened.label("follow_up_opened"), *given.values())
        .join(Booking.session)
        .options(contains_eager(Booking.session).joinedload(TrainingSession.course))
        .where(
            Booking.user_id == person.id,
            Booking.status == BookingStatus.CONFIRMED,
            completion.was_present(),
            TrainingSession.status != SessionStatus.CANCELLED,
            TrainingSession.ends_at <= now,
            TrainingSession.ends_at > now - FOLLOW_UP_AFTER - FOLLOW_UP_WINDOW,
        )
        .order_by(TrainingSession.starts_at, Booking.id)
    ).all()
    due = []
    for booking, opened, *answered in rows:
        kind = EvaluationKind.FOLLOW_UP if opened else EvaluationKind.AFTER
        if not dict(zip(given, answered, strict=True))[kind]:
            due.append(EvaluationDue(booking, kind))
    return due


# Certificates ----------------------------------------------------------------------------


def certificate_problem(booking: Booking, now: datetime) -> str | None:
    """Why there is no certificate yet, or None when one can be issued."""
    if booking.attendance != AttendanceStatus.ATTENDED or booking.status != BookingStatus.CONFIRMED:
        return "Certificates are given for full attendance only"
    if booking.session.ends_at > now:
        return "The certificate is ready when the session has ended"
    if booking.session.course.certificate_needs_evaluation and not db.session.scalar(
        sa.select(Evaluation.id).where(Evaluation.booking_id == booking.id, Evaluation.kind == EvaluationKind.AFTER)
    ):
        return "Fill in the short evaluation first, then download your certificate"
    return None


def issue_certificate(booking: Booking, now: datetime | None = None) -> Certificate:
    """The booking's certificate, issued the first time it is asked for."""
    now = now or utcnow()
    existing = db.session.scalar(sa.select(Certificate).where(Certificate.booking_id == booking.id))
    if existing is not None:
        return existing
    problem = certificate_problem(booking, now)
    if problem:
        raise DomainError(problem)
    code = "".join(secrets.choice(CERTIFICATE_ALPHABET) for _ in range(10))
    certificate = Certificate(booking=booking, number=f"{code[:5]}-{code[5:]}", issued_at=now)
    db.session.add(certificate)
    db.session.flush()
    audit.record(
        None,
        "certificate.issued",
        certificate,
        after={"booking_id": booking.id, "number": certificate.number},
    )
    return certificate


def find_certificate(number: str) -> Certificate | None:
    cleaned = number.strip().upper().replace(" ", "")
    if len(cleaned) == 10:
        cleaned = f"{cleaned[:5]}-{cleaned[5:]}"
    return db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.number == cleaned)
        .options(
            joinedload(Certificate.booking).joinedload(Booking.user),
            joinedload(Certificate.booking).joinedload(Booking.session).joinedload(TrainingSession.course),
        )
    )


# Learner records -------------------------------------------------------------------------


@dataclass
class Refresher:
    course: Course
    completed_on: date
    due_on: date
    state: str  # "in date", "due soon", "overdue"


@dataclass
class LearnerRecord:
    history: list[Booking]
    completed: set[int]  # the bookings in the history that completed their course
    cpd_hours: Decimal
    refreshers: list[Refresher]
    certificates: dict[int, Certificate]


def learner_record(person: User, now: datetime) -> LearnerRecord:
    """Training history, CPD hours and refresher dates for one person."""
    rows = db.session.execute(
        sa.select(Booking, completion.is_completion(now).label("completed"))
        .join(Booking.session)
        .join(TrainingSession.course)
        .where(
            Booking.user_id == person.id,
            Booking.status == BookingStatus.CONFIRMED,
            # Cancelling a session leaves its bookings as they were: it is no part of anyone's history.
            TrainingSession.status != SessionStatus.CANCELLED,
            TrainingSession.ends_at <= now,
        )
        .options(contains_eager(Booking.session).contains_eager(TrainingSession.course))
        .order_by(TrainingSession.starts_at.desc(), Booking.id.desc())
    ).all()
    history = [booking for booking, _ in rows]
    completed = [booking for booking, done in rows if done]
    cpd = sum((b.session.course.cpd_hours for b in completed), Decimal("0"))
    latest: dict[int, tuple[Booking, int]] = {}
    for booking in completed:  # newest first
        if months := booking.session.course.refresher_months:
            latest.setdefault(booking.session.course_id, (booking, months))
    today = to_local(now).date()
    refreshers = []
    for booking, months in latest.values():
        course = booking.session.course
        due = refreshers_due.due_on(booking.session.starts_at, months)
        refreshers.append(
            Refresher(
                course, refreshers_due.completed_on(booking.session.starts_at), due, refreshers_due.state(due, today)
            )
        )
    refreshers.sort(key=lambda r: (r.due_on, r.course.title))
    certificates = {
        c.booking_id: c
        for c in db.session.scalars(sa.select(Certificate).where(Certificate.booking_id.in_([b.id for b in history])))
    }
    return LearnerRecord(history, {b.id for b in completed}, cpd, refreshers, certificates)


@dataclass
class StaffRefresher:
    person: User
    course: Course
    completed_on: date
    due_on: date
    state: str


def refreshers_due_query(agency_id: int | None, now: datetime, *, overdue_only: bool = False) -> sa.Select:
    """(person, course, completed_at) for every active person whose refresher is overdue or due
    within 90 days (or only overdue), soonest due first, for one agency's staff (or everyone)."""
    periods = [
        months
        for months in db.session.scalars(
            sa.select(Course.refresher_months).where(Course.refresher_months.is_not(None)).distinct()
        )
        if months is not None
    ]
    due_by, overdue_by = refreshers_due.cut_offs(periods, to_local(now).date())
    cut_off = overdue_by if overdue_only else due_by
    last = completion.last_completions(now)
    query = (
        sa.select(User, Course, last.c.completed_at)
        .join(last, last.c.user_id == User.id)
        .join(Course, Course.id == last.c.course_id)
        .where(
            User.active.is_(True),
            Course.refresher_months.is_not(None),
            last.c.completed_at < refreshers_due.by_period(Course.refresher_months, cut_off, UTCDateTime()),
        )
        .order_by(
            *refreshers_due.due_order(last.c.completed_at, Course.refresher_months),
            User.name,
            Course.title,
            User.id,
            Course.id,
        )
    )
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    return query


def agency_refreshers(
    agency_id: int | None, now: datetime, *, page: int = 1, per_page: int = 25
) -> ListPage[StaffRefresher]:
    """One page of refreshers due within 90 days or overdue, counted and sorted by the database.

    The count rides along on every row of the page, so working out everyone's latest
    completions (the costly part) happens once; past the last page there are no rows to carry
    it, and the page is empty, which is all the caller needs to know.
    """
    query = refreshers_due_query(agency_id, now).add_columns(sa.func.count().over())
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    items = _as_refreshers([row[:3] for row in rows], now)
    return ListPage(items, page, per_page, int(rows[0][3]) if rows else 0)


def refreshers_due_for(person: User, now: datetime) -> list[StaffRefresher]:
    """This person's refreshers that are overdue or due within 90 days, soonest due first."""
    return _staff_refreshers(refreshers_due_query(None, now).where(User.id == person.id), now)


def overdue_refreshers(agency_id: int, now: datetime, *, limit: int) -> tuple[list[StaffRefresher], int]:
    """The agency's staff whose refreshers are overdue: the longest overdue ``limit``, and how many."""
    query = refreshers_due_query(agency_id, now, overdue_only=True)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return _staff_refreshers(query.limit(limit), now), int(total or 0)


def _staff_refreshers(query: sa.Select, now: datetime) -> list[StaffRefresher]:
    return _as_refreshers(list(db.session.execute(query)), now)


def _as_refreshers(rows: list, now: datetime) -> list[StaffRefresher]:
    """(person, course, completed_at) rows as refreshers with their due dates."""
    today = to_local(now).date()
    items = []
    for person, course, completed_at in rows:
        due = refreshers_due.due_on(completed_at, course.refresher_months)
        items.append(
            StaffRefresher(
                person, course, refreshers_due.completed_on(completed_at), due, refreshers_due.state(due, today)
            )
        )
    return items
