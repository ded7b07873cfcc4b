"""Scheduled jobs, safe to run every few minutes on any number of hosts at once.

Each step runs in its own transaction and claims its work first: on PostgreSQL a step takes a
transaction-level advisory lock and a host that cannot get it skips the step (another host is
doing it); on SQLite every step's transaction takes the write lock before it reads, so a second
host waits and then finds nothing left to do. Whatever a step does is keyed (reminders by their
dedupe key, expiries by the booking's status), so running again changes nothing twice. A step
that fails is rolled back and reported, and the steps after it still run.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from trainapp import retention
from trainapp.accounts.models import PasswordResetToken, SignInAttempt
from trainapp.attendance import services as attendance
from trainapp.bookings import reminders
from trainapp.bookings import services as bookings
from trainapp.db import refresh_planner_statistics, rows_changed, utcnow
from trainapp.extensions import db
from trainapp.notifications import services as outbox
from trainapp.people import services as people

logger = logging.getLogger("trainapp.jobs")

# As many as `outbox send` sends by default: a run should empty a normal day's queue.
DELIVERY_LIMIT = 500
ERROR_LENGTH = 200


@dataclass(frozen=True)
class Done:
    """What a step did, in a few words; ``ok`` is False when it needs an operator's attention."""

    summary: str
    ok: bool = True


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[datetime], Done]
    # The outbox leases each message itself and commits as it goes: a lock held for the
    # step's transaction would protect nothing there.
    exclusive: bool = True


@dataclass(frozen=True)
class Outcome:
    step: str
    summary: str
    failed: bool = False

    def line(self) -> str:
        return f"{self.step}: {self.summary}"


def forget_old_sign_in_attempts(now: datetime | None = None) -> int:
    """Sign-in records are kept KEEP_SIGN_IN_RECORDS_DAYS, to look into an attack after the
    throttling window has passed; reset links a day after they expired."""
    now = now or utcnow()
    result = db.session.execute(
        sa.delete(SignInAttempt).where(SignInAttempt.attempted_at < retention.cutoffs(now).sign_in_records)
    )
    result_tokens = db.session.execute(
        sa.delete(PasswordResetToken).where(PasswordResetToken.expires_at < now - timedelta(days=1))
    )
    return rows_changed(result) + rows_changed(result_tokens)


def _forget_sign_in_records(now: datetime) -> Done:
    return Done(f"removed {forget_old_sign_in_attempts(now)}")


def _apply_retention(now: datetime) -> Done:
    applied = retention.apply_retention(now)
    return Done(f"anonymised {applied.anonymised}, access requests removed {applied.access_requests_removed}")


def _erase_access_needs(now: datetime) -> Done:
    return Done(f"erased {retention.erase_access_needs(now)}")


def _release_reservations(now: datetime) -> Done:
    return Done(f"released {bookings.release_due_reservations(now)}")


def _expire_requests(now: datetime) -> Done:
    return Done(f"expired {bookings.expire_requests(now)}")


def _queue_reminders(now: datetime) -> Done:
    return Done(f"queued {reminders.queue_reminders(now)}")


def _queue_follow_ups(now: datetime) -> Done:
    return Done(f"queued {attendance.queue_follow_ups(now)}")


def _forget_staff_list_previews(now: datetime) -> Done:
    return Done(f"removed {people.forget_old_previews(now)}")


def _purge_outbox(now: datetime) -> Done:
    return Done(f"purged {outbox.purge_old_messages(now)}")


def _deliver_outbox(now: datetime) -> Done:
    report = outbox.send_due_messages(DELIVERY_LIMIT)
    # The report's line is the one `outbox send` prints, which names the outbox itself.
    return Done(report.line().removeprefix("outbox: "), ok=report.ok)


def _refresh_planner_statistics(now: datetime) -> Done:
    return Done("refreshed" if refresh_planner_statistics(db.session) else "not needed")


STEPS: tuple[Step, ...] = (
    Step("sign-in-records", _forget_sign_in_records),
    Step("retention", _apply_retention),
    Step("access-needs", _erase_access_needs),
    Step("release-reservations", _release_reservations),
    Step("expire-requests", _expire_requests),
    Step("reminders", _queue_reminders),
    Step("follow-ups", _queue_follow_ups),
    Step("staff-list-previews", _forget_staff_list_previews),
    Step("purge-outbox", _purge_outbox),
    Step("outbox", _deliver_outbox, exclusive=False),
    Step("planner-statistics", _refresh_planner_statistics),
)

# The steps `flask retention` runs on its own: personal data past its period, mail text included.
RETENTION_STEPS = ("sign-in-records", "retention", "access-needs", "purge-outbox")


def claim_step(session: Session | scoped_session[Any], name: str) -> bool:
    """Take the step for the session's transaction; False when another host has it.

    The lock is keyed by the schema too, so two deployments (or test runs) sharing one
    PostgreSQL database do not skip each other's steps.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(
            sa.text("SELECT pg_try_advisory_xact_lock(hashtext(current_schema()), hashtext(:key))"),
            {"key": f"trainapp.jobs.{name}"},
        )
    )


def run_step(step: Step) -> Outcome:
    """Run one step in its own transaction; any failure is rolled back, logged and reported."""
    try:
        if step.exclusive and not claim_step(db.session, step.name):
            db.session.rollback()
            outcome = Outcome(step.name, "skipped (running on another host)")
        else:
            done = step.run(utcnow())
            db.session.commit()
            outcome = Outcome(step.name, done.summary, failed=not done.ok)
    except Exception as error:  # noqa: BLE001 - one broken step must not stop the others
        _roll_back()
        outcome = Outcome(step.name, f"failed ({describe_error(error)})", failed=True)
        logger.error(outcome.line(), exc_info=error)
        return outcome
    logger.log(logging.ERROR if outcome.failed else logging.INFO, outcome.line())
    return outcome


def _roll_back() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a lost connection can fail its rollback too
        logger.warning("Rolling back a failed step failed too; the next step starts afresh", exc_info=True)
        db.session.remove()


def describe_error(error: Exception) -> str:
    """The error's class and the first line of what the database or library said."""
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    text = f"{type(error).__name__}: {detail[0]}" if detail else type(error).__name__
    return text if len(text) <= ERROR_LENGTH else text[: ERROR_LENGTH - 1] + "…"


def run_retention() -> list[Outcome]:
    """Run only the steps that remove or anonymise personal data past its period."""
    return [run_step(step) for step in STEPS if step.name in RETENTION_STEPS]


def run_all() -> list[Outcome]:
    """Run every step once, in order; a step's failure never stops the steps after it."""
    return [run_step(step) for step in STEPS]
