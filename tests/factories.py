"""Small builders for test data; each flushes, so ids exist, and leaves committing to the test."""

import itertools

from trainapp.accounts.models import Agency, AgencyDomain, AgencyKind, Role, User
from trainapp.accounts.passwords import hash_password
from trainapp.extensions import db

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def make_agency(name=None, kind=AgencyKind.POLICE, domains=None, is_partner=True, active=True):
    n = next(_counter)
    agency = Agency(
        name=name or f"Agency {n}",
        kind=kind,
        is_partner=is_partner,
        active=active,
        domains=[AgencyDomain(domain=d) for d in (domains if domains is not None else [f"agency{n}.example.org"])],
    )
    db.session.add(agency)
    db.session.flush()
    return agency


def make_user(role=Role.STAFF, agency=None, email=None, name=None, password=PASSWORD, active=True, **kw):
    n = next(_counter)
    if agency is None and role != Role.COORDINATOR:
        agency = make_agency()
    user = User(
        email=(email or f"person{n}@example.org").lower(),
        name=name or f"Person {n}",
        role=role,
        agency=agency,
        password_hash=hash_password(password),
        active=active,
        **kw,
    )
    db.session.add(user)
    db.session.flush()
    return user


def sign_in(client, user, password=PASSWORD, remember=False):
    """Sign in through the real form (CSRF included) and return the response."""
    page = client.get("/sign-in")
    token = csrf_token(page)
    data = {"csrf_token": token, "email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/sign-in", data=data)


def csrf_token(response) -> str:
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    if match is None:
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)
