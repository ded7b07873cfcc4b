"""Agencies, users, access requests and the records behind signing in."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.errors import InvalidTransition
from trainapp.extensions import Model


class AgencyKind(enum.StrEnum):
    POLICE = "police"
    NHS = "nhs"
    AMBULANCE = "ambulance"
    COUNCIL = "council"
    PROBATION = "probation"
    FIRE = "fire"
    HOUSING = "housing"
    EDUCATION = "education"
    VOLUNTARY = "voluntary"
    OTHER = "other"

    @property
    def label(self) -> str:
        return AGENCY_KIND_LABELS[self]


AGENCY_KIND_LABELS = {
    AgencyKind.POLICE: "Police",
    AgencyKind.NHS: "NHS",
    AgencyKind.AMBULANCE: "Ambulance service",
    AgencyKind.COUNCIL: "Council",
    AgencyKind.PROBATION: "Probation",
    AgencyKind.FIRE: "Fire and rescue",
    AgencyKind.HOUSING: "Housing",
    AgencyKind.EDUCATION: "Education",
    AgencyKind.VOLUNTARY: "Voluntary sector",
    AgencyKind.OTHER: "Other",
}


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    AGENCY_LEAD = "agency_lead"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.COORDINATOR: "Coordinator",
    Role.TRAINER: "Trainer",
    Role.AGENCY_LEAD: "Agency lead",
    Role.STAFF: "Staff",
}


class Agency(Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind))
    is_partner: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    domains: Mapped[list["AgencyDomain"]] = relationship(
        back_populates="agency",
        cascade="all, delete-orphan",
        order_by="AgencyDomain.domain",
        lazy="selectin",
    )

    @property
    def domain_names(self) -> list[str]:
        return [entry.domain for entry in self.domains]

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "is_partner": self.is_partner,
            "active": self.active,
            "domains": self.domain_names,
        }


class AgencyDomain(Model):
    """An email domain an agency's staff use; one domain may be shared (e.g. an NHS one)."""

    __tablename__ = "agency_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(sa.String(253), index=True)

    agency: Mapped[Agency] = relationship(back_populates="domains")

    __table_args__ = (sa.UniqueConstraint("agency_id", "domain"),)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    job_title: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(enum_type(Role), default=Role.STAFF)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated to end every session and remember-me cookie of this user at once.
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the retention period ended: the row stays, so every count keeps its person and
    # agency, but nothing on it names them any more (see trainapp.retention).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The authenticator app's shared secret (base32). Kept as it is, not hashed: checking a code
    # needs the secret itself. Not encrypted with a key from SECRET_KEY either: that key sits in
    # the same environment as DATABASE_URL, so it would protect little, and rotating SECRET_KEY
    # (as after a leak) would then lock every coordinator out. It is shown only while setting up.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Wrong codes in a row and when the last was sent, for slowing down guessing.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    totp_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def has_second_factor(self) -> bool:
        return self.mfa_enrolled_at is not None and self.totp_secret is not None

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_trainer(self) -> bool:
        return self.role == Role.TRAINER

    @property
    def is_agency_lead(self) -> bool:
        return self.role == Role.AGENCY_LEAD

    def can_manage_staff_of(self, agency_id: int | None) -> bool:
        if self.is_coordinator:
            return True
        return self.is_agency_lead and agency_id is not None and agency_id == self.agency_id

    def snapshot(self) -> dict:
        return {
            "email": self.email,
            "name": self.name,
            "job_title": self.job_title,
            "role": str(self.role),
            "agency_id": self.agency_id,
            "active": self.active,
        }


class AccessRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    def check_transition(self, target: "AccessRequestStatus") -> None:
        if target not in ACCESS_REQUEST_TRANSITIONS[self]:
            raise InvalidTransition(f"This request has already been {self.value}.")


ACCESS_REQUEST_TRANSITIONS = {
    AccessRequestStatus.PENDING: {AccessRequestStatus.APPROVED, AccessRequestStatus.REJECTED},
    AccessRequestStatus.APPROVED: set(),
    AccessRequestStatus.REJECTED: set(),
}


class AccessRequest(Model):
    """Someone whose email domain belongs to no agency, asking a coordinator for an account."""

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    job_title: Mapped[str] = mapped_column(sa.String(200), default="")
    organisation: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    status: Mapped[AccessRequestStatus] = mapped_column(
        enum_type(AccessRequestStatus), default=AccessRequestStatus.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class SignInAttempt(Model):
    """Kept in the database so every worker on every host counts the same failures."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    address: Mapped[str] = mapped_column(sa.String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_sign_in_attempts_email_time", "email", "attempted_at"),
        sa.Index("ix_sign_in_attempts_address_time", "address", "attempted_at"),
    )


class PasswordResetToken(Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only the hash is kept: a copy of the database cannot reset anyone's password.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """One of the single-use codes that stand in for the authenticator app when it is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a hash is kept, like reset links: a copy of the database gives no way in.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash"),)
