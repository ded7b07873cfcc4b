"""Small builders for test data; each flushes, so ids exist, and leaves committing to the test."""

import itertools

from bs4 import BeautifulSoup, SoupStrainer

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
    # Only the token's <input> is built into a tree: sign-in and every form post come through here.
    only_the_token = SoupStrainer("input", attrs={"name": "csrf_token"})
    field = BeautifulSoup(response.get_data(as_text=True), "html.parser", parse_only=only_the_token).input
    assert field is not None and field.get("value"), "page has no CSRF token"
    return field["value"]


def queue_plain_email(recipient="zoe.adams@council.example.org", name="Zoë Adams", **kw):
    """Queue the 'access request refused' email, which needs no other rows; returns it (or None)."""
    from types import SimpleNamespace

    from trainapp.notifications.services import queue_email

    access_request = SimpleNamespace(name=name, decision_reason="Please use your work address.")
    return queue_email(recipient, "access_rejected", access_request=access_request, **kw)


def make_programme(name=None):
    from trainapp.catalogue.models import Programme

    programme = Programme(name=name or f"Programme {next(_counter)}", description="")
    db.session.add(programme)
    db.session.flush()
    return programme


def make_course(programme=None, status="published", **kw):
    from trainapp.catalogue.models import Course, CourseStatus

    fields = dict(
        title=f"Course {next(_counter)}",
        level=None,
        summary="About it",
        audience="",
        duration_minutes=120,
        cpd_hours=2,
        refresher_months=None,
        prerequisite=None,
        eligible_kinds=[],
        requires_approval=False,
        default_capacity=10,
        cancellation_notice_days=5,
    )
    fields.update(kw)
    course = Course(programme=programme or make_programme(), status=CourseStatus(status), **fields)
    db.session.add(course)
    db.session.flush()
    return course


def make_venue(name=None):
    from trainapp.catalogue.models import Venue

    venue = Venue(name=name or f"Venue {next(_counter)}", address="1 High Street")
    db.session.add(venue)
    db.session.flush()
    return venue


def make_session(course=None, starts_at=None, hours=2, capacity=10, trainers=None, venue=None, **kw):
    """A scheduled in-person session, by default a week from now."""
    from datetime import timedelta

    from trainapp.catalogue.models import DeliveryMode, TrainingSession
    from trainapp.db import utcnow

    starts_at = starts_at or (utcnow() + timedelta(days=7)).replace(microsecond=0)
    session = TrainingSession(
        course=course or make_course(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        delivery_mode=kw.pop("delivery_mode", DeliveryMode.IN_PERSON),
        venue=venue if venue is not None else make_venue(),
        capacity=capacity,
        trainers=trainers if trainers is not None else [make_user(Role.TRAINER)],
        **kw,
    )
    db.session.add(session)
    db.session.flush()
    return session


def migrate_database(command="upgrade", **kw):
    """Run a Flask-Migrate command in-process, leaving the test process's logging as it was.

    migrations/env.py applies alembic.ini's logging config, which disables every logger that
    already exists and adds a stderr handler; caplog in later tests on this worker would miss
    the app's log records.
    """
    import logging

    import flask_migrate

    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.handlers[:], lg.propagate, lg.disabled) for lg in loggers]
    try:
        getattr(flask_migrate, command)(**kw)
    finally:
        for logger, level, handlers, propagate, disabled in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled = propagate, disabled


# --- Route-test helpers -------------------------------------------------------------

from flask.testing import FlaskClient  # noqa: E402


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own application context, as in production.

    The ``db`` fixture keeps one app context open for the whole test, and Flask reuses
    an open context for requests, so ``g`` (Flask-Login's signed-in user, the CSRF
    token, the CSP nonce) and the database session would leak from one request, or
    one client, into the next. Test data is committed first, so the request sees it.
    """

    def open(self, *args, **kwargs):
        from flask import has_app_context

        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def fresh_client(app) -> FreshContextClient:
    """A new browser: its own cookies, and its own context for every request."""
    return FreshContextClient(app, app.response_class, use_cookies=True)


def make_access_request(email=None, name=None, organisation="A Small Charity", password=PASSWORD, **kw):
    """A pending request for an account from someone outside every agency's domains."""
    from trainapp.accounts.models import AccessRequest

    n = next(_counter)
    access_request = AccessRequest(
        email=(email or f"asker{n}@charity{n}.example.org").lower(),
        name=name or f"Asker {n}",
        job_title=kw.pop("job_title", "Volunteer"),
        organisation=organisation,
        password_hash=hash_password(password),
        **kw,
    )
    db.session.add(access_request)
    db.session.flush()
    return access_request
