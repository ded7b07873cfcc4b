"""What a request or a job left behind (the SQL statements it ran, the emails it queued, the
security log's lines), and a clock the tests move."""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa

from trainapp.audit import AuditEvent
from trainapp.notifications.models import OutboxMessage


@contextmanager
def counting_queries(engine) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order (yielded list fills as it runs)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def empty_every_table(connection, metadata: sa.MetaData) -> None:
    """Delete every row, children first, leaving the schema for the next test.

    On PostgreSQL a trigger refuses DELETE on the audit trail (it is append-only), so that one
    table is truncated, which row triggers do not see."""
    for table in reversed(metadata.sorted_tables):
        if table.name == AuditEvent.__tablename__ and connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"TRUNCATE {table.name}"))
        else:
            connection.execute(table.delete())


def outbox(db, recipient: str | None = None) -> list[OutboxMessage]:
    """Emails queued, oldest first: all of them, or those to one address."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(query))


def outbox_subjects(db, recipient: str) -> list[str]:
    """The subjects of the emails queued to one address, oldest first."""
    return [message.subject for message in outbox(db, recipient)]


def registration_link(db, email: str) -> str:
    """The path of the newest link to go on registering, emailed to this address."""
    [link] = re.findall(r"http://localhost(/register/continue/\S+)", outbox(db, email)[-1].body)
    return link


class Clock:
    """Stands in for "now" in the modules a test patches, so hours pass in a moment."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class SecurityLog(logging.Handler):
    """Collects the security log's lines: ``lines`` as written, ``events()`` parsed."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]

    def named(self, event: str) -> list[dict]:
        return [entry for entry in self.events() if entry["event"] == event]
