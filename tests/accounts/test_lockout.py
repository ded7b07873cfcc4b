"""Failed sign-ins slow down whoever is guessing, without letting a guesser keep the owner out.

One address guessing one account waits longer after each failure; the owner, elsewhere, is not
slowed. Only many failures from many addresses lock the account, and the owner unlocks it with
a password-reset link.
"""

import re

import pytest

from tests.factories import PASSWORD, fresh_client, make_user
from tests.pages import plain, submit
from tests.support import Clock, outbox, outbox_subjects
from trainapp.accounts import services
from trainapp.db import utcnow

OWNERS_ADDRESS = "198.51.100.7"
NEW_PASSWORD = "lantern orchard velvet compass"
WRONG = "not the password at all"
REFUSED = "Enter a correct email address and password"


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(utcnow().replace(microsecond=0))
    monkeypatch.setattr(services, "utcnow", fake)
    return fake


@pytest.fixture
def from_address(app, db):
    """A browser at a given client address."""

    def browser(address: str):
        client = fresh_client(app)
        client.environ_base["REMOTE_ADDR"] = address
        return client

    return browser


def attempt(client, email: str, password: str) -> str:
    """Try to sign in; what the page says (the home page's greeting when it worked)."""
    response = submit(client, "/sign-in", {"email": email, "password": password})
    if response.status_code == 302:
        return plain(client.get(response.location))
    assert response.status_code == 200
    return plain(response)


def signed_in(page_text: str, name: str) -> bool:
    return f"Hello, {name}" in page_text


def test_each_failure_from_one_address_makes_the_next_wait_longer(db, clock, from_address):
    owner = make_user(name="Olive Owner")
    guesser = from_address("203.0.113.9")
    for _ in range(3):
        assert REFUSED in attempt(guesser, owner.email, WRONG)

    waits = []
    for _ in range(4):
        page = attempt(guesser, owner.email, WRONG)
        waits.append(re.search(r"Wait (\d+ (?:seconds?|minutes?))", page).group(1))
        # Even the right password is not checked while the wait lasts.
        assert not signed_in(attempt(guesser, owner.email, PASSWORD), owner.name)
        clock.advance(minutes=30)
        assert REFUSED in attempt(guesser, owner.email, WRONG)

    assert waits == ["30 seconds", "1 minute", "2 minutes", "4 minutes"]
    clock.advance(minutes=30)
    assert signed_in(attempt(guesser, owner.email, PASSWORD), owner.name)


def test_the_wait_is_over_after_the_time_it_names(db, clock, from_address):
    owner = make_user(name="Olive Owner")
    guesser = from_address("203.0.113.9")
    for _ in range(3):
        attempt(guesser, owner.email, WRONG)
    clock.advance(seconds=29)
    assert "Wait 1 second " in attempt(guesser, owner.email, PASSWORD)
    clock.advance(seconds=1)
    assert signed_in(attempt(guesser, owner.email, PASSWORD), owner.name)


def test_the_owner_signs_in_from_their_own_address_while_a_guesser_is_held_back(db, clock, from_address):
    owner = make_user(name="Olive Owner")
    guesser = from_address("203.0.113.9")
    for _ in range(12):
        attempt(guesser, owner.email, WRONG)
        clock.advance(seconds=20)
    assert "Wait" in attempt(guesser, owner.email, PASSWORD)

    assert signed_in(attempt(from_address(OWNERS_ADDRESS), owner.email, PASSWORD), owner.name)


def _fail_from_many_addresses(from_address, clock, email: str, addresses: int, each: int) -> None:
    for n in range(addresses):
        guesser = from_address(f"203.0.113.{n + 10}")
        for _ in range(each):
            assert REFUSED in attempt(guesser, email, WRONG)
        clock.advance(seconds=1)


def test_many_failures_from_many_addresses_lock_the_account_until_a_password_reset(app, db, clock, from_address):
    owner = make_user(name="Olive Owner")
    failures, addresses = app.config["LOGIN_LOCK_FAILURES"], app.config["LOGIN_LOCK_ADDRESSES"]
    assert failures % addresses == 0 and failures // addresses <= app.config["LOGIN_FREE_FAILURES"]
    _fail_from_many_addresses(from_address, clock, owner.email, addresses, failures // addresses)
    assert outbox_subjects(db, owner.email) == ["Your account has been locked"]

    own_browser = from_address(OWNERS_ADDRESS)
    locked = attempt(own_browser, owner.email, PASSWORD)
    assert not signed_in(locked, owner.name)
    assert "locked after too many failed attempts to sign in" in locked
    assert "reset your password" in locked
    clock.advance(hours=2)
    assert not signed_in(attempt(own_browser, owner.email, PASSWORD), owner.name)

    response = submit(own_browser, "/password/forgot", {"email": owner.email})
    assert response.status_code == 302
    link = re.search(r"http://localhost(/password/reset/\S+)", outbox(db, owner.email)[-1].body).group(1)
    done = submit(own_browser, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    clock.advance(seconds=1)
    assert signed_in(attempt(own_browser, owner.email, NEW_PASSWORD), owner.name)


def test_an_address_without_an_account_locks_the_same_way(app, db, clock, from_address):
    """The lock says nothing about whether an account exists."""
    make_user(email="someone@example.org")
    failures, addresses = app.config["LOGIN_LOCK_FAILURES"], app.config["LOGIN_LOCK_ADDRESSES"]
    for email in ("someone@example.org", "no-one@example.org"):
        _fail_from_many_addresses(from_address, clock, email, addresses, failures // addresses)
    answers = [
        attempt(from_address(OWNERS_ADDRESS), email, WRONG).replace(email, "EMAIL")
        for email in ("someone@example.org", "no-one@example.org")
    ]
    assert "locked after too many failed attempts" in answers[0]
    assert answers[0] == answers[1]


def test_failures_from_one_address_alone_never_lock_the_account(app, db, clock, from_address):
    owner = make_user(name="Olive Owner")
    guesser = from_address("203.0.113.9")
    for _ in range(app.config["LOGIN_LOCK_FAILURES"] * 2):
        attempt(guesser, owner.email, WRONG)
        clock.advance(minutes=16)
    assert signed_in(attempt(from_address(OWNERS_ADDRESS), owner.email, PASSWORD), owner.name)
    assert outbox_subjects(db, owner.email) == []
