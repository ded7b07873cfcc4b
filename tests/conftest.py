"""Fixtures: an app per database backend, a clean database per test, signed-in clients.

Every test that uses ``app`` runs on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL is set (otherwise the PostgreSQL runs are skipped, with the reason).
"""

import logging
import os
import re

import pytest
import sqlalchemy as sa

from tests.support import SecurityLog, empty_every_table
from trainapp import create_app
from trainapp.config import test_config
from trainapp.extensions import db as _db
from trainapp.security_log import LOGGER_NAME

BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    # The process id keeps two test runs on one PostgreSQL server out of each other's way.
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getppid() if 'PYTEST_XDIST_WORKER' in os.environ else os.getpid()}"


def postgres_url_for_worker(schema: str) -> str | None:
    """The PostgreSQL URL from TEST_DATABASE_URL, confined to one schema."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _prepare_postgres_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url.split("?options=")[0].split("&options=")[0])
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _drop_postgres_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url.split("?options=")[0].split("&options=")[0])
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"app-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'test.db'}"
    else:
        schema = f"trainapp_test_{_worker()}"
        url = postgres_url_for_worker(schema)
        _prepare_postgres_schema(url, schema)
    application = create_app(test_config(url, tmp))
    with application.app_context():
        _db.create_all()
    yield application
    with application.app_context():
        _db.drop_all()
        _db.engine.dispose()
    if backend == "postgresql":
        _drop_postgres_schema(url, schema)


@pytest.fixture
def db(app):
    """The database, emptied after each test."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        with _db.engine.begin() as connection:
            empty_every_table(connection, _db.metadata)


@pytest.fixture
def client(app, db):
    """A browser whose every request runs in its own app context, as in production."""
    from tests.factories import fresh_client

    return fresh_client(app)


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def mail_dir(app):
    from pathlib import Path

    path = Path(app.config["MAIL_DIR"])
    if path.exists():
        for eml in path.glob("*.eml"):
            eml.unlink()
    return path


@pytest.fixture
def security_log():
    """The security log's lines written during the test, down to DEBUG whatever the app's level."""
    logger = logging.getLogger(LOGGER_NAME)
    handler, level = SecurityLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
