"""Retention (UK GDPR storage limitation): personal data is kept only as long as the settings say.

A person whose last training session and last sign-in are more than KEEP_TRAINING_RECORDS_YEARS
old is anonymised, not deleted. Their bookings, attendance marks, evaluations, certificates and
charges stay, with the agency each was counted against, so every report, statement and coverage
figure for past years reads the same afterwards; what named them goes (name, email, job title,
their own words' mentions of themselves), and what let them in (password, second factor,
calendar link, reset links) goes with it. The audit trail is append-only and keeps its rows.

Access requests go KEEP_ACCESS_REQUESTS_DAYS after they were made or decided (an approved one has
become an account by then). Sign-in records go after KEEP_SIGN_IN_RECORDS_DAYS (the jobs'
sign-in-records step), and the text of sent emails after the outbox's own OUTBOX_KEEP_* periods.

What a person asked for to take part in a session (access needs: health data) is erased
ACCESS_NEEDS_KEEP_DAYS after the session ended (the access-needs step). The row stays, emptied,
so the board report still counts adjustments requested and arranged. The needs a person saved
on their profile go when they are anonymised.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app

from trainapp import audit
from trainapp.accounts.models import (
    AccessRequest,
    PasswordResetToken,
    RecoveryCode,
    Role,
    SignInAttempt,
    User,
)
from trainapp.attendance.models import Evaluation
from trainapp.bookings.models import Booking, BookingAccessNeeds, SavedAccessNeeds
from trainapp.calendars.models import CachedFeed, CalendarLink
from trainapp.catalogue.models import TrainingSession, session_trainers
from trainapp.db import UTCDateTime, rows_changed, utcnow
from trainapp.extensions import db
from trainapp.funding.models import Charge
from trainapp.notifications.models import OutboxMessage, OutboxStatus
from trainapp.security_log import security_event

# People anonymised per run: a first run over years of records is spread over several runs
# (a few minutes apart under cron), each a short transaction.
BATCH = 500

FORMER = {
    Role.STAFF: "Former learner",
    Role.AGENCY_LEAD: "Former agency lead",
    Role.TRAINER: "Former trainer",
    Role.COORDINATOR: "Former coordinator",
}
NAME_REMOVED = "[name removed]"
EMAIL_REMOVED = "[email removed]"
DROPPED_REASON = "The person's records were anonymised"


@dataclass(frozen=True)
class Cutoffs:
    """Records from before these moments are past their period."""

    training_records: datetime
    access_requests: datetime
    sign_in_records: datetime
    access_needs: datetime  # sessions that ended before this


def cutoffs(now: datetime) -> Cutoffs:
    """The configured periods counted back from ``now``."""
    config = current_app.config
    return Cutoffs(
        training_records=now - relativedelta(years=config["KEEP_TRAINING_RECORDS_YEARS"]),
        access_requests=now - timedelta(days=config["KEEP_ACCESS_REQUESTS_DAYS"]),
        sign_in_records=now - timedelta(days=config["KEEP_SIGN_IN_RECORDS_DAYS"]),
        access_needs=now - timedelta(days=config["ACCESS_NEEDS_KEEP_DAYS"]),
    )


# Who is past their period --------------------------------------------------------------------


def _is_past_their_period(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Not yet anonymised, and nothing of theirs since the cut-off: no account made, no sign-in,
    no session booked (whatever became of the booking) and no session trained."""
    booked_since = sa.exists().where(
        Booking.user_id == User.id, Booking.session_id == TrainingSession.id, TrainingSession.starts_at >= cutoff
    )
    trained_since = sa.exists().where(
        session_trainers.c.user_id == User.id,
        session_trainers.c.session_id == TrainingSession.id,
        TrainingSession.starts_at >= cutoff,
    )
    return sa.and_(
        User.anonymised_at.is_(None),
        User.created_at < cutoff,
        sa.or_(User.last_signed_in_at.is_(None), User.last_signed_in_at < cutoff),
        ~booked_since,
        ~trained_since,
    )


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    email: str
    last_active_at: datetime


@dataclass(frozen=True)
class Plan:
    """What a run would do now, for the dry run."""

    cutoffs: Cutoffs
    people: list[Candidate]
    access_requests: int
    sign_in_records: int
    access_needs: int


def plan(now: datetime | None = None) -> Plan:
    """Everyone and everything past their period, changing nothing."""
    limits = cutoffs(now or utcnow())
    booked = sa.select(sa.func.max(TrainingSession.starts_at)).join(Booking, Booking.session_id == TrainingSession.id)
    trained = sa.select(sa.func.max(TrainingSession.starts_at)).join(
        session_trainers, session_trainers.c.session_id == TrainingSession.id
    )
    rows = db.session.execute(
        sa.select(
            User.id,
            User.name,
            User.email,
            User.created_at,
            User.last_signed_in_at,
            booked.where(Booking.user_id == User.id).scalar_subquery(),
            trained.where(session_trainers.c.user_id == User.id).scalar_subquery(),
        )
        .where(_is_past_their_period(limits.training_records))
        .order_by(User.id)
    )
    people = [
        Candidate(user_id, name, email, max(moment for moment in moments if moment is not None))
        for user_id, name, email, *moments in rows
    ]
    return Plan(
        cutoffs=limits,
        people=people,
        access_requests=_count(AccessRequest, _access_request_is_past(limits.access_requests)),
        sign_in_records=_count(SignInAttempt, SignInAttempt.attempted_at < limits.sign_in_records),
        access_needs=_count(BookingAccessNeeds, _access_needs_are_past(limits.access_needs)),
    )


def _count(model, condition) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model).where(condition)).scalar_one()


def _access_request_is_past(cutoff: datetime) -> sa.ColumnElement[bool]:
    return sa.func.coalesce(AccessRequest.decided_at, AccessRequest.created_at) < cutoff


def _access_needs_are_past(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Not yet erased, on a booking for a session that ended before the cut-off."""
    ended = (
        sa.select(Booking.id)
        .join(TrainingSession, TrainingSession.id == Booking.session_id)
        .where(TrainingSession.ends_at < cutoff)
    )
    return sa.and_(BookingAccessNeeds.erased_at.is_(None), BookingAccessNeeds.booking_id.in_(ended))


# Applying the periods --------------------------------------------------------------------------


def erase_access_needs(now: datetime) -> int:
    """Empty the needs and details asked for on sessions that ended ACCESS_NEEDS_KEEP_DAYS ago, in
    one statement; each row stays, marked erased, so requests and those arranged can be counted."""
    return rows_changed(
        db.session.execute(
            sa.update(BookingAccessNeeds)
            .where(_access_needs_are_past(cutoffs(now).access_needs))
            .values(
                {BookingAccessNeeds.needs_text: "", BookingAccessNeeds.details: "", BookingAccessNeeds.erased_at: now}
            )
            .execution_options(synchronize_session=False)
        )
    )


@dataclass(frozen=True)
class Applied:
    anonymised: int
    access_requests_removed: int


def apply_retention(now: datetime) -> Applied:
    """Anonymise people past their period (up to BATCH a run) and remove old access requests."""
    limits = cutoffs(now)
    people = db.session.scalars(
        sa.select(User).where(_is_past_their_period(limits.training_records)).order_by(User.id).limit(BATCH)
    ).all()
    if people:
        _anonymise(list(people), now)
    removed = rows_changed(
        db.session.execute(
            sa.delete(AccessRequest)
            .where(_access_request_is_past(limits.access_requests))
            .execution_options(synchronize_session=False)
        )
    )
    if people or removed:
        security_event("retention.anonymised", people=len(people), access_requests_removed=removed)
    return Applied(len(people), removed)


def _anonymise(people: list[User], now: datetime) -> None:
    """Replace everything that names these people; keep every row that a figure counts."""
    ids = [person.id for person in people]
    old_emails = {person.id: person.email for person in people}
    _remove_names_from_their_words(people)
    _forget_their_mail(people, now)
    for model, column in (
        (CalendarLink, CalendarLink.user_id),
        (CachedFeed, CachedFeed.user_id),
        (PasswordResetToken, PasswordResetToken.user_id),
        (RecoveryCode, RecoveryCode.user_id),
        (AccessRequest, AccessRequest.user_id),
        (SavedAccessNeeds, SavedAccessNeeds.user_id),
    ):
        db.session.execute(sa.delete(model).where(column.in_(ids)).execution_options(synchronize_session=False))
    db.session.execute(
        sa.delete(SignInAttempt)
        .where(SignInAttempt.email.in_(old_emails.values()))
        .execution_options(synchronize_session=False)
    )
    years = current_app.config["KEEP_TRAINING_RECORDS_YEARS"]
    for person in people:
        person.name = f"{FORMER[person.role]} {person.id}"
        person.email = anonymised_email(person.id)
        person.job_title = ""
        # No hash matches an empty string: no password opens the account again.
        person.password_hash = ""
        person.active = False
        person.rotate_session_token()
        person.totp_secret = None
        person.totp_last_step = None
        person.mfa_enrolled_at = None
        person.anonymised_at = now
        # Only the fact: the row's id already says who it was to anyone allowed to look.
        audit.record(
            None,
            "user.anonymised",
            person,
            after={"anonymised": True},
            reason=f"No session or sign-in for {years} years",
            at=now,
        )
    db.session.flush()


def anonymised_email(user_id: int) -> str:
    # .invalid can never be delivered to (RFC 2606), and the id keeps the column unique.
    return f"anonymised-{user_id}@invalid"


def without_names(text: str, name: str, email: str) -> str:
    """The text with the person's email address, full name and each part of it taken out."""
    parts = {part for part in re.split(r"[\s\-]+", name.strip()) if len(part) >= 2}
    text = re.sub(rf"(?<![\w.+-]){re.escape(email)}(?![\w-])", EMAIL_REMOVED, text, flags=re.IGNORECASE)
    words = sorted({name.strip(), *parts} - {""}, key=len, reverse=True)
    if not words:
        return text
    pattern = "|".join(re.escape(word) for word in words)
    # Case does not matter: people write names in lower case too. A name that is also a word
    # ("May", "Will") goes from the text as well, which costs a word and never a name.
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", NAME_REMOVED, text, flags=re.IGNORECASE)


def _remove_names_from_their_words(people: list[User]) -> None:
    """Evaluation comments are kept for the course's sake, booking and waiver reasons for the
    record: each loses the person's own name and email, in one read and one write per kind."""
    by_id = {person.id: person for person in people}
    ids = list(by_id)
    free_text = (
        (Evaluation, Evaluation.comments, sa.select(Evaluation.id, Evaluation.comments).join(Evaluation.booking)),
        (Booking, Booking.reason, sa.select(Booking.id, Booking.reason)),
        (Charge, Charge.decided_reason, sa.select(Charge.id, Charge.decided_reason).join(Charge.booking)),
    )
    for model, column, query in free_text:
        query = query.add_columns(Booking.user_id).where(Booking.user_id.in_(ids), column.is_not(None), column != "")
        changed = []
        for row_id, text, user_id in db.session.execute(query):
            person = by_id[user_id]
            cleaned = without_names(text, person.name, person.email)
            if cleaned != text:
                changed.append({"id": row_id, column.key: cleaned})
        if changed:
            db.session.execute(sa.update(model), changed)


def _forget_their_mail(people: list[User], now: datetime) -> None:
    """Outbox rows kept for support lose the address and text; a message still waiting is dropped."""
    outbox = OutboxMessage.__table__
    waiting = outbox.c.status == OutboxStatus.PENDING
    statement = (
        sa.update(outbox)
        .where(outbox.c.recipient == sa.bindparam("old_email"))
        .values(
            recipient=sa.bindparam("new_email"),
            body="",
            calendar=None,
            purged_at=sa.func.coalesce(outbox.c.purged_at, sa.bindparam("now", type_=UTCDateTime())),
            status=sa.case((waiting, sa.literal(OutboxStatus.DROPPED, outbox.c.status.type)), else_=outbox.c.status),
            dropped_at=sa.case((waiting, sa.bindparam("now", type_=UTCDateTime())), else_=outbox.c.dropped_at),
            reason=sa.case((waiting, sa.literal(DROPPED_REASON, outbox.c.reason.type)), else_=outbox.c.reason),
        )
    )
    # Executed as a batch of parameter sets; the ORM would insist on updating by primary key.
    db.session.connection().execute(
        statement,
        [{"old_email": p.email, "new_email": anonymised_email(p.id), "now": now} for p in people],
    )
