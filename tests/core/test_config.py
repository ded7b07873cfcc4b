"""Settings from the environment: refused clearly when unsafe, and SQLite set up for safety."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from trainapp import PROJECT_ROOT, config, create_app
from trainapp.accounts.models import Role, User
from trainapp.config import TEST_SECRET_KEY, ConfigError, from_environment
from trainapp.extensions import db as _db

SETTINGS = ["TRAINAPP_ENV", "SECRET_KEY", "TIMEZONE", "DATABASE_URL", "SECURE_COOKIES", "BASE_URL", "TRUSTED_HOSTS"]


@pytest.fixture
def environment(monkeypatch):
    """A clean environment for the settings under test; set what a case needs."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)

    def setenv(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return setenv


def _refusal(tmp_path) -> str:
    with pytest.raises(ConfigError) as refused:
        from_environment(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_production_without_a_secret_key_is_refused_with_the_reason(environment, tmp_path):
    environment(TRAINAPP_ENV="production")
    assert _refusal(tmp_path).startswith("SECRET_KEY is not set")
    assert not (tmp_path / "secret_key").exists()


def test_the_default_environment_is_production(environment, tmp_path):
    assert _refusal(tmp_path).startswith("SECRET_KEY is not set")


def test_create_app_refuses_to_start_without_a_secret_key(environment):
    environment(TRAINAPP_ENV="production")
    with pytest.raises(ConfigError, match="^SECRET_KEY is not set"):
        create_app()


def _run(command: list[str], **settings: str) -> subprocess.CompletedProcess:
    """A command run from the project folder as an operator would, with these settings only."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(TRAINAPP_ENV="production", **settings)
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


BIN = Path(sys.executable).parent
WEAK_KEYS = ["", "dev", "changeme", "secret", "s3cr3t-but-only-31-characters-x", TEST_SECRET_KEY]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_importing_wsgi_with_a_missing_or_weak_secret_key_fails_with_one_line(key):
    line = _one_line(_run([sys.executable, "-c", "import wsgi"], SECRET_KEY=key))
    assert line.startswith("SECRET_KEY is ")


@pytest.mark.parametrize("key", ["", "changeme"])
def test_gunicorn_refuses_to_start_with_a_missing_or_weak_secret_key_in_one_line(key, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        SECRET_KEY=key,
        DATABASE_URL=f"sqlite:///{tmp_path / 'untouched.db'}",
    )
    assert "SECRET_KEY" in _one_line(result)


@pytest.mark.parametrize("key", ["", "dev"])
def test_flask_commands_refuse_to_run_with_a_missing_or_weak_secret_key_in_one_line(key, tmp_path):
    for command in (["routes"], ["db", "current"]):
        result = _run(
            [str(BIN / "flask"), "--app", "trainapp", *command],
            SECRET_KEY=key,
            DATABASE_URL=f"sqlite:///{tmp_path / 'untouched.db'}",
        )
        assert "SECRET_KEY" in _one_line(result)
    assert not (tmp_path / "untouched.db").exists()


@pytest.mark.parametrize("key", WEAK_KEYS[1:])
def test_production_with_a_weak_secret_key_is_refused_with_the_reason(environment, tmp_path, key):
    environment(TRAINAPP_ENV="production", SECRET_KEY=key)
    assert _refusal(tmp_path).startswith("SECRET_KEY is too weak")


def test_development_accepts_any_secret_key(environment, tmp_path):
    environment(TRAINAPP_ENV="development", SECRET_KEY="dev")
    assert from_environment(tmp_path)["SECRET_KEY"] == "dev"


def test_only_the_host_of_base_url_is_trusted_by_default(environment, tmp_path):
    environment(SECRET_KEY="s" * 48, BASE_URL="https://training.example.org/")
    assert from_environment(tmp_path)["TRUSTED_HOSTS"] == ["training.example.org"]


def test_trusted_hosts_can_be_listed(environment, tmp_path):
    environment(SECRET_KEY="s" * 48, TRUSTED_HOSTS=" training.example.org, .partnership.example.org ,")
    assert from_environment(tmp_path)["TRUSTED_HOSTS"] == ["training.example.org", ".partnership.example.org"]


def test_development_also_trusts_this_machines_own_names(environment, tmp_path):
    environment(TRAINAPP_ENV="development")
    assert set(from_environment(tmp_path)["TRUSTED_HOSTS"]) == {"127.0.0.1", "localhost"}


def test_a_request_for_another_host_is_refused(client):
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    refused = client.get("/", headers={"Host": "evil.example.com"})
    assert refused.status_code == 400
    assert "There is a problem with your request" in refused.get_data(as_text=True)


def test_development_without_a_secret_key_keeps_one_key_across_restarts(environment, tmp_path):
    environment(TRAINAPP_ENV="development")
    first = from_environment(tmp_path)
    second = from_environment(tmp_path)

    assert len(first["SECRET_KEY"]) >= 32
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first["SESSION_COOKIE_SECURE"] is False


def test_production_with_a_secret_key_starts_with_secure_cookies(environment, tmp_path):
    environment(TRAINAPP_ENV="production", SECRET_KEY="s" * 48)
    settings = from_environment(tmp_path)
    assert settings["SECRET_KEY"] == "s" * 48
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["TIMEZONE"] == "Europe/London"


@pytest.mark.parametrize("timezone", ["Europe/Lundon", "BST", "Europe", "../../etc/passwd", ""])
def test_a_timezone_that_does_not_exist_is_refused(environment, tmp_path, timezone):
    environment(TRAINAPP_ENV="development", SECRET_KEY="s" * 48, TIMEZONE=timezone)
    assert _refusal(tmp_path) == f"TIMEZONE {timezone!r} is not a known time zone."


def test_an_unknown_environment_name_is_refused(environment, tmp_path):
    environment(TRAINAPP_ENV="staging", SECRET_KEY="s" * 48)
    assert "TRAINAPP_ENV must be 'development' or 'production'" in _refusal(tmp_path)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_hosting_providers_postgres_url_uses_the_installed_driver(environment, tmp_path, scheme):
    environment(SECRET_KEY="s" * 48, DATABASE_URL=f"{scheme}://app:pw@db.internal/trainapp")
    settings = from_environment(tmp_path)
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app:pw@db.internal/trainapp"


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app(config.test_config(f"sqlite:///{tmp_path / 'pragmas.db'}", tmp_path))
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(sqlite_app):
    with _db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_refuses_a_person_in_an_agency_that_does_not_exist(sqlite_app):
    _db.session.add(User(email="a@example.org", name="A", role=Role.STAFF, agency_id=999, password_hash="x"))
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        _db.session.commit()
    _db.session.rollback()
    assert _db.session.scalar(sa.select(sa.func.count(User.id))) == 0
