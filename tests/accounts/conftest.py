"""The clock the second-factor and session-lifetime tests move."""

import pytest

from tests.accounts.signing_in import start_clock


@pytest.fixture
def clock(monkeypatch):
    """Now, for the second-factor and session-lifetime rules; test_lockout.py has its own."""
    return start_clock(monkeypatch)
