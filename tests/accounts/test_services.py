from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD, make_agency, make_user
from tests.support import outbox
from trainapp.accounts import services
from trainapp.accounts.models import AccessRequest, AccessRequestStatus, PasswordResetToken, Role, User
from trainapp.audit import AuditEvent
from trainapp.db import utcnow
from trainapp.errors import (
    DomainError,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    InvalidTransition,
    Throttled,
    UnknownAgency,
    WeakPassword,
)


def test_registering_with_a_domain_owned_by_one_agency_puts_the_person_in_it(db):
    police = make_agency("Police", domains=["police.example.org"])
    user = services.register(
        email="Ann.Smith@Police.Example.org",
        name="Ann Smith",
        job_title="PC",
        password=PASSWORD,
        agency_id=None,
    )
    assert user.agency == police
    assert user.role == Role.STAFF
    assert user.email == "ann.smith@police.example.org"


def test_a_shared_domain_requires_choosing_one_of_its_agencies(db):
    first = make_agency("Trust A", domains=["nhs.example.net"])
    second = make_agency("Trust B", domains=["nhs.example.net"])
    other = make_agency("Elsewhere", domains=["other.example.org"])
    with pytest.raises(UnknownAgency):
        services.register(email="a@nhs.example.net", name="A", job_title="Nurse", password=PASSWORD, agency_id=None)
    with pytest.raises(UnknownAgency):
        services.register(email="a@nhs.example.net", name="A", job_title="Nurse", password=PASSWORD, agency_id=other.id)
    user = services.register(
        email="a@nhs.example.net", name="A", job_title="Nurse", password=PASSWORD, agency_id=second.id
    )
    assert user.agency == second
    assert first.id != second.id


def test_a_deactivated_agency_domain_does_not_register_anyone(db):
    make_agency("Closed", domains=["closed.example.org"], active=False)
    assert services.agencies_for_domain("closed.example.org") == []


def test_an_unknown_domain_becomes_an_access_request_that_tells_coordinators(db):
    coordinator = make_user(Role.COORDINATOR)
    access_request = services.request_access(
        email="x@charity.example.org",
        name="Xan",
        job_title="Volunteer",
        organisation="Small Charity",
        password=PASSWORD,
    )
    assert access_request.status == AccessRequestStatus.PENDING
    assert [m.recipient for m in outbox(db)] == [coordinator.email]
    with pytest.raises(DomainError, match="already asked"):
        services.request_access(
            email="X@charity.example.org",
            name="Xan",
            job_title="Volunteer",
            organisation="Small Charity",
            password=PASSWORD,
        )


def test_approving_a_request_creates_the_account_once(db):
    coordinator = make_user(Role.COORDINATOR)
    agency = make_agency()
    access_request = services.request_access(
        email="x@charity.example.org",
        name="Xan",
        job_title="Volunteer",
        organisation="Small Charity",
        password=PASSWORD,
    )
    user = services.approve_access_request(access_request, by=coordinator, agency=agency, role=Role.STAFF)
    assert user.agency == agency and user.active
    assert services.authenticate("x@charity.example.org", PASSWORD, "1.2.3.4") == user
    with pytest.raises(InvalidTransition):
        services.approve_access_request(access_request, by=coordinator, agency=agency, role=Role.STAFF)
    with pytest.raises(InvalidTransition):
        services.reject_access_request(access_request, by=coordinator, reason="no")


def test_rejecting_needs_a_reason_and_emails_it(db):
    coordinator = make_user(Role.COORDINATOR)
    access_request = services.request_access(
        email="x@charity.example.org",
        name="Xan",
        job_title="Volunteer",
        organisation="Small Charity",
        password=PASSWORD,
    )
    with pytest.raises(DomainError, match="reason"):
        services.reject_access_request(access_request, by=coordinator, reason="  ")
    services.reject_access_request(access_request, by=coordinator, reason="Not a partner organisation")
    assert access_request.status == AccessRequestStatus.REJECTED
    rejection = outbox(db)[-1]
    assert rejection.recipient == "x@charity.example.org"
    assert "Not a partner organisation" in rejection.body


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.org", ""])
def test_malformed_emails_are_refused(db, email):
    with pytest.raises(DomainError, match="correct format"):
        services.create_user(email=email, name="A", role=Role.STAFF, agency=None, password=PASSWORD)


def test_email_is_unique_whatever_its_case(db):
    make_user(email="dup@example.org")
    with pytest.raises(EmailTaken):
        services.create_user(email="DUP@Example.org", name="A", role=Role.STAFF, agency=None, password=PASSWORD)


def test_weak_password_is_refused_when_creating(db):
    with pytest.raises(WeakPassword):
        services.create_user(email="new@example.org", name="A", role=Role.STAFF, agency=None, password="password1234")
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_wrong_password_and_unknown_email_get_the_same_message(db):
    make_user(email="known@example.org")
    with pytest.raises(InvalidCredentials) as wrong:
        services.authenticate("known@example.org", "not the password at all", "1.1.1.1")
    with pytest.raises(InvalidCredentials) as unknown:
        services.authenticate("nobody@example.org", PASSWORD, "1.1.1.1")
    assert wrong.value.message == unknown.value.message


def test_deactivated_people_cannot_sign_in(db):
    make_user(email="gone@example.org", active=False)
    with pytest.raises(InvalidCredentials):
        services.authenticate("gone@example.org", PASSWORD, "1.1.1.1")


def test_repeated_failures_from_one_address_slow_it_even_with_the_right_password(app, db):
    make_user(email="target@example.org")
    for n in range(app.config["LOGIN_FREE_FAILURES"]):
        with pytest.raises(InvalidCredentials):
            services.authenticate("target@example.org", f"wrong password {n}", "10.0.0.1")
    with pytest.raises(Throttled, match="Wait 30 seconds"):
        services.authenticate("target@example.org", PASSWORD, "10.0.0.1")
    assert services.authenticate("target@example.org", PASSWORD, "10.0.0.2")


def test_repeated_failures_from_one_address_throttle_that_address(app, db):
    make_user(email="someone@example.org")
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        with pytest.raises(InvalidCredentials):
            services.authenticate(f"guess{n}@example.org", "wrong password", "10.9.9.9")
    with pytest.raises(Throttled):
        services.authenticate("someone@example.org", PASSWORD, "10.9.9.9")
    assert services.authenticate("someone@example.org", PASSWORD, "10.9.9.10")


def test_old_failures_stop_counting(app, db):
    from trainapp.accounts.models import SignInAttempt

    make_user(email="target@example.org")
    long_ago = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 60)
    for _ in range(10):
        db.session.add(
            SignInAttempt(email="target@example.org", address="1.1.1.1", succeeded=False, attempted_at=long_ago)
        )
    assert services.authenticate("target@example.org", PASSWORD, "1.1.1.1")


def test_changing_password_checks_the_current_one_and_rotates_the_session_token(db):
    user = make_user()
    token = user.session_token
    with pytest.raises(DomainError, match="current password"):
        services.change_password(user, current="not my password", new="a brand new passphrase")
    assert user.session_token == token
    services.change_password(user, current=PASSWORD, new="a brand new passphrase")
    assert user.session_token != token
    assert services.authenticate(user.email, "a brand new passphrase", "1.1.1.1") == user


def test_a_reset_link_works_once(db):
    user = make_user()
    services.request_password_reset(user.email.upper())
    message = outbox(db)[-1]
    token = message.body.split("/password/reset/")[1].split()[0]
    services.reset_password(token, "a fresh long passphrase")
    assert services.authenticate(user.email, "a fresh long passphrase", "1.1.1.1") == user
    with pytest.raises(InvalidToken):
        services.reset_password(token, "another long passphrase")


def test_an_expired_reset_link_does_not_work(db):
    user = make_user()
    services.request_password_reset(user.email)
    token = outbox(db)[-1].body.split("/password/reset/")[1].split()[0]
    record = db.session.scalar(sa.select(PasswordResetToken))
    record.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(InvalidToken):
        services.reset_password(token, "a fresh long passphrase")


def test_no_reset_email_for_unknown_or_deactivated_accounts(db):
    make_user(email="gone@example.org", active=False)
    services.request_password_reset("gone@example.org")
    services.request_password_reset("nobody@example.org")
    assert outbox(db) == []


def test_role_and_agency_changes_are_audited(db):
    coordinator = make_user(Role.COORDINATOR)
    person = make_user()
    new_agency = make_agency()
    services.update_user(
        person, by=coordinator, name=person.name, job_title="Lead", role=Role.AGENCY_LEAD, agency=new_agency
    )
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert event.actor_id == coordinator.id
    assert event.before["role"] == "staff" and event.after["role"] == "agency_lead"
    assert event.after["agency_id"] == new_agency.id


def test_only_coordinators_change_roles(db):
    lead = make_user(Role.AGENCY_LEAD)
    person = make_user(agency=lead.agency)
    with pytest.raises(DomainError):
        services.update_user(person, by=lead, name="x", job_title="", role=Role.COORDINATOR, agency=None)


def test_the_last_active_coordinator_cannot_be_removed(db):
    coordinator = make_user(Role.COORDINATOR)
    with pytest.raises(DomainError, match="at least one active coordinator"):
        services.deactivate_user(coordinator, by=coordinator)
    with pytest.raises(DomainError, match="at least one active coordinator"):
        services.update_user(coordinator, by=coordinator, name="c", job_title="", role=Role.STAFF, agency=None)
    second = make_user(Role.COORDINATOR)
    services.deactivate_user(coordinator, by=second)
    assert not coordinator.active


def test_deactivating_ends_sessions_and_is_audited(db):
    coordinator = make_user(Role.COORDINATOR)
    person = make_user()
    token = person.session_token
    services.deactivate_user(person, by=coordinator)
    assert person.session_token != token
    with pytest.raises(DomainError, match="already"):
        services.deactivate_user(person, by=coordinator)
    services.reactivate_user(person, by=coordinator)
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["user.deactivated", "user.reactivated"]


def test_an_access_request_is_never_lost_when_approval_fails(db):
    coordinator = make_user(Role.COORDINATOR)
    access_request = services.request_access(
        email="late@charity.example.org",
        name="Late",
        job_title="",
        organisation="Charity",
        password=PASSWORD,
    )
    make_user(email="late@charity.example.org")
    with pytest.raises(EmailTaken):
        services.approve_access_request(access_request, by=coordinator, agency=make_agency(), role=Role.STAFF)
    assert db.session.get(AccessRequest, access_request.id).status == AccessRequestStatus.PENDING
