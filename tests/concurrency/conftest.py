"""A gunicorn server with 4 workers per database backend, shared by this worker's race tests.

SQLite always; PostgreSQL when TEST_DATABASE_URL is set (in a schema of its own),
otherwise those runs are skipped with the reason. Each test seeds its own session and
people, so the tests share the server but not their data.
"""

import os

import pytest

from tests.concurrency.harness import (
    Server,
    create_postgres_schema,
    drop_postgres_schema,
    postgres_url,
    sqlite_url,
)
from tests.conftest import BACKENDS, _worker


@pytest.fixture(scope="session", params=BACKENDS)
def booking_server(request, tmp_path_factory):
    backend = request.param
    if backend == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL concurrency tests need TEST_DATABASE_URL (CI sets it)")
    work_dir = tmp_path_factory.mktemp(f"concurrency-{backend}")
    schema = None
    if backend == "sqlite":
        url = sqlite_url(work_dir)
    else:
        schema = f"trainapp_concurrency_{_worker()}"
        url = postgres_url(os.environ["TEST_DATABASE_URL"], schema)
        create_postgres_schema(url, schema)
    server = Server(url, work_dir)
    try:
        server.migrate()
        server.start()
        yield server
    finally:
        server.stop()
        if schema is not None:
            drop_postgres_schema(url, schema)


@pytest.fixture
def server(booking_server):
    """The running server, with its log marked so a test reads only what it caused."""
    if not booking_server.is_running():
        pytest.fail(f"the gunicorn server has stopped:\n{booking_server.log()}")
    booking_server.mark_log()
    return booking_server
