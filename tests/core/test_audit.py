"""The audit trail is append-only, and each row says which address the change came from."""

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD, fresh_client, make_user
from tests.pages import signed_in, submit
from trainapp import audit, create_app
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent, AuditTrailIsAppendOnly
from trainapp.config import test_config as config_for_tests
from trainapp.extensions import db as _db

NEW_PASSWORD = "a-new-and-long-passphrase-2031"


def _change_password(client, person, **headers):
    return submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        headers=headers,
    )


def _password_change_row(db) -> AuditEvent:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.password_changed")).one()


@pytest.fixture
def proxied_app(app, db, tmp_path):
    """The same database behind one proxy (PROXY_HOPS=1), as a deployment behind a load balancer."""
    behind_proxy = create_app(config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) | {"PROXY_HOPS": 1})
    yield behind_proxy
    with behind_proxy.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_an_audit_row_records_the_address_the_change_came_from(client, db):
    person = make_user(Role.STAFF)
    signed_in(client, person)

    assert _change_password(client, person, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 302

    # Without PROXY_HOPS the header is anyone's to write: the connection's own address counts.
    assert _password_change_row(db).client_address == "127.0.0.1"


def test_behind_a_proxy_the_row_records_the_client_the_proxy_names(proxied_app, db):
    person = make_user(Role.STAFF)
    db.session.commit()
    client = fresh_client(proxied_app)
    signed_in(client, person)

    response = _change_password(client, person, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})

    assert response.status_code == 302
    assert _password_change_row(db).client_address == "203.0.113.9"


def test_a_change_made_outside_a_request_records_no_address(db):
    person = make_user(Role.STAFF)
    audit.record(person, "user.password_changed", person)
    db.session.commit()

    assert _password_change_row(db).client_address is None


@pytest.fixture
def recorded(db):
    person = make_user(Role.COORDINATOR)
    audit.record(person, "user.updated", person, before={"name": "Old"}, after={"name": "New"})
    db.session.commit()
    return db.session.scalars(sa.select(AuditEvent)).one()


def test_the_application_cannot_delete_an_audit_row(db, recorded):
    db.session.delete(recorded)
    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()

    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.execute(sa.delete(AuditEvent))
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 1


def test_the_application_cannot_change_an_audit_row(db, recorded):
    recorded.action = "user.deactivated"
    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()

    with pytest.raises(AuditTrailIsAppendOnly):
        db.session.execute(sa.update(AuditEvent).values(reason="tidied up"))
    db.session.rollback()

    db.session.expire_all()
    assert (recorded.action, recorded.reason) == ("user.updated", None)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET action = 'user.deactivated'", "DELETE FROM audit_events"],
    ids=["update", "delete"],
)
def test_postgresql_itself_refuses_to_change_or_delete_audit_rows(backend, db, recorded, statement):
    if backend != "postgresql":
        pytest.skip("the database-level guard is a PostgreSQL trigger")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()

    assert db.session.scalars(sa.select(AuditEvent.action)).all() == ["user.updated"]
