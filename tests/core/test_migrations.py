"""The Alembic migrations build exactly the schema the models describe, on each database.

Production databases are built by `flask db upgrade`; the other tests use create_all.
If the two drift apart, these tests fail before a deployment does.
"""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import trainapp.models  # noqa: F401  (so the metadata holds every table)
from tests.conftest import BACKENDS, _prepare_postgres_schema, _worker, postgres_url_for_worker
from tests.factories import migrate_database
from trainapp import create_app
from trainapp.config import test_config as config_for_tests
from trainapp.extensions import db as _db


@pytest.fixture(params=BACKENDS)
def migrated(request, tmp_path):
    """An app whose empty database has been upgraded to the newest migration."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        if not os.environ.get("TEST_DATABASE_URL"):
            pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
        schema = f"trainapp_migrations_{_worker()}"
        url = postgres_url_for_worker(schema)
        _prepare_postgres_schema(url, schema)
    app = create_app(config_for_tests(url, tmp_path))
    with app.app_context():
        migrate_database("upgrade")
        yield app
        _db.session.remove()
        _db.engine.dispose()
    if schema is not None:
        engine = sa.create_engine(url.split("?")[0])
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(migrated):
    with _db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), _db.metadata)
    assert differences == [], "the migrations and the models disagree; add a migration"


def test_the_migrated_database_has_the_models_check_constraints(migrated):
    # compare_metadata does not look at CHECK constraints (enum values, capacity >= 0...).
    inspector = sa.inspect(_db.engine)
    for table in _db.metadata.sorted_tables:
        expected = {str(c.name) for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        actual = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert actual == expected, table.name


def test_the_migrations_can_be_undone_and_redone(migrated):
    migrate_database("downgrade", revision="base")
    assert set(sa.inspect(_db.engine).get_table_names()) <= {"alembic_version"}

    migrate_database("upgrade")
    with _db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), _db.metadata) == []


def test_the_migrated_audit_trail_is_append_only_on_postgresql(migrated):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("the database-level guard is a PostgreSQL trigger")
    with _db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_events (occurred_at, action, entity_type) VALUES (now(), 'user.updated', 'users')"
            )
        )
    for statement in ("UPDATE audit_events SET action = 'user.deactivated'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), _db.engine.begin() as connection:
            connection.execute(sa.text(statement))
    with _db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT action FROM audit_events")).scalars().all() == ["user.updated"]


def _indexed_column_lists(table: sa.Table) -> list[tuple[str, ...]]:
    # Primary keys and unique constraints are indexes on both databases too.
    lists = [tuple(column.name for column in index.columns) for index in table.indexes]
    lists += [
        tuple(column.name for column in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, sa.PrimaryKeyConstraint | sa.UniqueConstraint)
    ]
    return lists


def test_every_foreign_key_leads_an_index():
    # Without one, deleting or finding the rows a key points at reads the whole table:
    # on a partnership's 150,000 bookings, a list or a report stalls.
    unindexed = [
        f"{table.name}.{', '.join(key.column_keys)}"
        for table in _db.metadata.sorted_tables
        for key in table.foreign_key_constraints
        if not any(
            columns[: len(key.column_keys)] == tuple(key.column_keys) for columns in _indexed_column_lists(table)
        )
    ]
    assert unindexed == [], "give each of these an index (model and migration)"
