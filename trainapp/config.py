"""Settings read from the environment, once, when the app is created."""

import os
import secrets
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """The environment does not describe a service that can start safely."""


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


def _outbox_settings() -> dict:
    """How long mail is retried and kept: whole numbers above zero, defaults in DefaultConfig."""
    settings = {}
    for name, unit in OUTBOX_SETTINGS.items():
        raw = os.environ.get(name, "").strip()
        if not raw:
            settings[name] = getattr(DefaultConfig, name)
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"{name} must be a whole number of {unit} above zero, not {raw!r}.")
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


def from_environment(instance_path: Path) -> dict:
    """Build the configuration mapping for ``create_app``."""
    env = os.environ.get("TRAINAPP_ENV", "production").strip().lower()
    if env not in {"development", "production"}:
        raise ConfigError(f"TRAINAPP_ENV must be 'development' or 'production', not {env!r}.")
    development = env == "development"

    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key:
        if not development:
            raise ConfigError(
                "SECRET_KEY is not set: set it to a long random string "
                "(or TRAINAPP_ENV=development on a developer's machine)."
            )
        secret_key = _development_secret(instance_path)

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

    secure_cookies = _flag("SECURE_COOKIES", not development)
    return {
        "ENV_NAME": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TIMEZONE": timezone,
        "ORGANISATION_NAME": os.environ.get("ORGANISATION_NAME", "Community Safety Partnership"),
        "SERVICE_NAME": os.environ.get("SERVICE_NAME", "Partnership training"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_TRANSPORT": os.environ.get("MAIL_TRANSPORT", "file"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "training@localhost"),
        "MAIL_DIR": os.environ.get("MAIL_DIR", str(instance_path / "mail")),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", True),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0")),
        **_outbox_settings(),
        **_organisation_settings(),
    }


class DefaultConfig:
    """Values that hold everywhere unless the environment or a test says otherwise."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 512 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 12
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hashing method, not a password
    PASSWORD_RESET_MAX_AGE = 60 * 60
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    # A message is retried, waiting at most OUTBOX_RETRY_CEILING_MINUTES between attempts, for
    # OUTBOX_RETRY_FOR_HOURS before it is marked failed (a mail server down over a weekend).
    OUTBOX_RETRY_FOR_HOURS = 72
    OUTBOX_RETRY_CEILING_MINUTES = 30
    # Then bodies and attachments are removed; the rows stay for support.
    OUTBOX_KEEP_SENT_DAYS = 30
    OUTBOX_KEEP_FAILED_DAYS = 30
    PAGE_SIZE = 25
    # When the service was last checked against WCAG 2.2 AA, for the accessibility statement.
    ACCESSIBILITY_TESTED_ON = date(2026, 12, 1)


def test_config(database_url: str, tmp_path: Path) -> dict:
    """Settings for the test suite: fast hashing, a throwaway mail folder."""
    return {
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
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
        "PROXY_HOPS": 0,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "ORGANISATION_EMAIL": "training@partnership.example.org",
        "ORGANISATION_ADDRESS": "",
        "DATA_PROTECTION_OFFICER_EMAIL": "training@partnership.example.org",
    }
