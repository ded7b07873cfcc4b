"""The security log: one JSON line per event an information-security team reviews, with who,
from where and on which page, and never a password, a token or a secret link."""

import json
import logging
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.attendance.test_routes import ATTENDED, booked, past_session
from tests.factories import PASSWORD, fresh_client, make_agency, make_course, make_user, sign_in
from tests.pages import signed_in, submit
from tests.support import outbox, registration_link
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.calendars.links import token_for
from trainapp.config import ConfigError, from_environment
from trainapp.security_log import LOGGER_NAME, configure, event_line, security_event

NEW_PASSWORD = "lantern orchard velvet compass"
FORGED = 'Ann\n{"event":"sign_in.succeeded","user_id":1}\r\u2028"}'


@pytest.fixture
def security_lines(caplog):
    """Every security-log line written during the test, parsed (and checked to be one line each)."""
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)

    def lines(event: str | None = None) -> list[dict]:
        texts = [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]
        assert all("\n" not in t and "\r" not in t and t.isascii() for t in texts)
        parsed = [json.loads(t) for t in texts]
        return [p for p in parsed if event is None or p["event"] == event]

    return lines


@pytest.fixture
def browser(app, db):
    def at(address="192.0.2.10"):
        client = fresh_client(app)
        client.environ_base["REMOTE_ADDR"] = address
        return client

    return at


def _audit_rows(db, action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- lines cannot be forged ------------------------------------------------------------------


def test_text_a_user_typed_stays_inside_its_own_line(app, security_lines):
    with app.test_request_context("/sign-in", method="POST"):
        security_event("sign_in.failed", email=FORGED, name=FORGED)
    [line] = security_lines()
    assert line["email"] == FORGED and line["name"] == FORGED
    assert line["event"] == "sign_in.failed"
    assert len(event_line("x.y", name=FORGED).splitlines()) == 1


def test_fields_named_for_secrets_are_withheld(app, security_lines):
    security_event("probe.secrets", password="hunter2", token="abc", reset_link="http://x/y", recovery_codes=["a"])
    [line] = security_lines()
    assert line["password"] == line["token"] == line["reset_link"] == line["recovery_codes"] == "[withheld]"
    assert "hunter2" not in json.dumps(line)


def test_an_email_with_json_in_it_cannot_add_a_line_through_the_sign_in_page(db, browser, security_lines):
    email = 'x"},{"event":"sign_in.succeeded"}@example.org'
    submit(browser(), "/sign-in", {"email": email, "password": "whatever it is"})
    [line] = security_lines()
    assert (line["event"], line["email"]) == ("sign_in.failed", email)


# --- signing in ------------------------------------------------------------------------------


def test_signing_in_and_failing_are_logged_with_who_and_where(db, browser, security_lines):
    user = make_user()
    client = browser("192.0.2.44")
    submit(client, "/sign-in", {"email": user.email, "password": "not the password at all"})
    submit(client, "/sign-in", {"email": "nobody@example.org", "password": "not the password at all"})
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})

    failed = security_lines("sign_in.failed")
    assert [(f["user_id"], f["reason"]) for f in failed] == [(user.id, "wrong_password"), (None, "unknown_email")]
    [succeeded] = security_lines("sign_in.succeeded")
    assert succeeded["user_id"] == user.id
    for line in failed + [succeeded]:
        assert line["client_address"] == "192.0.2.44"
        assert (line["method"], line["route"]) == ("POST", "/sign-in")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["at"])


def test_being_slowed_and_a_lockout_are_logged(app, db, browser, security_lines):
    user = make_user()
    for n in range(app.config["LOGIN_LOCK_ADDRESSES"]):
        for _ in range(app.config["LOGIN_LOCK_FAILURES"] // app.config["LOGIN_LOCK_ADDRESSES"]):
            submit(browser(f"192.0.2.{n + 1}"), "/sign-in", {"email": user.email, "password": "wrong guess"})
    submit(browser("192.0.2.1"), "/sign-in", {"email": user.email, "password": PASSWORD})

    [locked] = security_lines("account.locked")
    assert (locked["user_id"], locked["email"]) == (user.id, user.email)
    [throttled] = security_lines("sign_in.throttled")
    assert (throttled["user_id"], throttled["reason"]) == (user.id, "account_locked")


# --- refusals --------------------------------------------------------------------------------


def test_a_refused_page_is_logged_with_who_asked_for_what(db, browser, security_lines):
    staff = make_user(Role.STAFF)
    client = signed_in(browser(), staff)
    assert client.get(f"/users/{staff.id}").status_code == 403
    [line] = security_lines("access.forbidden")
    assert (line["actor_id"], line["route"], line["ids"], line["method"]) == (
        staff.id,
        "/users/<int:user_id>",
        {"user_id": staff.id},
        "GET",
    )


def test_a_form_sent_without_its_csrf_token_is_logged(db, browser, security_lines):
    response = browser().post("/sign-in", data={"email": "a@example.org", "password": "whatever"})
    assert response.status_code == 400
    [line] = security_lines("csrf.failed")
    assert line["route"] == "/sign-in"
    assert "reason" in line


# --- passwords, roles, deactivation ----------------------------------------------------------


def test_password_changes_and_resets_are_logged(db, browser, security_lines):
    user = make_user()
    client = signed_in(browser(), user)
    submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    other = browser()
    submit(other, "/password/forgot", {"email": user.email})
    link = re.search(r"http://localhost(/password/reset/\S+)", outbox(db, user.email)[-1].body).group(1)
    submit(other, link, {"password": PASSWORD + " again", "confirm": PASSWORD + " again"})

    assert [line["user_id"] for line in security_lines("password.changed")] == [user.id]
    assert [line["user_id"] for line in security_lines("password.reset_requested")] == [user.id]
    [reset] = security_lines("password.reset")
    assert reset["user_id"] == user.id and reset["route"] == "/password/reset/<token>"


def test_a_role_change_and_a_deactivation_are_logged_and_audited(db, browser, security_lines):
    coordinator = make_user(Role.COORDINATOR)
    person = make_user(Role.STAFF, name=FORGED.replace("\u2028", ""))
    client = signed_in(browser(), coordinator)
    submit(
        client,
        f"/users/{person.id}/edit",
        {"name": "Pat Person", "job_title": "", "role": "trainer", "agency": "0"},
    )
    submit(client, f"/users/{person.id}/deactivate", {}, form_page=f"/users/{person.id}")

    [changed] = security_lines("user.role_changed")
    assert (changed["user_id"], changed["from_role"], changed["to_role"]) == (person.id, "staff", "trainer")
    assert changed["actor_id"] == coordinator.id
    [deactivated] = security_lines("user.deactivated")
    assert (deactivated["user_id"], deactivated["actor_id"]) == (person.id, coordinator.id)
    [audited] = _audit_rows(db, "user.updated")
    assert (audited.before["role"], audited.after["role"]) == ("staff", "trainer")


# --- exports and feed links ------------------------------------------------------------------


def test_every_download_of_data_is_logged_and_audited_with_its_filter(db, browser, security_lines):
    police = make_agency("Northshire Police", domains=["police.example.org"])
    coordinator = make_user(Role.COORDINATOR)
    learner = make_user(agency=police, name="Ana Ahmed")
    booking = booked(past_session(make_course(title="Risk Assessment"), 2), learner, attendance=ATTENDED)
    db.session.commit()
    client = signed_in(browser(), coordinator)

    downloads = {
        "board report": "/reports/board.csv?table=agencies&start=1&start=1&start=2030&end=31&end=3&end=2030",
        "training coverage": f"/reports/coverage.csv?agency={police.id}",
        "charges statement": f"/charges/statement.csv?agency={police.id}&month=2030-03",
    }
    rows_sent = []
    for path in downloads.values():
        response = client.get(path)
        assert response.status_code == 200, path
        rows_sent.append(len(response.get_data(as_text=True).splitlines()) - 1)
    own = signed_in(browser(), learner)
    submit(own, f"/bookings/{booking.id}/certificate/issue", {}, form_page="/my-training")
    assert own.get(f"/bookings/{booking.id}/certificate.pdf").status_code == 200

    lines = security_lines("export.downloaded")
    assert [line["what"] for line in lines] == [*downloads, "certificate"]
    board, coverage, statement, certificate = lines
    assert board["filters"] == {
        "table": "agencies",
        "start": "2030-01-01",
        "end": "2030-03-31",
        "programme_id": None,
        "agency_id": None,
    }
    assert board["actor_id"] == coordinator.id
    assert coverage["filters"] == {"agency_id": police.id}
    assert statement["filters"] == {"agency_id": police.id, "month": "2030-03"}
    assert (certificate["actor_id"], certificate["ids"]) == (learner.id, {"booking_id": booking.id})
    assert [board["rows"], coverage["rows"], statement["rows"]] == rows_sent

    audited = _audit_rows(db, "export.downloaded")
    assert [(row.actor_id, row.after["what"]) for row in audited] == [
        (coordinator.id, "board report"),
        (coordinator.id, "training coverage"),
        (coordinator.id, "charges statement"),
        (learner.id, "certificate"),
    ]
    assert audited[1].after["filters"] == {"agency_id": police.id}


def test_a_new_calendar_link_is_logged(db, browser, security_lines):
    user = make_user()
    client = signed_in(browser(), user)
    submit(client, "/calendar/new-link", {}, form_page="/calendar")
    [line] = security_lines("calendar.link_renewed")
    assert line["user_id"] == user.id


# --- nothing secret, anywhere in the logs ----------------------------------------------------


def test_no_password_token_or_secret_link_is_ever_logged(app, db, browser, caplog, security_lines):
    caplog.set_level(logging.DEBUG)
    make_agency("Northshire Police", domains=["police.example.org"])
    coordinator = make_user(Role.COORDINATOR, password=PASSWORD)
    client = browser()

    # Register through the emailed link, sign out, fail and succeed at signing in.
    submit(client, "/register", {"email": "new.person@police.example.org"})
    register_link = registration_link(db, "new.person@police.example.org")
    client.get(register_link)
    submit(
        client,
        "/register/details",
        {"name": "New Person", "job_title": "PC", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    submit(client, "/sign-out", {}, form_page="/account")
    submit(client, "/sign-in", {"email": "new.person@police.example.org", "password": "Wrong " + NEW_PASSWORD})
    submit(client, "/sign-in", {"email": "new.person@police.example.org", "password": NEW_PASSWORD})

    # Reset a forgotten password, use the old link again.
    submit(browser(), "/password/forgot", {"email": coordinator.email})
    reset_link = re.search(r"http://localhost(/password/reset/\S+)", outbox(db, coordinator.email)[-1].body).group(1)
    submit(browser(), reset_link, {"password": PASSWORD + " renewed", "confirm": PASSWORD + " renewed"})
    browser().get(reset_link)

    # Open the calendar page, use the feed, rotate the link, use the dead one, then export.
    signed = browser()
    assert sign_in(signed, coordinator, password=PASSWORD + " renewed").location == "/"
    old_token = token_for(coordinator)
    db.session.commit()
    signed.get("/calendar")
    browser().get(f"/calendars/{old_token}/personal.ics")
    submit(signed, "/calendar/new-link", {}, form_page="/calendar")
    new_token = token_for(coordinator)
    browser().get(f"/calendars/{old_token}/personal.ics")
    browser().get(f"/calendars/{new_token}/personal.ics")
    signed.get("/reports/board.csv?table=summary&start=1&start=1&start=2030&end=31&end=3&end=2030")

    everything = "\n".join(
        [record.getMessage() for record in caplog.records]
        + [str(record.args) for record in caplog.records if record.args]
        + [caplog.text]
    )
    assert security_lines("sign_in.succeeded") and security_lines("export.downloaded")
    secrets = {
        "password": NEW_PASSWORD,
        "reset password": PASSWORD + " renewed",
        "old password": PASSWORD,
        "registration link": register_link.rsplit("/", 1)[1],
        "reset link": reset_link.rsplit("/", 1)[1],
        "old feed token": old_token,
        "new feed token": new_token,
    }
    leaked = [name for name, secret in secrets.items() if secret in everything]
    assert leaked == []


# --- the level -------------------------------------------------------------------------------


def test_the_level_comes_from_the_environment_and_a_wrong_one_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("TRAINAPP_ENV", "development")
    monkeypatch.setenv("SECURITY_LOG_LEVEL", "warning")
    assert from_environment(tmp_path)["SECURITY_LOG_LEVEL"] == "WARNING"
    monkeypatch.setenv("SECURITY_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="^SECURITY_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, not 'LOUD'"):
        from_environment(tmp_path)


def test_at_warning_only_failures_and_refusals_are_written(caplog):
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    quiet = Flask("quiet")
    quiet.config["SECURITY_LOG_LEVEL"] = "WARNING"
    logger.addHandler(caplog.handler)
    try:
        configure(quiet)
        configure(quiet)
        security_event("sign_in.succeeded", user_id=1)
        security_event("sign_in.failed", logging.WARNING, user_id=1)
        written = [json.loads(r.getMessage())["event"] for r in caplog.records if r.name == LOGGER_NAME]
        handlers = [h for h in logger.handlers if type(h).__name__ == "_JsonLineHandler"]
    finally:
        logger.setLevel(level)
        logger.removeHandler(caplog.handler)
    assert written == ["sign_in.failed"]
    assert len(handlers) == 1, "configuring twice must not write every line twice"
