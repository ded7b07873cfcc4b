"""A database connection lost while a page is made: the service's own page, then pages as usual.

The app is served by a real server in a thread, so a failure that escapes Flask (an error
page that itself needs the database, a clean-up after the response is made) shows as the
server's bare page, as it would behind gunicorn. PostgreSQL connections are cut as an
operator or a fail-over cuts them, with pg_terminate_backend; SQLite connections are closed
under the app's feet.
"""

import os
import re
import threading
from dataclasses import dataclass
from html import unescape

import pytest
import requests
import sqlalchemy as sa
from flask import g, has_request_context, request, request_finished
from werkzeug.serving import make_server

from tests.concurrency.harness import create_postgres_schema, drop_postgres_schema, postgres_url
from tests.conftest import _worker
from tests.factories import make_user
from tests.support import empty_every_table
from trainapp import create_app
from trainapp.accounts.models import Role
from trainapp.config import test_config as app_config
from trainapp.extensions import db

ORGANISATION = "Test Partnership"
SORRY = "Sorry, there is a problem with the service"
PASSWORD = "a-long-enough-password-for-tests"
TIMEOUT = 30
# Enough requests to take every connection the pool could be holding back out of it.
REQUESTS_AFTER_THE_OUTAGE = 8


@dataclass
class _Plan:
    path: str
    at_statement: int | None = None
    for_rest_of_request: bool = False
    after_view: bool = False
    break_rollback: bool = False
    claimed: bool = False


class DatabaseFaults:
    """Faults armed by a test for the next request to one path, injected in the app's driver calls."""

    def __init__(self, app, backend: str, admin_url: str | None, application_name: str | None):
        self.backend = backend
        self.admin_url = admin_url
        self.application_name = application_name
        self.cuts = 0
        self.failed_rollbacks = 0
        self._plan: _Plan | None = None
        self._raw_connections: list = []
        with app.app_context():
            self.engine = db.engine
        dialect = self.engine.dialect
        self._do_execute = dialect.do_execute
        self._do_execute_no_params = dialect.do_execute_no_params
        self._do_rollback = dialect.do_rollback
        dialect.do_execute = self._execute
        dialect.do_execute_no_params = self._execute_no_params
        dialect.do_rollback = self._rollback
        sa.event.listen(self.engine.pool, "connect", self._remember_connection)
        # Start from an empty pool, so every connection the app uses is one we can cut.
        self.engine.dispose()
        request_finished.connect(self._after_view, app)

    # --- arming ---------------------------------------------------------------------

    def cut_connections_at_statement(self, path: str, number: int, *, for_rest_of_request=False):
        """Cut every connection just before the request's n-th statement (and each later one)."""
        self._arm(_Plan(path, at_statement=number, for_rest_of_request=for_rest_of_request))

    def cut_connections_after_view(self, path: str):
        """Cut every connection once the view's response is made, before the clean-up."""
        self._arm(_Plan(path, after_view=True))

    def fail_statement_and_rollback(self, path: str, number: int):
        """The n-th statement fails (say, a full disk), and so does rolling it back."""
        self._arm(_Plan(path, at_statement=number, break_rollback=True))

    def _arm(self, plan: _Plan):
        self.cuts = self.failed_rollbacks = 0
        self._plan = plan

    # --- the driver calls -------------------------------------------------------------

    def _execute(self, cursor, statement, parameters, context=None):
        self._before_statement()
        return self._do_execute(cursor, statement, parameters, context)

    def _execute_no_params(self, cursor, statement, context=None):
        self._before_statement()
        return self._do_execute_no_params(cursor, statement, context)

    def _rollback(self, dbapi_connection):
        if self._armed_here() and self._plan.break_rollback and "outage_statement_failed" in g:
            self.failed_rollbacks += 1
            raise self._driver_error("could not write to file: No space left on device")
        return self._do_rollback(dbapi_connection)

    def _before_statement(self):
        if not self._armed_here() or self._plan.at_statement is None:
            return
        self._claim()
        g.outage_statements = g.get("outage_statements", 0) + 1
        if g.outage_statements < self._plan.at_statement:
            return
        if self._plan.break_rollback:
            if "outage_statement_failed" not in g:
                g.outage_statement_failed = True
                raise self._driver_error("could not extend file: No space left on device")
            return
        if g.outage_statements == self._plan.at_statement or self._plan.for_rest_of_request:
            self._cut()

    def _after_view(self, sender, response, **extra):
        if self._armed_here() and self._plan.after_view:
            self._claim()
            self._cut()

    def _armed_here(self) -> bool:
        plan = self._plan
        if plan is None or not has_request_context() or request.path != plan.path:
            return False
        # Once one request has met the fault, later requests (the recovery) go untouched.
        return "outage_request" in g if plan.claimed else True

    def _claim(self):
        self._plan.claimed = True
        g.outage_request = True

    def disarm(self):
        self._plan = None

    # --- cutting ----------------------------------------------------------------------

    def _cut(self):
        self.cuts += 1
        if self.backend == "postgresql":
            self._terminate_backends()
        else:
            for raw in self._raw_connections:
                raw.close()

    def _terminate_backends(self):
        admin = sa.create_engine(self.admin_url, poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            terminated = connection.scalars(
                sa.text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.application_name},
            ).all()
        admin.dispose()
        assert terminated and all(terminated), "no connection of the app's was terminated"

    def _remember_connection(self, dbapi_connection, _record):
        self._raw_connections.append(dbapi_connection)

    def _driver_error(self, message: str) -> Exception:
        return self.engine.dialect.loaded_dbapi.OperationalError(message)


@dataclass
class Served:
    app: object
    base_url: str
    faults: DatabaseFaults

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def served(backend, tmp_path_factory):
    """The app on its own database, behind a real server on a free port."""
    tmp = tmp_path_factory.mktemp(f"outage-{backend}")
    schema = admin_url = application_name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'outage.db'}"
    else:
        schema = f"trainapp_outage_{_worker()}"
        application_name = schema
        base_url = os.environ["TEST_DATABASE_URL"]
        # The name picks out this app's connections, and only them, for pg_terminate_backend.
        named = f"{base_url}{'&' if '?' in base_url else '?'}application_name={application_name}"
        url = postgres_url(named, schema)
        admin_url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", os.environ["TEST_DATABASE_URL"])
        create_postgres_schema(url, schema)
    app = create_app(app_config(url, tmp))
    with app.app_context():
        db.create_all()
    faults = DatabaseFaults(app, backend, admin_url, application_name)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="outage-server", daemon=True)
    thread.start()
    try:
        yield Served(app, f"http://127.0.0.1:{server.server_port}", faults)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.drop_all()
            db.engine.dispose()
        if schema is not None:
            drop_postgres_schema(url, schema)


@pytest.fixture
def coordinator(served):
    """A browser signed in as a coordinator, whose home page reads the database twice."""
    with served.app.app_context():
        make_user(Role.COORDINATOR, name="Cora Ordinator", email="cora@example.org", password=PASSWORD)
        db.session.commit()
    browser = requests.Session()
    form = browser.get(served.url("/sign-in"), timeout=TIMEOUT)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    signed_in = browser.post(
        served.url("/sign-in"),
        data={"csrf_token": token, "email": "cora@example.org", "password": PASSWORD},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert signed_in.status_code == 302
    yield browser
    served.faults.disarm()
    browser.close()
    with served.app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            empty_every_table(connection, db.metadata)


def _assert_service_error_page(response):
    page = unescape(response.text)
    assert response.status_code in (500, 503), page
    assert f'<h1 class="govuk-heading-l">{SORRY}</h1>' in page, page
    assert "Try again later" in page
    assert ORGANISATION in page
    assert re.search(rf"<title>{re.escape(SORRY)} – Partnership training – {ORGANISATION}</title>", page)
    assert 'href="/">Go to the home page' in page


def _assert_pages_work_again(served, browser):
    for _ in range(REQUESTS_AFTER_THE_OUTAGE):
        response = browser.get(served.url("/"), timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        assert "Hello, Cora Ordinator" in unescape(response.text)
    assert browser.get(served.url("/healthz"), timeout=TIMEOUT).status_code == 200


def test_a_connection_cut_mid_request_shows_the_service_page_then_pages_work(served, coordinator, caplog):
    served.faults.cut_connections_at_statement("/", 2)

    response = coordinator.get(served.url("/"), timeout=TIMEOUT)

    assert served.faults.cuts == 1
    _assert_service_error_page(response)
    assert response.status_code == 503
    assert "Database unavailable on GET /" in caplog.text
    _assert_pages_work_again(served, coordinator)


def test_a_database_lost_for_the_rest_of_the_request_still_gets_the_service_page(served, coordinator):
    # Every statement after the first finds its connection cut, including any the error page
    # itself would need: the page must be made without the database.
    served.faults.cut_connections_at_statement("/", 2, for_rest_of_request=True)

    response = coordinator.get(served.url("/"), timeout=TIMEOUT)

    assert served.faults.cuts >= 1
    _assert_service_error_page(response)
    assert response.status_code == 503
    served.faults.disarm()
    _assert_pages_work_again(served, coordinator)


def test_a_connection_cut_before_the_clean_up_still_delivers_the_page_made(served, coordinator, caplog):
    # The view has read what it needed and made its page; only the rollback that ends the
    # request meets the dead connection. The page is right, so it is the answer.
    served.faults.cut_connections_after_view("/")

    response = coordinator.get(served.url("/"), timeout=TIMEOUT)

    assert served.faults.cuts == 1
    assert response.status_code == 200, response.text
    assert "Hello, Cora Ordinator" in unescape(response.text)
    assert "Could not end the request's database session cleanly" in caplog.text
    _assert_pages_work_again(served, coordinator)


def test_a_failed_statement_whose_rollback_fails_too_shows_the_service_page(served, coordinator):
    served.faults.fail_statement_and_rollback("/", 2)

    response = coordinator.get(served.url("/"), timeout=TIMEOUT)

    assert served.faults.failed_rollbacks >= 1
    _assert_service_error_page(response)
    assert response.status_code == 503
    served.faults.disarm()
    _assert_pages_work_again(served, coordinator)


def test_a_missing_page_while_the_database_fails_is_still_explained_in_the_service_style(served, coordinator):
    # The page needs nothing from the database, but its menu would: it goes without the menu.
    served.faults.cut_connections_at_statement("/no-such-page", 1, for_rest_of_request=True)

    response = coordinator.get(served.url("/no-such-page"), timeout=TIMEOUT)

    assert served.faults.cuts >= 1
    page = unescape(response.text)
    assert response.status_code == 404, page
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in page
    assert ORGANISATION in page
    served.faults.disarm()
    _assert_pages_work_again(served, coordinator)
