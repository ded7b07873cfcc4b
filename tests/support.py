"""What a request or a job left behind: the SQL statements it ran and the emails it queued."""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

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


def outbox(db, recipient: str | None = None) -> list[OutboxMessage]:
    """Emails queued, oldest first: all of them, or those to one address."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(query))


def outbox_subjects(db, recipient: str) -> list[str]:
    """The subjects of the emails queued to one address, oldest first."""
    return [message.subject for message in outbox(db, recipient)]
