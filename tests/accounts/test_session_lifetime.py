"""Sessions that end: a lifetime from sign-in whatever the activity, an idle timeout, and
"keep me signed in" for at most a few days and never for coordinators."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from tests.accounts.signing_in import is_signed_in
from tests.factories import fresh_client, make_user, sign_in
from tests.pages import parse
from trainapp.accounts.models import Role
from trainapp.config import ConfigError, from_environment


@pytest.fixture
def client(app, db):
    return fresh_client(app)


def important_banner(response) -> str:
    banner = parse(response).find(id="app-banner-title-info")
    assert banner is not None, "no 'Important' banner"
    return " ".join(banner.find_parent("div", class_="govuk-notification-banner").get_text(" ").split())


def set_cookie(response, name: str) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


def expires(header: str) -> datetime | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "expires":
            return parsedate_to_datetime(value)
    return None


def test_a_session_ends_12_hours_after_sign_in_however_busy(client, db, clock, security_log):
    user = make_user()
    assert sign_in(client, user).location == "/"
    for _ in range(7):
        clock.advance(hours=1, minutes=40)
        assert is_signed_in(client)
    clock.advance(minutes=21)  # 12 hours and 1 minute after signing in

    response = client.get("/account")

    assert response.status_code == 302
    assert response.location == "/sign-in?next=%2Faccount"
    page = client.get(response.location)
    assert "You were signed out 12 hours after you signed in. Sign in again." in important_banner(page)
    assert not is_signed_in(client)
    [event] = security_log.named("session.expired")
    assert (event["user_id"], event["reason"]) == (user.id, "lifetime")
    # Signing in again starts a new 12 hours.
    assert sign_in(client, user).location == "/"
    assert is_signed_in(client)


def test_a_session_ends_after_2_hours_without_use(client, db, clock):
    user = make_user()
    sign_in(client, user)
    clock.advance(hours=1, minutes=59)
    assert is_signed_in(client)
    clock.advance(hours=2, minutes=1)

    response = client.get("/account")

    assert response.location.startswith("/sign-in")
    page = client.get(response.location)
    assert "You were signed out because you had not used the service for 2 hours. Sign in again." in important_banner(
        page
    )


def test_the_limits_are_settings(client, db, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 30)
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 1)
    sign_in(client, make_user())
    clock.advance(minutes=29)
    assert is_signed_in(client)
    clock.advance(minutes=30)
    response = client.get("/account")
    assert "for 30 minutes" in important_banner(client.get(response.location))

    sign_in(client, make_user())
    for _ in range(3):
        clock.advance(minutes=20)
    response = client.get("/account")
    assert "1 hour after you signed in" in important_banner(client.get(response.location))


def test_without_keep_me_signed_in_the_cookie_ends_with_the_browser(client, db, clock):
    response = sign_in(client, make_user())
    assert expires(set_cookie(response, "session")) is None
    assert set_cookie(response, "remember_token") is None


def test_staff_kept_signed_in_stay_for_at_most_7_days(client, db, clock):
    user = make_user(Role.STAFF)

    response = sign_in(client, user, remember=True)

    cookie_ends = expires(set_cookie(response, "session"))
    assert cookie_ends is not None
    assert cookie_ends <= datetime.now(UTC) + timedelta(days=7, minutes=1)
    assert set_cookie(response, "remember_token") is None
    # Kept signed in overnight, and past the usual 12 hours...
    clock.advance(hours=20)
    assert is_signed_in(client)
    clock.advance(days=6, hours=3, minutes=59)
    assert is_signed_in(client)
    # ...but never past 7 days from signing in, even with the cookie kept.
    clock.advance(minutes=2)
    response = client.get("/account")
    assert response.location.startswith("/sign-in")
    assert "You were signed out 7 days after you signed in" in important_banner(client.get(response.location))


def test_coordinators_are_never_kept_signed_in(client, db, clock):
    coordinator = make_user(Role.COORDINATOR)

    response = sign_in(client, coordinator, remember=True)

    assert response.location == "/"
    assert expires(set_cookie(response, "session")) is None
    assert set_cookie(response, "remember_token") is None
    clock.advance(hours=2, minutes=1)
    assert not is_signed_in(client)


# --- settings -------------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch):
    for name in ("TRAINAPP_ENV", "SECRET_KEY", "SESSION_ABSOLUTE_HOURS", "SESSION_IDLE_MINUTES", "REMEMBER_ME_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAINAPP_ENV", "development")
    return monkeypatch


def test_the_session_settings_default_to_12_hours_2_hours_and_7_days(environment, tmp_path):
    settings = from_environment(tmp_path)
    assert (settings["SESSION_ABSOLUTE_HOURS"], settings["SESSION_IDLE_MINUTES"], settings["REMEMBER_ME_DAYS"]) == (
        12,
        120,
        7,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REMEMBER_ME_DAYS", "8", "REMEMBER_ME_DAYS must be at most 7 days."),
        ("REMEMBER_ME_DAYS", "0", "REMEMBER_ME_DAYS must be a whole number of days above zero, not '0'."),
        ("SESSION_IDLE_MINUTES", "two hours", "SESSION_IDLE_MINUTES must be a whole number of minutes above zero"),
        ("SESSION_ABSOLUTE_HOURS", "-1", "SESSION_ABSOLUTE_HOURS must be a whole number of hours above zero"),
    ],
)
def test_a_session_setting_that_is_not_a_sensible_number_is_refused(environment, tmp_path, name, value, message):
    environment.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        from_environment(tmp_path)
    assert str(refused.value).startswith(message)


def test_keep_me_signed_in_for_fewer_days_keeps_the_cookie_no_longer(environment, tmp_path):
    environment.setenv("REMEMBER_ME_DAYS", "3")
    assert from_environment(tmp_path)["PERMANENT_SESSION_LIFETIME"] == 3 * 24 * 60 * 60
