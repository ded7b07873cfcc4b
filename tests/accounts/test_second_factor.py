"""A second factor at sign-in: setting up an authenticator app, security codes and recovery codes,
a coordinator's reset of a lost one, and coordinators made to set one up."""

import secrets

import pytest
import sqlalchemy as sa

from tests.accounts.signing_in import (
    CODE_PAGE,
    SET_UP,
    code_at,
    is_signed_in,
    send_code,
    set_up_app,
    shown_secret,
)
from tests.factories import csrf_token, fresh_client, make_user, sign_in
from tests.pages import error_summary, parse, plain, submit
from trainapp import create_app
from trainapp.accounts.models import RecoveryCode, Role, User
from trainapp.audit import AuditEvent
from trainapp.config import ConfigError, from_environment
from trainapp.config import test_config as settings_for_tests

WRONG_CODE = "The security code is not correct or has expired. Enter the code your authenticator app shows now"
USED_CODE = "This security code has already been used. Wait for your authenticator app to show a new code"
USED_RECOVERY = "This recovery code has already been used"


@pytest.fixture
def browser(app, db):
    return lambda: fresh_client(app)


@pytest.fixture
def required_for_coordinators(app, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_MFA_FOR", frozenset({Role.COORDINATOR}))


def enrolled(client, user, clock):
    """A person with an authenticator app set up, signed out again; the secret and recovery codes."""
    assert sign_in(client, user).location in ("/", SET_UP)
    secret, codes = set_up_app(client, clock)
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})
    return secret, codes


def audit_actions(db, user) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity_type == "users", AuditEvent.entity_id == user.id)
        )
    )


# --- setting up -----------------------------------------------------------------------------


def test_setting_up_shows_a_qr_code_and_the_secret_and_a_right_code_turns_it_on(client, db, clock, security_log):
    user = make_user(name="Ada Enrol")
    sign_in(client, user)

    page = client.get(SET_UP)
    assert page.status_code == 200
    qr = parse(page).find("svg")
    assert qr is not None, "no QR code drawn in the page"
    assert qr.find("title") is not None or qr.get("aria-label") or qr.get("role") == "img"
    assert len(shown_secret(page)) >= 32
    # Reloading the page shows the same secret, so an app already scanned still matches.
    assert shown_secret(client.get(SET_UP)) == shown_secret(page)

    secret, codes = set_up_app(client, clock)

    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.expire_all()
    person = db.session.get(User, user.id)
    assert person.mfa_enrolled_at is not None
    stored = list(db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(stored) == 10
    assert not set(codes) & set(stored), "recovery codes are stored as they were shown"
    assert "user.mfa_enrolled" in audit_actions(db, user)
    account = plain(client.get("/account"))
    assert "Authenticator app Set up" in account
    assert [entry["user_id"] for entry in security_log.named("mfa.enrolled")] == [user.id]
    assert secret not in "\n".join(security_log.lines)
    assert not any(code in "\n".join(security_log.lines) for code in codes)


def test_a_wrong_code_at_set_up_is_refused_and_turns_nothing_on(client, db, clock):
    user = make_user()
    sign_in(client, user)
    page = client.get(SET_UP)
    secret = shown_secret(page)

    response = client.post(SET_UP, data={"csrf_token": csrf_token(page), "code": code_at(secret, clock, minutes=-5)})

    assert response.status_code == 200
    assert error_summary(response) == [WRONG_CODE]
    db.session.expire_all()
    assert db.session.get(User, user.id).mfa_enrolled_at is None
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0


def test_someone_with_an_app_set_up_is_sent_back_to_their_account_from_the_set_up_page(client, db, clock):
    user = make_user()
    sign_in(client, user)
    set_up_app(client, clock)

    response = client.get(SET_UP)

    assert response.status_code == 302
    assert response.location == "/account"


# --- signing in -----------------------------------------------------------------------------


def test_signing_in_asks_for_a_code_and_signs_in_only_when_it_is_right(client, db, clock, security_log):
    user = make_user()
    secret, _ = enrolled(client, user, clock)
    clock.advance(seconds=30)

    response = sign_in(client, user)

    assert response.status_code == 302
    assert response.location == CODE_PAGE
    assert not is_signed_in(client), "signed in before the second step"
    page = client.get(CODE_PAGE)
    assert "Enter the security code" in plain(page)

    wrong = send_code(client, "000000" if code_at(secret, clock) != "000000" else "111111")
    assert wrong.status_code == 200
    assert error_summary(wrong) == [WRONG_CODE]
    assert not is_signed_in(client)

    right = send_code(client, code_at(secret, clock))
    assert right.status_code == 302
    assert right.location == "/"
    assert is_signed_in(client)
    assert len(security_log.named("mfa.failed")) == 1
    assert security_log.named("mfa.failed")[0]["user_id"] == user.id
    assert security_log.named("mfa.passed")[0]["user_id"] == user.id


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(client, db):
    response = client.get(CODE_PAGE)
    assert response.status_code == 302
    assert response.location == "/sign-in"


def test_the_second_step_keeps_where_the_person_was_going(client, db, clock):
    user = make_user()
    secret, _ = enrolled(client, user, clock)
    clock.advance(seconds=30)
    page = client.get("/sign-in?next=/calendar")
    client.post(
        "/sign-in?next=/calendar",
        data={"csrf_token": csrf_token(page), "email": user.email, "password": "correct-horse-battery-staple"}
        | {"next": "/calendar"},
    )

    assert send_code(client, code_at(secret, clock)).location == "/calendar"


def test_a_code_cannot_be_used_twice_in_the_same_window(client, browser, db, clock, security_log):
    user = make_user()
    secret, _ = enrolled(client, user, clock)
    # Setting up used this window's code: a few seconds later it is still the same code.
    clock.advance(seconds=5)
    sign_in(client, user)
    reused = send_code(client, code_at(secret, clock))
    assert error_summary(reused) == [USED_CODE]
    assert not is_signed_in(client)

    clock.advance(seconds=30)
    code = code_at(secret, clock)
    assert send_code(client, code).location == "/"
    # Someone who watched the code being typed is too late with it.
    other = browser()
    sign_in(other, user)
    assert error_summary(send_code(other, code)) == [USED_CODE]
    assert not is_signed_in(other)
    assert [entry["reason"] for entry in security_log.named("mfa.failed")] == ["reused", "reused"]


def test_an_expired_code_is_refused(client, db, clock):
    user = make_user()
    secret, _ = enrolled(client, user, clock)
    clock.advance(minutes=10)
    sign_in(client, user)

    response = send_code(client, code_at(secret, clock, minutes=-5))

    assert error_summary(response) == [WRONG_CODE]
    assert not is_signed_in(client)


def test_a_recovery_code_works_once(client, db, clock, security_log):
    user = make_user()
    _, codes = enrolled(client, user, clock)

    sign_in(client, user)
    # Typed as people do: spaces, capitals.
    assert send_code(client, f"  {codes[0].upper()} ").location == "/"
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})

    sign_in(client, user)
    again = send_code(client, codes[0])
    assert again.status_code == 200
    assert any(USED_RECOVERY in message for message in error_summary(again))
    assert not is_signed_in(client)
    assert send_code(client, codes[1]).location == "/"
    db.session.expire_all()
    used = db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_not(None)
        )
    )
    assert used == 2
    assert [entry["reason"] for entry in security_log.named("mfa.failed")] == ["recovery code used"]
    assert security_log.named("mfa.recovery_code_used")


def test_remember_me_does_not_skip_the_second_factor(client, browser, db, clock):
    user = make_user()
    secret, _ = enrolled(client, user, clock)
    clock.advance(seconds=30)

    response = sign_in(client, user, remember=True)
    assert response.location == CODE_PAGE
    assert not is_signed_in(client)
    assert send_code(client, code_at(secret, clock)).location == "/"
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})

    # A browser that was "kept signed in" still asks for a code at the next sign-in.
    assert sign_in(client, user, remember=True).location == CODE_PAGE
    assert not is_signed_in(client)


def test_guessing_codes_is_stopped_after_a_few_tries(client, db, clock, app):
    user = make_user()
    secret, _ = enrolled(client, user, clock)
    clock.advance(seconds=30)
    sign_in(client, user)
    right = code_at(secret, clock)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(app.config["MFA_MAX_FAILURES"]):
        assert error_summary(send_code(client, wrong)) == [WRONG_CODE]

    refused = send_code(client, right)

    assert refused.status_code == 200
    assert error_summary(refused)[0].startswith("Too many")
    assert not is_signed_in(client)
    clock.advance(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    sign_in(client, user)
    assert send_code(client, code_at(secret, clock)).location == "/"


# --- a lost authenticator app ---------------------------------------------------------------


def test_another_coordinator_resets_a_lost_app_and_the_person_must_set_one_up_again(
    client, browser, db, clock, security_log, required_for_coordinators
):
    lost = make_user(Role.COORDINATOR, name="Lou Stphone")
    helper = make_user(Role.COORDINATOR, name="Hel Per")
    lost_secret, lost_codes = enrolled(client, lost, clock)
    helper_secret, _ = enrolled(client, helper, clock)
    their_browser = browser()
    clock.advance(seconds=30)
    sign_in(their_browser, lost)
    send_code(their_browser, code_at(lost_secret, clock))
    assert is_signed_in(their_browser)
    sign_in(client, helper)
    send_code(client, code_at(helper_secret, clock))

    page = client.get(f"/users/{lost.id}")
    assert "Authenticator app Set up" in plain(page)
    response = submit(client, f"/users/{lost.id}/authenticator-app/reset", {}, form_page=f"/users/{lost.id}")

    assert response.status_code == 302
    assert response.location == f"/users/{lost.id}"
    after = plain(client.get(response.location))
    assert "Lou Stphone will set up an authenticator app the next time they sign in" in after
    assert "Authenticator app Not set up" in after
    db.session.expire_all()
    assert db.session.get(User, lost.id).mfa_enrolled_at is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.mfa_reset"))
    assert (event.actor_id, event.entity_id) == (helper.id, lost.id)
    assert [(e["user_id"], e["by_user_id"]) for e in security_log.named("mfa.reset")] == [(lost.id, helper.id)]
    # Their sessions end, and the old codes no longer let anyone in.
    assert not is_signed_in(their_browser)
    assert sign_in(their_browser, lost).location == SET_UP
    assert their_browser.get("/users").location == SET_UP
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == lost.id)) == 0


def test_a_coordinator_cannot_reset_their_own_app(client, db, clock):
    coordinator = make_user(Role.COORDINATOR)
    secret, _ = enrolled(client, coordinator, clock)
    clock.advance(seconds=30)
    sign_in(client, coordinator)
    send_code(client, code_at(secret, clock))

    page = client.get(f"/users/{coordinator.id}")
    assert "Reset authenticator app" not in plain(page)
    response = submit(
        client, f"/users/{coordinator.id}/authenticator-app/reset", {}, form_page=f"/users/{coordinator.id}"
    )

    assert response.status_code == 302
    assert "Ask another coordinator to reset your authenticator app" in error_summary(client.get(response.location))
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).mfa_enrolled_at is not None


# --- who must have one ----------------------------------------------------------------------


def test_a_coordinator_without_an_app_is_sent_to_set_one_up_before_coordinator_pages(
    client, db, clock, required_for_coordinators
):
    coordinator = make_user(Role.COORDINATOR)

    assert sign_in(client, coordinator).location == SET_UP
    for path in ("/users", "/funding", "/outbox"):
        refused = client.get(path)
        assert refused.status_code == 302, path
        assert refused.location == SET_UP, path
    page = client.get(SET_UP)
    assert "You need to set up an authenticator app before you can use coordinator pages" in plain(page)

    set_up_app(client, clock)

    assert client.get("/users").status_code == 200


def test_only_the_roles_named_must_set_one_up(client, db, required_for_coordinators):
    staff = make_user(Role.STAFF)
    assert sign_in(client, staff).location == "/"
    assert client.get("/my-bookings").status_code == 200


def test_with_nobody_required_a_coordinator_uses_pages_without_one(client, db):
    coordinator = make_user(Role.COORDINATOR)
    assert sign_in(client, coordinator).location == "/"
    assert client.get("/users").status_code == 200


# --- the setting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "value", "required"),
    [
        ("production", None, {"coordinator"}),
        ("development", None, set()),
        ("production", "", set()),
        ("production", " Coordinator, agency_lead ", {"coordinator", "agency_lead"}),
    ],
)
def test_who_must_use_an_app_is_a_setting(monkeypatch, tmp_path, env, value, required):
    monkeypatch.setenv("TRAINAPP_ENV", env)
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    if value is None:
        monkeypatch.delenv("REQUIRE_MFA_FOR", raising=False)
    else:
        monkeypatch.setenv("REQUIRE_MFA_FOR", value)

    assert from_environment(tmp_path)["REQUIRE_MFA_FOR"] == required


def test_a_role_that_does_not_exist_stops_the_app_with_one_line(tmp_path):
    config = settings_for_tests(f"sqlite:///{tmp_path / 'test.db'}", tmp_path) | {
        "REQUIRE_MFA_FOR": frozenset({"coordinators"})
    }

    with pytest.raises(ConfigError) as refused:
        create_app(config)

    assert str(refused.value).startswith("REQUIRE_MFA_FOR names no role called 'coordinators'")
    assert "\n" not in str(refused.value)
