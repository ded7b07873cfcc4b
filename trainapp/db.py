"""Declarative base, column types and engine settings shared by every model."""

import enum
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import DeclarativeBase

_log = logging.getLogger("trainapp.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # SQLAlchemy hints any FromClause; every model here is mapped to a plain Table.
        __table__: ClassVar[sa.Table]


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores aware datetimes as UTC and gives them back aware; refuses naive ones."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} refused: attach a time zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_type(enum_class: type[enum.Enum]) -> sa.Enum:
    """A portable enum column stored as its string value, checked by a constraint."""
    return sa.Enum(
        enum_class,
        name=enum_class.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


ANALYSIS_LIMIT = 1000


def refresh_planner_statistics(session) -> bool:
    """Bring the query planner's statistics up to date; True if this database needed it.

    SQLite keeps statistics only when asked (report pages slow to a crawl without them);
    PostgreSQL's autovacuum keeps its own, so there is nothing to do there.
    """
    if session.get_bind().dialect.name != "sqlite":
        return False
    session.execute(sa.text(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"))
    session.execute(sa.text("ANALYZE"))
    return True


def rows_changed(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through the session changed.

    Session.execute is hinted as giving a plain Result for every statement; for an UPDATE or a
    DELETE it is a CursorResult, which holds the count.
    """
    return cast(sa.CursorResult[Any], result).rowcount


def configure_engine(engine: sa.Engine) -> None:
    """Give SQLite the settings that make it safe under concurrent writers."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Keep the planner's statistics fresh without anyone running ANALYZE by hand: a bounded
        # ANALYZE reads at most this many rows per index, and SQLite 3.46+ re-analyses, on
        # opening, any table that has grown or shrunk a lot (older versions ignore the mask).
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("PRAGMA optimize=0x10002")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write transaction must hold the write lock from its first read, or two
        # writers can both read "one place left" and both book it. Reads of a GET
        # never write, so they may share the database.
        if has_request_context() and request.method in {"GET", "HEAD", "OPTIONS"} and not _view_writes():
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def rollback_quietly(session, failure: str = "Could not roll back the database session") -> bool:
    """Roll back, logging instead of raising if the database cannot be reached; False then.

    A rollback that fails has still closed the session's transaction and handed its
    connection back to the pool, which discards a connection it cannot reset (and one that
    was cut is already marked invalid), so the session and the pool are ready for the next
    request whatever happened here.
    """
    try:
        session.rollback()
    except sa.exc.SQLAlchemyError:
        _log.warning("%s; its connection is discarded", failure, exc_info=True)
        return False
    return True


def end_request_session(scoped_session) -> None:
    """End the request's session even when its connection has died.

    Flask-SQLAlchemy's own clean-up rolls back in the app context's teardown, after the
    response is made: an error there escapes every error handler and the server answers
    with its bare page. Rolling back quietly first leaves that clean-up nothing to fail on.
    """
    if scoped_session.registry.has():
        rollback_quietly(scoped_session(), "Could not end the request's database session cleanly")
        scoped_session.remove()


def writes_on_get(view):
    """Mark a GET view that may write (say, a first-time link), so SQLite takes the write lock first."""
    view.writes_on_get = True
    return view


def _view_writes() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_on_get", False))
