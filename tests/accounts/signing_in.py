"""Helpers for the second-factor and session-lifetime tests: a clock the tests move, and setting
up an authenticator app through its page."""

from datetime import UTC, datetime, timedelta

import pyotp

from tests.factories import csrf_token
from tests.pages import parse
from tests.support import Clock
from trainapp.accounts import second_factor, session_lifetime

SET_UP = "/account/authenticator-app"
CODE_PAGE = "/sign-in/security-code"


def start_clock(monkeypatch) -> Clock:
    """A clock one second into a 30-second step, so a few seconds later is still the same step."""
    now = int(datetime.now(UTC).timestamp())
    clock = Clock(datetime.fromtimestamp(now - now % 30 + 1, UTC))
    for module in (second_factor, session_lifetime):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


def code_at(secret: str, clock: Clock, **offset) -> str:
    """What an authenticator app shows at the clock's time (moved by ``offset``)."""
    return pyotp.TOTP(secret).at(clock.now + timedelta(**offset))


def shown_secret(page) -> str:
    """The secret as the set-up page prints it for typing in by hand."""
    element = parse(page).find(id="secret")
    assert element is not None, "no secret on the page"
    return "".join(element.get_text().split())


def set_up_app(client, clock: Clock) -> tuple[str, list[str]]:
    """Set up an authenticator app through the pages; the secret and the recovery codes shown."""
    page = client.get(SET_UP)
    assert page.status_code == 200
    secret = shown_secret(page)
    response = client.post(SET_UP, data={"csrf_token": csrf_token(page), "code": code_at(secret, clock)})
    assert response.status_code == 200, response.status_code
    codes = [item.get_text().strip() for item in parse(response).select("#recovery-codes li")]
    assert codes, "no recovery codes shown"
    return secret, codes


def send_code(client, code: str):
    """Answer the sign-in's second step."""
    page = client.get(CODE_PAGE)
    assert page.status_code == 200, page.status_code
    return client.post(CODE_PAGE, data={"csrf_token": csrf_token(page), "code": code})


def is_signed_in(client) -> bool:
    """Whether the browser is signed in: the account page opens rather than sending it to sign in."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    return False
