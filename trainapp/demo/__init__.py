"""Demo data: a believable partnership, loaded idempotently by ``flask demo-data``."""

from trainapp.demo import accounts

DEMO_PASSWORD = accounts.DEMO_PASSWORD


def load_demo_data() -> tuple[list[tuple[str, str]], str]:
    """Create whatever part of the demo is missing; returns (role, email) logins and the password."""
    logins = accounts.load()
    return logins, DEMO_PASSWORD
