"""Scheduled jobs: each idempotent, so cron on several hosts changes nothing twice."""

from datetime import timedelta

import sqlalchemy as sa

from trainapp.accounts.models import PasswordResetToken, SignInAttempt
from trainapp.db import refresh_planner_statistics, utcnow
from trainapp.extensions import db
from trainapp.notifications.services import describe_delivery, send_due_messages


def forget_old_sign_in_attempts() -> int:
    """Throttling needs only the last window; older attempts are personal data to drop."""
    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(sa.delete(SignInAttempt).where(SignInAttempt.attempted_at < cutoff))
    result_tokens = db.session.execute(
        sa.delete(PasswordResetToken).where(PasswordResetToken.expires_at < cutoff)
    )
    return result.rowcount + result_tokens.rowcount


def run_all() -> list[str]:
    """Run each job in its own transaction and report what it did."""
    from trainapp.attendance.services import queue_follow_ups
    from trainapp.bookings.reminders import queue_reminders
    from trainapp.bookings.services import expire_requests, release_due_reservations

    report = []
    removed = forget_old_sign_in_attempts()
    db.session.commit()
    report.append(f"Removed {removed} expired sign-in record(s).")
    released = release_due_reservations(utcnow())
    db.session.commit()
    report.append(f"Released {released} agency reservation(s).")
    expired = expire_requests(utcnow())
    db.session.commit()
    report.append(f"Expired {expired} booking request(s) nobody decided.")
    queued = queue_reminders(utcnow())
    db.session.commit()
    report.append(f"Queued {queued} reminder(s) and joining link(s).")
    follow_ups = queue_follow_ups(utcnow())
    db.session.commit()
    report.append(f"Queued {follow_ups} evaluation follow-up(s).")
    report.append(describe_delivery(*send_due_messages()))
    if refresh_planner_statistics(db.session):
        db.session.commit()
    return report
