"""A gunicorn server with 4 workers per database backend, shared by this worker's race tests.

SQLite always; PostgreSQL when TEST_DATABASE_URL is set (in a schema of its own),
otherwise those runs are skipped with the reason. Each test seeds its own session and
people, so the tests share the server but not their data.
"""

import pytest

from tests.concurrency.harness import migrated_server
from tests.conftest import BACKENDS


@pytest.fixture(scope="session", params=BACKENDS)
def booking_server(request, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp(f"concurrency-{request.param}")
    with migrated_server(request.param, work_dir, "trainapp_concurrency") as server:
        server.start()
        yield server


@pytest.fixture
def server(booking_server):
    """The running server, with its log marked so a test reads only what it caused."""
    if not booking_server.is_running():
        pytest.fail(f"the gunicorn server has stopped:\n{booking_server.log()}")
    booking_server.mark_log()
    return booking_server
