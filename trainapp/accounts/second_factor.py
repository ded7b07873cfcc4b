"""A second factor at sign-in: codes from an authenticator app (TOTP, RFC 6238) and single-use
recovery codes for when the app is lost."""

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import RecoveryCode, Role, User
from trainapp.config import ConfigError
from trainapp.db import rows_changed, utcnow
from trainapp.errors import DomainError, Throttled
from trainapp.extensions import db
from trainapp.security_log import security_event

RECOVERY_CODE_COUNT = 10
# The step before and after the current one are accepted too: a phone's clock a little out.
CLOCK_DRIFT_STEPS = 1
_TOTP_CODE = re.compile(r"\d{6}")
# Recovery codes use an alphabet without look-alikes (no 0/o, 1/l), grouped for reading aloud.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_GROUPS, _RECOVERY_GROUP_LENGTH = 4, 4

QR_CODE_LABEL = "QR code for your authenticator app"
WRONG_CODE = "The security code is not correct or has expired. Enter the code your authenticator app shows now"
REUSED_CODE = "This security code has already been used. Wait for your authenticator app to show a new code"
WRONG_RECOVERY_CODE = "This recovery code is not correct. Check it and enter it again"
USED_RECOVERY_CODE = "This recovery code has already been used. Enter another one, or a code from your app"


def check_setting(config) -> None:
    """Refuse a REQUIRE_MFA_FOR naming a role that does not exist, with one line."""
    unknown = sorted(set(config["REQUIRE_MFA_FOR"]) - {role.value for role in Role})
    if unknown:
        roles = ", ".join(role.value for role in Role)
        raise ConfigError(f"REQUIRE_MFA_FOR names no role called {unknown[0]!r}: use some of {roles}, or nothing.")


def is_required_for(user: User) -> bool:
    """Whether this person's role must sign in with an authenticator app (REQUIRE_MFA_FOR)."""
    return user.role.value in current_app.config["REQUIRE_MFA_FOR"]


def must_set_up(user: User) -> bool:
    return is_required_for(user) and not user.has_second_factor


def new_secret() -> str:
    """A fresh shared secret for an authenticator app (160 bits, base32, as RFC 4226 advises)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(user: User, secret: str) -> Markup:
    """The otpauth:// address an app scans, drawn as an inline SVG: no image service sees the secret."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["SERVICE_NAME"])
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, light="#fff", title=QR_CODE_LABEL, svgclass=None, lineclass=None
    )
    # segno writes the markup from the address (in which it escapes the email address and the
    # service name); a role makes screen readers announce it as one image.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{QR_CODE_LABEL}" ', 1))  # noqa: S704


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code this is, within the drift allowed, or None."""
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=now, valid_window=CLOCK_DRIFT_STEPS)
    except pyotp.exceptions.OTPVerificationError:
        return None


def _claim_step(user: User, step: int) -> bool:
    """Record that this step's code was used; False if it (or a later one) already was.

    One UPDATE with the condition in it, so two sign-ins racing with the same code cannot both win."""
    claimed = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["totp_last_step"])
    return rows_changed(claimed) == 1


def _normalise_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _hash_recovery_code(code: str) -> str:
    # A fast hash is enough: each code holds 16 characters from 31 (79 bits) chosen at random,
    # far beyond guessing even at a GPU's rate, unlike a password. Unkeyed, so rotating
    # SECRET_KEY does not throw away codes people keep in a drawer.
    return hashlib.sha256(_normalise_recovery_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
        for _ in range(_RECOVERY_GROUPS)
    )
    return "-".join(groups)


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(code)) for code in codes)
    return codes


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Turn the second factor on once the app shows a right code; the recovery codes, to show once."""
    if user.has_second_factor:
        raise DomainError("You have already set up an authenticator app")
    now = utcnow()
    step = _matching_step(secret, code.strip(), now)
    if step is None:
        security_event("mfa.enrol_failed", logging.WARNING, user_id=user.id)
        raise DomainError(WRONG_CODE, "code")
    user.totp_secret, user.totp_last_step, user.mfa_enrolled_at = secret, step, now
    user.totp_failures, user.totp_failed_at = 0, None
    codes = _replace_recovery_codes(user)
    db.session.flush()
    audit.record(user, "user.mfa_enrolled", user, after={"second_factor": "authenticator app"}, at=now)
    security_event("mfa.enrolled", user_id=user.id)
    return codes


def _refuse(user: User, message: str, reason: str, now: datetime) -> DomainError:
    """A wrong code: counted, so guessing slows down, and logged (never the code itself)."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(totp_failures=User.totp_failures + 1, totp_failed_at=now)
        .execution_options(synchronize_session=False)
    )
    security_event("mfa.failed", logging.WARNING, user_id=user.id, reason=reason)
    return DomainError(message, "code")


def _check_not_guessing(user: User, now: datetime) -> None:
    # Only someone who has just given the right password reaches this step, so counting per
    # person here cannot be used by a stranger to keep the owner out (unlike the password step).
    config = current_app.config
    wait = timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    if user.totp_failed_at is not None and now - user.totp_failed_at >= wait:
        user.totp_failures = 0
    if user.totp_failures >= config["MFA_MAX_FAILURES"]:
        security_event("mfa.throttled", logging.WARNING, user_id=user.id)
        minutes = config["LOGIN_WINDOW_SECONDS"] // 60
        raise Throttled(f"Too many wrong codes. Wait {minutes} minutes, then sign in again")


def _use_recovery_code(user: User, code: str, now: datetime) -> None:
    record = db.session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery_code(code)
        )
    )
    if record is None:
        raise _refuse(user, WRONG_RECOVERY_CODE, "wrong recovery code", now)
    # Conditional, so a code sent twice at once is still used once.
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.id == record.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(used) != 1:
        raise _refuse(user, USED_RECOVERY_CODE, "recovery code used", now)
    left = db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    security_event("mfa.recovery_code_used", user_id=user.id, remaining=left)


def pass_second_step(user: User, code: str) -> None:
    """Accept a code from the app, or an unused recovery code, at sign-in; refuse anything else.

    A refusal's failure count is kept even though the caller rolls nothing else back: the caller
    commits it, as it commits a failed password attempt."""
    now = utcnow()
    _check_not_guessing(user, now)
    assert user.totp_secret is not None, "only someone with an app set up reaches the second step"
    typed = code.strip().replace(" ", "")
    if _TOTP_CODE.fullmatch(typed):
        step = _matching_step(user.totp_secret, typed, now)
        if step is None:
            raise _refuse(user, WRONG_CODE, "wrong code", now)
        if not _claim_step(user, step):
            raise _refuse(user, REUSED_CODE, "reused", now)
    else:
        _use_recovery_code(user, typed, now)
    user.totp_failures, user.totp_failed_at = 0, None
    security_event("mfa.passed", user_id=user.id)


def reset(person: User, *, by: User) -> None:
    """Turn off a lost authenticator app (another coordinator only); the person sets one up again."""
    require_coordinator(by, "reset an authenticator app")
    if person.id == by.id:
        raise DomainError("Ask another coordinator to reset your authenticator app")
    if not person.has_second_factor:
        raise DomainError(f"{person.name} has not set up an authenticator app")
    person.totp_secret = person.totp_last_step = person.mfa_enrolled_at = None
    person.totp_failures, person.totp_failed_at = 0, None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == person.id))
    # Whoever has the lost phone may have a session too.
    person.rotate_session_token()
    audit.record(by, "user.mfa_reset", person, before={"second_factor": "authenticator app"}, after={})
    security_event("mfa.reset", user_id=person.id, by_user_id=by.id)
