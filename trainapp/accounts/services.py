"""Rules for accounts: registration, signing in, passwords and managing users."""

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from trainapp import audit
from trainapp.accounts import passwords
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import (
    AccessRequest,
    AccessRequestStatus,
    Agency,
    AgencyDomain,
    PasswordResetToken,
    Role,
    SignInAttempt,
    User,
)
from trainapp.db import utcnow
from trainapp.errors import (
    DomainError,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    Throttled,
    UnknownAgency,
)
from trainapp.extensions import db
from trainapp.notifications.services import Email, queue_email, queue_emails
from trainapp.security_log import security_event


def normalise_email(email: str) -> str:
    """Lower-case and check an address; raises DomainError for one that cannot be valid."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError("Enter an email address in the correct format, like name@example.org", "email") from exc
    return checked.normalized.lower()


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def agencies_for_domain(domain: str) -> list[Agency]:
    """Active agencies that own an email domain, by name."""
    return list(
        db.session.scalars(
            sa.select(Agency)
            .join(AgencyDomain)
            .where(AgencyDomain.domain == domain.lower(), Agency.active.is_(True))
            .order_by(Agency.name)
        )
    )


def active_agencies() -> list[Agency]:
    """Agencies that can be chosen for new people and bookings, by name."""
    return list(db.session.scalars(sa.select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def find_agency_by_name(name: str) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(sa.func.lower(Agency.name) == name.lower()))
    if agency is None:
        raise UnknownAgency(f"There is no agency called {name!r}")
    return agency


def _ensure_email_free(email: str) -> None:
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account already exists for this email address")


def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    agency: Agency | None,
    password: str,
    job_title: str = "",
    by: User | None = None,
) -> User:
    """Create an account after checking the email and password rules."""
    email = normalise_email(email)
    _ensure_email_free(email)
    passwords.check_policy(password)
    user = new_account(
        email=email,
        name=name,
        role=role,
        agency=agency,
        job_title=job_title,
        password_hash=passwords.hash_password(password),
    )
    db.session.flush()
    audit.record(by or user, "user.created", user, after=user.snapshot())
    return user


def new_account(
    *, email: str, name: str, role: Role, agency: Agency | None, job_title: str, password_hash: str
) -> User:
    """Add an account to the session once the who-may-exist rules hold; the caller has already
    normalised the email and made sure it is free, flushes and audits (so many can be added at once)."""
    if agency is not None and not agency.active:
        raise UnknownAgency("That agency is no longer active")
    if role == Role.AGENCY_LEAD and agency is None:
        raise UnknownAgency("An agency lead must belong to an agency")
    user = User(
        email=email,
        name=name.strip(),
        job_title=job_title.strip(),
        role=role,
        agency=agency,
        password_hash=password_hash,
    )
    db.session.add(user)
    return user


def unusable_password_hash() -> str:
    """A password hash no password matches: the person chooses one from an emailed link."""
    return "!" + secrets.token_hex(16)


def _registration_links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="register-email")


def start_registration(email: str) -> str:
    """Email a link to go on registering, or tell an existing account's owner someone tried.

    The person at the form sees the same either way, so it never tells them whether the
    address has an account; only whoever reads that mailbox can go on."""
    email = normalise_email(email)
    owner = find_user_by_email(email)
    if owner is not None:
        queue_email(owner.email, "registration_attempted", user=owner)
        security_event("registration.existing_email", user_id=owner.id)
        return email
    max_age = current_app.config["REGISTRATION_LINK_MAX_AGE"]
    queue_email(
        email,
        "registration_link",
        token=_registration_links().dumps(email),
        hours=max_age // 3600,
        useless_after=utcnow() + timedelta(seconds=max_age),
    )
    return email


def email_from_registration_link(token: str) -> str:
    """The address a registration link was sent to, or InvalidToken."""
    try:
        return _registration_links().loads(token, max_age=current_app.config["REGISTRATION_LINK_MAX_AGE"])
    except BadData as exc:
        raise InvalidToken("This link has expired or does not work") from exc


def register(*, email: str, name: str, job_title: str, password: str, agency_id: int | None) -> User:
    """Self-registration: an agency's domain gives an account, any other an access request."""
    email = normalise_email(email)
    _ensure_email_free(email)
    passwords.check_policy(password)
    agencies = agencies_for_domain(domain_of(email))
    if not agencies:
        raise UnknownAgency("No agency uses this email domain", "email")
    if len(agencies) == 1:
        agency: Agency | None = agencies[0]
    else:
        agency = next((a for a in agencies if a.id == agency_id), None)
        if agency is None:
            raise UnknownAgency("Select the agency you work for")
    user = create_user(
        email=email,
        name=name,
        role=Role.STAFF,
        agency=agency,
        password=password,
        job_title=job_title,
    )
    return user


def request_access(*, email: str, name: str, job_title: str, organisation: str, password: str) -> AccessRequest:
    """Record a request for an account from someone outside every agency's domains."""
    email = normalise_email(email)
    _ensure_email_free(email)
    passwords.check_policy(password)
    pending = db.session.scalar(
        sa.select(AccessRequest.id).where(
            AccessRequest.email == email, AccessRequest.status == AccessRequestStatus.PENDING
        )
    )
    if pending is not None:
        raise DomainError("You have already asked for access with this email address", "email")
    access_request = AccessRequest(
        email=email,
        name=name.strip(),
        job_title=job_title.strip(),
        organisation=organisation.strip(),
        password_hash=passwords.hash_password(password),
    )
    db.session.add(access_request)
    db.session.flush()
    for coordinator in active_coordinators():
        queue_email(coordinator.email, "access_requested", access_request=access_request)
    return access_request


def active_coordinators() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.COORDINATOR, User.active.is_(True))))


def pending_access_request_count() -> int:
    """How many requests for an account are waiting for a coordinator's decision."""
    return db.session.execute(
        sa.select(sa.func.count(AccessRequest.id)).where(AccessRequest.status == AccessRequestStatus.PENDING)
    ).scalar_one()


def approve_access_request(access_request: AccessRequest, *, by: User, agency: Agency, role: Role) -> User:
    """Turn a pending request into an account in the chosen agency."""
    access_request.status.check_transition(AccessRequestStatus.APPROVED)
    _ensure_email_free(access_request.email)
    if not agency.active:
        raise UnknownAgency("That agency is no longer active")
    user = User(
        email=access_request.email,
        name=access_request.name,
        job_title=access_request.job_title,
        role=role,
        agency=agency,
        password_hash=access_request.password_hash,
    )
    db.session.add(user)
    db.session.flush()
    access_request.status = AccessRequestStatus.APPROVED
    access_request.decided_at = utcnow()
    access_request.decided_by = by
    access_request.user_id = user.id
    audit.record(by, "user.created", user, after=user.snapshot(), reason="access request approved")
    queue_email(user.email, "access_approved", user=user)
    return user


def reject_access_request(access_request: AccessRequest, *, by: User, reason: str) -> None:
    """Refuse a pending request, telling the person why."""
    access_request.status.check_transition(AccessRequestStatus.REJECTED)
    if not reason.strip():
        raise DomainError("Enter a reason for rejecting the request", "reason")
    access_request.status = AccessRequestStatus.REJECTED
    access_request.decided_at = utcnow()
    access_request.decided_by = by
    access_request.decision_reason = reason.strip()
    audit.record(
        by,
        "access_request.rejected",
        access_request,
        before={"status": "pending"},
        after={"status": "rejected"},
        reason=reason.strip(),
    )
    queue_email(access_request.email, "access_rejected", access_request=access_request)


def _recent_failures(column, value: str) -> int:
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    return db.session.execute(
        sa.select(sa.func.count(SignInAttempt.id)).where(
            column == value,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at >= since,
        )
    ).scalar_one()


@dataclass(frozen=True)
class _Failures:
    count: int
    addresses: int
    last_at: datetime | None


def _counting_from(now: datetime, user: User | None, *where) -> datetime:
    """Failures count for a day, and not from before the last success (here) or password reset."""
    since = now - timedelta(seconds=current_app.config["LOGIN_FAILURE_MEMORY_SECONDS"])
    last_success = db.session.scalar(
        sa.select(sa.func.max(SignInAttempt.attempted_at)).where(SignInAttempt.succeeded.is_(True), *where)
    )
    last_reset = None
    if user is not None:
        last_reset = db.session.scalar(
            sa.select(sa.func.max(PasswordResetToken.used_at)).where(PasswordResetToken.user_id == user.id)
        )
    return max(moment for moment in (since, last_success, last_reset) if moment is not None)


def _failures(now: datetime, user: User | None, *where) -> _Failures:
    row = db.session.execute(
        sa.select(
            sa.func.count(SignInAttempt.id),
            sa.func.count(sa.distinct(SignInAttempt.address)),
            sa.func.max(SignInAttempt.attempted_at),
        ).where(
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > _counting_from(now, user, *where),
            *where,
        )
    ).one()
    return _Failures(count=row[0], addresses=row[1], last_at=row[2])


def is_locked(email: str, user: User | None, now: datetime) -> bool:
    """Many failures from many addresses: the account waits for a password reset.

    Counted by address, not by account, so an address with no account locks the same way."""
    config = current_app.config
    failures = _failures(now, user, SignInAttempt.email == email)
    return failures.count >= config["LOGIN_LOCK_FAILURES"] and failures.addresses >= config["LOGIN_LOCK_ADDRESSES"]


def wait_before_next_try(email: str, address: str, user: User | None, now: datetime) -> timedelta:
    """How long this address must wait before trying this account again (zero: it may try now)."""
    config = current_app.config
    failures = _failures(now, user, SignInAttempt.email == email, SignInAttempt.address == address)
    extra = failures.count - config["LOGIN_FREE_FAILURES"]
    if extra < 0 or failures.last_at is None:
        return timedelta(0)
    # Capped before doubling, so a long run of failures cannot overflow the arithmetic.
    delay = min(config["LOGIN_FIRST_DELAY_SECONDS"] * 2 ** min(extra, 32), config["LOGIN_MAX_DELAY_SECONDS"])
    return max(failures.last_at + timedelta(seconds=delay) - now, timedelta(0))


def _how_long(wait: timedelta) -> str:
    seconds = math.ceil(wait.total_seconds())
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def authenticate(email: str, password: str, address: str) -> User:
    """Check a sign-in, slowing an address that keeps failing for one account.

    The attempt row is added even when this raises: the caller commits it.
    """
    email = email.strip().lower()[:254]
    address = address[:64]
    config = current_app.config
    now = utcnow()
    user = find_user_by_email(email)
    if is_locked(email, user, now):
        security_event("sign_in.throttled", logging.WARNING, email=email, user_id=_id(user), reason="account_locked")
        raise Throttled(
            "This account is locked after too many failed attempts to sign in. To unlock it, reset your password"
        )
    wait = wait_before_next_try(email, address, user, now)
    if wait:
        security_event("sign_in.throttled", logging.WARNING, email=email, user_id=_id(user), reason="slowed")
        raise Throttled(
            f"Too many failed attempts to sign in from here. Wait {_how_long(wait)} and try again, "
            "or reset your password"
        )
    if _recent_failures(SignInAttempt.address, address) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        security_event("sign_in.throttled", logging.WARNING, email=email, user_id=_id(user), reason="address")
        minutes = config["LOGIN_WINDOW_SECONDS"] // 60
        raise Throttled(
            f"Too many failed attempts to sign in. Wait {minutes} minutes and try again, or reset your password"
        )
    ok = passwords.matches(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active
    db.session.add(SignInAttempt(email=email, address=address, succeeded=ok, attempted_at=now))
    if user is None or not ok:
        reason = "unknown_email" if user is None else "wrong_password" if user.active else "deactivated"
        security_event("sign_in.failed", logging.WARNING, email=email, user_id=_id(user), reason=reason)
        db.session.flush()
        if is_locked(email, user, now):
            _locked_now(email, user)
        raise InvalidCredentials("Enter a correct email address and password")
    user.last_signed_in_at = now
    security_event("sign_in.succeeded", user_id=user.id)
    return user


def _id(user: User | None) -> int | None:
    return user.id if user is not None else None


def _locked_now(email: str, user: User | None) -> None:
    """The failure that locked the account: tell the security log, and the owner if there is one."""
    security_event("account.locked", logging.WARNING, email=email, user_id=_id(user))
    if user is not None:
        queue_email(user.email, "account_locked", user=user)


def sign_out(user: User) -> None:
    """End every session and remember-me cookie of this user."""
    user.rotate_session_token()


def change_password(user: User, *, current: str, new: str) -> None:
    """Change a password after checking the current one; ends every other session."""
    if not passwords.matches(user.password_hash, current):
        raise DomainError("Your current password is not correct", "current_password")
    passwords.check_policy(new)
    user.password_hash = passwords.hash_password(new)
    user.rotate_session_token()
    audit.record(user, "user.password_changed", user)
    security_event("password.changed", user_id=user.id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(email: str, *, template: str = "password_reset", max_age: int | None = None) -> None:
    """Email a one-time link to set a password, if an active account has this address."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    send_password_links([user], template=template, max_age=max_age)


def send_password_links(users: list[User], *, template: str = "password_reset", max_age: int | None = None) -> None:
    """Email each active person a one-time link to set their password (valid ``max_age`` seconds);
    many at once in a few statements, for a staff list."""
    max_age = max_age or current_app.config["PASSWORD_RESET_MAX_AGE"]
    expires_at = utcnow() + timedelta(seconds=max_age)
    emails = []
    for user in users:
        token = secrets.token_urlsafe(32)
        db.session.add(PasswordResetToken(user=user, token_hash=_token_hash(token), expires_at=expires_at))
        security_event("password.reset_requested", user_id=user.id)
        # A link that has expired by the time the mail server is back would only disappoint.
        emails.append(Email(user.email, template, {"user": user, "token": token, "minutes": max_age // 60}, expires_at))
    db.session.flush()
    queue_emails(emails)


def find_reset_token(token: str) -> PasswordResetToken:
    """The live reset record for a token, or InvalidToken."""
    record = db.session.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token)))
    if record is None or record.used_at is not None or record.expires_at <= utcnow() or not record.user.active:
        raise InvalidToken("This link has expired or has already been used")
    return record


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link then stops working."""
    record = find_reset_token(token)
    passwords.check_policy(new_password)
    user = record.user
    user.password_hash = passwords.hash_password(new_password)
    user.rotate_session_token()
    now = utcnow()
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    audit.record(user, "user.password_reset", user)
    security_event("password.reset", user_id=user.id)
    return user


def _is_last_active_coordinator(user: User) -> bool:
    if user.role != Role.COORDINATOR or not user.active:
        return False
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.role == Role.COORDINATOR, User.active.is_(True), User.id != user.id
        )
    )
    return others == 0


def update_user(user: User, *, by: User, name: str, job_title: str, role: Role, agency: Agency | None) -> None:
    """Change a person's details, role or agency (coordinators only)."""
    require_coordinator(by, "change roles and agencies")
    if role != Role.COORDINATOR and _is_last_active_coordinator(user):
        raise DomainError("The service needs at least one active coordinator", "role")
    if role == Role.AGENCY_LEAD and agency is None:
        raise UnknownAgency("An agency lead must belong to an agency")
    before = user.snapshot()
    user.name, user.job_title = name.strip(), job_title.strip()
    user.role, user.agency = role, agency
    user.agency_id = agency.id if agency else None
    old, new = audit.changes(before, user.snapshot())
    if new:
        audit.record(by, "user.updated", user, before=old, after=new)
    if "role" in new:
        security_event("user.role_changed", user_id=user.id, from_role=old["role"], to_role=new["role"])


def deactivate_user(user: User, *, by: User | None) -> None:
    """Stop a person signing in; their sessions end at once."""
    if not user.active:
        raise DomainError("This account is already deactivated")
    if _is_last_active_coordinator(user):
        raise DomainError("The service needs at least one active coordinator")
    user.active = False
    user.rotate_session_token()
    audit.record(by, "user.deactivated", user, before={"active": True}, after={"active": False})
    security_event("user.deactivated", user_id=user.id)


def reactivate_user(user: User, *, by: User | None) -> None:
    if user.active:
        raise DomainError("This account is already active")
    if user.anonymised_at is not None:
        raise DomainError("This account was anonymised when its retention period ended and cannot be reopened")
    user.active = True
    audit.record(by, "user.reactivated", user, before={"active": False}, after={"active": True})
    security_event("user.reactivated", user_id=user.id)
