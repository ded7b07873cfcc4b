"""Demo data: a believable partnership, loaded idempotently by ``flask demo-data``."""

import sqlalchemy as sa

from trainapp.accounts.models import User
from trainapp.demo import accounts, attendance, bookings, catalogue, funding
from trainapp.extensions import db

DEMO_PASSWORD = accounts.DEMO_PASSWORD

TRAINERS = {
    "okafor": "trainer.okafor@council.example.org",
    "marsh": "trainer.marsh@safeharbour.example.org",
    "lloyd": "trainer.lloyd@nhs.example.net",
    "rahman": "trainer.rahman@brightfutures.example.org",
}


def _user(email: str) -> User:
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


def load_demo_data() -> tuple[list[tuple[str, str]], str]:
    """Create whatever part of the demo is missing; returns (role, email) logins and the password."""
    logins = accounts.load()
    coordinator = _user(accounts.NAMED_PEOPLE[0][1])
    catalogue.load(coordinator, {key: _user(email) for key, email in TRAINERS.items()})
    if bookings.load_past():
        attendance.load()
        bookings.load_upcoming(coordinator)
    funding.load(coordinator)
    return logins, DEMO_PASSWORD
