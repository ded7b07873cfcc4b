"""Settings read from the environment, once, when the app is created."""

import os
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click


class ConfigError(click.ClickException):
    """The environment does not describe a service that can start safely.

    A click exception, so every ``flask`` command stops with its one-line message, not a traceback;
    wsgi.py does the same for gunicorn."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret(instance_path: Path) -> str:
    """Keep one random key per checkout so a restart does not sign everyone out."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# Setting name -> what it counts, for the message when it is not a whole number above zero.
OUTBOX_SETTINGS = {
    "OUTBOX_RETRY_FOR_HOURS": "hours",
    "OUTBOX_RETRY_CEILING_MINUTES": "minutes",
    "OUTBOX_KEEP_SENT_DAYS": "days",
    "OUTBOX_KEEP_FAILED_DAYS": "days",
}


# How long personal data is kept (UK GDPR storage limitation): see trainapp.retention.
RETENTION_SETTINGS = {
    "KEEP_TRAINING_RECORDS_YEARS": "years",
    "KEEP_ACCESS_REQUESTS_DAYS": "days",
    "KEEP_SIGN_IN_RECORDS_DAYS": "days",
    "ACCESS_NEEDS_KEEP_DAYS": "days",
}

# How far ahead the public calendar feed reaches (it starts 30 days back).
FEED_SETTINGS = {"PUBLIC_FEED_MONTHS_AHEAD": "months"}

# A hundred years in each unit: beyond it a date would fall outside what Python can hold. Ten
# years of months: a feed reaching further would hold every session ever planned.
_MOST = {"years": 100, "months": 120, "days": 36_500, "hours": 876_000, "minutes": 52_560_000}


def _periods(units: dict[str, str]) -> dict:
    """Periods counted in whole units above zero (mail retries, retention), defaults in DefaultConfig."""
    settings = {}
    for name, unit in units.items():
        raw = os.environ.get(name, "").strip()
        if not raw:
            settings[name] = getattr(DefaultConfig, name)
            continue
        # isascii: "²" is a digit to str.isdigit but not a number to int().
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ConfigError(f"{name} must be a whole number of {unit} above zero, not {raw!r}.")
        if int(raw) > _MOST[unit]:
            raise ConfigError(f"{name} must be at most {_MOST[unit]:,} {unit}, not {raw!r}.")
        settings[name] = int(raw)
    return settings


def _organisation_settings() -> dict:
    """Who runs the service, for the footer pages (accessibility, privacy, contact)."""
    email = os.environ.get("ORGANISATION_EMAIL", "").strip() or os.environ.get("MAIL_FROM", "training@localhost")
    return {
        "ORGANISATION_EMAIL": email,
        "ORGANISATION_ADDRESS": os.environ.get("ORGANISATION_ADDRESS", "").strip(),
        "DATA_PROTECTION_OFFICER_EMAIL": os.environ.get("DATA_PROTECTION_OFFICER_EMAIL", "").strip() or email,
        "ACCESSIBILITY_TESTED_ON": _accessibility_tested_on(),
    }


def _accessibility_tested_on() -> date:
    raw = os.environ.get("ACCESSIBILITY_TESTED_ON", "").strip()
    if not raw:
        return DefaultConfig.ACCESSIBILITY_TESTED_ON
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"ACCESSIBILITY_TESTED_ON must be a date such as 2026-12-01, not {raw!r}.") from exc


SECURITY_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _security_log_level() -> str:
    raw = os.environ.get("SECURITY_LOG_LEVEL", "").strip().upper() or DefaultConfig.SECURITY_LOG_LEVEL
    if raw not in SECURITY_LOG_LEVELS:
        raise ConfigError(f"SECURITY_LOG_LEVEL must be one of {', '.join(SECURITY_LOG_LEVELS)}, not {raw!r}.")
    return raw


# How long a signed-in session lasts (see trainapp.accounts.session_lifetime).
SESSION_SETTINGS = {
    "SESSION_ABSOLUTE_HOURS": "hours",
    "SESSION_IDLE_MINUTES": "minutes",
    "REMEMBER_ME_DAYS": "days",
}
# "Keep me signed in" never lasts longer than this, whatever the setting says.
MOST_REMEMBER_ME_DAYS = 7


def _session_settings() -> dict:
    settings = _periods(SESSION_SETTINGS)
    if settings["REMEMBER_ME_DAYS"] > MOST_REMEMBER_ME_DAYS:
        raise ConfigError(f"REMEMBER_ME_DAYS must be at most {MOST_REMEMBER_ME_DAYS} days.")
    # Flask refuses a signed session cookie older than this, and a kept one expires with it.
    settings["PERMANENT_SESSION_LIFETIME"] = 60 * 60 * 24 * settings["REMEMBER_ME_DAYS"]
    return settings


def _roles_requiring_mfa(development: bool) -> frozenset[str]:
    """REQUIRE_MFA_FOR: roles that must sign in with an authenticator app (checked in accounts).

    Coordinators by default in production; nobody by default on a developer's machine, so the
    demo data signs in with a password alone."""
    raw = os.environ.get("REQUIRE_MFA_FOR")
    if raw is None:
        return frozenset() if development else DefaultConfig.REQUIRE_MFA_FOR
    return frozenset(role.strip().lower() for role in raw.split(",") if role.strip())


MIN_SECRET_KEY_LENGTH = 32
# Keys from examples, tutorials and this project's tests: anyone could sign a session with them.
WELL_KNOWN_SECRET_KEYS = frozenset(
    {
        "dev",
        "development",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "your-secret-key",
        "test-secret-key-not-for-production",
    }
)
_NEW_KEY_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _secret_key(development: bool, instance_path: Path) -> str:
    """SECRET_KEY signs sessions and forms: outside development, a long one nobody else knows."""
    key = os.environ.get("SECRET_KEY", "")
    if development:
        return key or _development_secret(instance_path)
    if not key:
        raise ConfigError(
            f"SECRET_KEY is not set: set it to the output of {_NEW_KEY_HINT} "
            "(or TRAINAPP_ENV=development on a developer's machine)."
        )
    if len(key) < MIN_SECRET_KEY_LENGTH or key.strip().lower() in WELL_KNOWN_SECRET_KEYS:
        raise ConfigError(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters, "
            f"such as the output of {_NEW_KEY_HINT}."
        )
    return key


def _trusted_hosts(base_url: str, development: bool) -> list[str]:
    """Host headers the app answers (TRUSTED_HOSTS, default BASE_URL's host); any other gets 400."""
    listed = [host.strip() for host in os.environ.get("TRUSTED_HOSTS", "").split(",") if host.strip()]
    if not listed:
        host = urlsplit(base_url).hostname
        if not host:
            raise ConfigError(f"BASE_URL must be a web address such as https://training.example.org, not {base_url!r}.")
        listed = [host]
    # A developer opens the app by either of this machine's names.
    return sorted({*listed, "localhost", "127.0.0.1"}) if development else listed


def from_environment(instance_path: Path) -> dict:
    """Build the configuration mapping for ``create_app``."""
    env = os.environ.get("TRAINAPP_ENV", "production").strip().lower()
    if env not in {"development", "production"}:
        raise ConfigError(f"TRAINAPP_ENV must be 'development' or 'production', not {env!r}.")
    development = env == "development"

    secret_key = _secret_key(development, instance_path)

    timezone = os.environ.get("TIMEZONE", "Europe/London")
    try:
        ZoneInfo(timezone)
    # OSError: a zone folder's name such as 'Europe' is a directory, not a zone.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(f"TIMEZONE {timezone!r} is not a known time zone.") from exc

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'trainapp.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000").strip().rstrip("/")
    secure_cookies = _flag("SECURE_COOKIES", not development)
    return {
        "ENV_NAME": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TIMEZONE": timezone,
        "ORGANISATION_NAME": os.environ.get("ORGANISATION_NAME", "Community Safety Partnership"),
        "SERVICE_NAME": os.environ.get("SERVICE_NAME", "Partnership training"),
        "BASE_URL": base_url,
        "TRUSTED_HOSTS": _trusted_hosts(base_url, development),
        "MAIL_TRANSPORT": os.environ.get("MAIL_TRANSPORT", "file"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "training@localhost"),
        # Where late requests for adjustments go; empty: to every active coordinator.
        "COORDINATORS_EMAIL": os.environ.get("COORDINATORS_EMAIL", "").strip(),
        "MAIL_DIR": os.environ.get("MAIL_DIR", str(instance_path / "mail")),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", True),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0")),
        "SECURITY_LOG_LEVEL": _security_log_level(),
        "REQUIRE_MFA_FOR": _roles_requiring_mfa(development),
        **_session_settings(),
        **_periods(OUTBOX_SETTINGS),
        **_periods(RETENTION_SETTINGS),
        **_periods(FEED_SETTINGS),
        **_organisation_settings(),
    }


class DefaultConfig:
    """Values that hold everywhere unless the environment or a test says otherwise."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 512 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    # Fields in one form, urlencoded as well as multipart (trainapp.inputs): the longest, a full
    # register, has two per place (500 at most) and a few more for walk-ins.
    MAX_FORM_PARTS = 2000
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A session ends SESSION_ABSOLUTE_HOURS after signing in however busy, or after
    # SESSION_IDLE_MINUTES unused. "Keep me signed in" makes the session cookie outlive the
    # browser for REMEMBER_ME_DAYS from signing in, never for coordinators. Flask-Login's own
    # remember cookie is not used: it carries no sign-in time, so it could not be made to end.
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_IDLE_MINUTES = 2 * 60
    REMEMBER_ME_DAYS = 7
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * REMEMBER_ME_DAYS
    # Roles (Role values) that must use an authenticator app; empty: nobody has to.
    REQUIRE_MFA_FOR: frozenset[str] = frozenset({"coordinator"})
    # Wrong authenticator codes in a row before the second step waits LOGIN_WINDOW_SECONDS.
    MFA_MAX_FAILURES = 5
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 12
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hashing method, not a password
    PASSWORD_RESET_MAX_AGE = 60 * 60
    REGISTRATION_LINK_MAX_AGE = 24 * 60 * 60
    # One address guessing at many accounts is stopped for a while.
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    # One address guessing at one account: a few tries free, then a wait that doubles with each
    # failure. Failures count for a day, or until a sign-in from there or a password reset.
    LOGIN_FREE_FAILURES = 3
    LOGIN_FIRST_DELAY_SECONDS = 30
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    LOGIN_FAILURE_MEMORY_SECONDS = 24 * 60 * 60
    # Only this many failures from at least this many addresses lock the account itself (until
    # a password reset or the memory above lapses), so one guesser cannot keep its owner out.
    LOGIN_LOCK_FAILURES = 15
    LOGIN_LOCK_ADDRESSES = 5
    # Sign-ins and failures are INFO and WARNING; WARNING keeps only failures and refusals.
    SECURITY_LOG_LEVEL = "INFO"
    # A message is retried, waiting at most OUTBOX_RETRY_CEILING_MINUTES between attempts, for
    # OUTBOX_RETRY_FOR_HOURS before it is marked failed (a mail server down over a weekend).
    OUTBOX_RETRY_FOR_HOURS = 72
    OUTBOX_RETRY_CEILING_MINUTES = 30
    # Then bodies and attachments are removed; the rows stay for support.
    OUTBOX_KEEP_SENT_DAYS = 30
    OUTBOX_KEEP_FAILED_DAYS = 30
    # Personal data past these periods is removed or anonymised by `flask jobs run`: a person's
    # training records the given years after their last session or sign-in, access requests
    # after they were made or decided, sign-in records after they were written.
    KEEP_TRAINING_RECORDS_YEARS = 6
    KEEP_ACCESS_REQUESTS_DAYS = 90
    KEEP_SIGN_IN_RECORDS_DAYS = 30
    # Days after a session ends when what people asked for to take part is erased (the count stays).
    ACCESS_NEEDS_KEEP_DAYS = 30
    # The coordinators' shared mailbox for late requests for adjustments; empty: every coordinator.
    COORDINATORS_EMAIL = ""
    PAGE_SIZE = 25
    PUBLIC_FEED_MONTHS_AHEAD = 12
    # When the service was last checked against WCAG 2.2 AA, for the accessibility statement.
    ACCESSIBILITY_TESTED_ON = date(2026, 12, 1)


# The test suite's key: public, so refused outside development like any other well-known key.
TEST_SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105


def test_config(database_url: str, tmp_path: Path) -> dict:
    """Settings for the test suite: fast hashing, a throwaway mail folder."""
    return {
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        # The test client asks for localhost, the browser tests' server listens on 127.0.0.1.
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TIMEZONE": "Europe/London",
        "ORGANISATION_NAME": "Test Partnership",
        "SERVICE_NAME": "Partnership training",
        "BASE_URL": "http://localhost",
        "MAIL_TRANSPORT": "file",
        "MAIL_FROM": "training@partnership.example.org",
        "MAIL_DIR": str(tmp_path / "mail"),
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 587,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # Tests that need an authenticator app switch it on; the rest sign in with a password.
        "REQUIRE_MFA_FOR": frozenset(),
        "PROXY_HOPS": 0,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "ORGANISATION_EMAIL": "training@partnership.example.org",
        "ORGANISATION_ADDRESS": "",
        "DATA_PROTECTION_OFFICER_EMAIL": "training@partnership.example.org",
    }
