"""A clock the tests can move, and SMTP servers that answer, misbehave or are not there."""

from datetime import timedelta

import pytest

from tests.notifications.smtp_server import MailServer, free_port
from tests.support import Clock
from trainapp.db import utcnow
from trainapp.notifications import services


@pytest.fixture
def clock(monkeypatch):
    # A whole second ahead, so rows stamped by the real clock a moment earlier are already due.
    fake = Clock((utcnow() + timedelta(seconds=1)).replace(microsecond=0))
    monkeypatch.setattr(services, "utcnow", fake)
    return fake


def _use_smtp(app, monkeypatch, port: int) -> None:
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)


@pytest.fixture
def smtp(app, monkeypatch):
    """A running SMTP server the app sends to; ``smtp.plan(...)`` makes it misbehave."""
    server = MailServer()
    _use_smtp(app, monkeypatch, server.port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_later(app, monkeypatch):
    """The app sends to a port where no server listens until the test calls ``start()``."""
    server = MailServer()
    _use_smtp(app, monkeypatch, server.port)
    yield server
    server.stop()


@pytest.fixture
def mail_server_down(app, monkeypatch):
    """SMTP pointed at a local port where nothing listens: every send is refused."""
    _use_smtp(app, monkeypatch, free_port())
