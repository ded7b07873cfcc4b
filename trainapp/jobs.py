"""Scheduled jobs: each idempotent, so cron on several hosts changes nothing twice."""

from datetime import timedelta

import sqlalchemy as sa

from trainapp.accounts.models import PasswordResetToken, SignInAttempt
from trainapp.db import utcnow
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
    report = []
    removed = forget_old_sign_in_attempts()
    db.session.commit()
    report.append(f"Removed {removed} expired sign-in record(s).")
    report.append(describe_delivery(*send_due_messages()))
    return report
