"""A live server on a migrated SQLite database, and the system Chromium driven by Playwright.

Without /usr/bin/chromium (or the playwright package) the browser tests are skipped with
the reason printed; with TRAINAPP_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

import os
import threading
from pathlib import Path

import pytest
from flask import got_request_exception
from werkzeug.serving import make_server

from tests.factories import migrate_database
from trainapp import create_app
from trainapp.config import test_config
from trainapp.extensions import db as _db

CHROMIUM = Path("/usr/bin/chromium")
# Checked on the development machines; `playwright install` is never needed (or possible).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a missing element fails quickly.
TIMEOUT_MS = 10_000


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("TRAINAPP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (TRAINAPP_REQUIRE_BROWSER=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a fresh SQLite file whose schema comes from the Alembic migrations."""
    tmp = tmp_path_factory.mktemp("e2e")
    app = create_app(test_config(f"sqlite:///{tmp / 'e2e.db'}", tmp))
    with app.app_context():
        # The real upgrade path, not create_all: a broken migration fails the browser tests.
        migrate_database("upgrade")
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(scope="session")
def server_errors(live_app):
    """Exceptions raised while serving; a page test fails if any appear."""
    errors: list[BaseException] = []

    def _record(sender, exception, **extra):
        errors.append(exception)

    got_request_exception.connect(_record, live_app)
    yield errors
    got_request_exception.disconnect(_record, live_app)


@pytest.fixture(scope="session")
def live_server(live_app, server_errors):
    """The base URL of the app served on 127.0.0.1 on a free port, in a background thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _browser_unavailable(f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable("browser tests need the 'playwright' package: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server, server_errors):
    """Open a page in a fresh browser context (no cookies), optionally at a given size."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []
    errors_before = len(server_errors)

    def _open(width: int = 1024, height: int = 768):
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()
    assert server_errors[errors_before:] == [], "the server raised while serving the pages"


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, email: str, password: str, name: str) -> None:
    """Sign in through the sign-in page and wait for the signed-in home page's greeting."""
    from playwright.sync_api import expect

    page.goto("/sign-in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")
