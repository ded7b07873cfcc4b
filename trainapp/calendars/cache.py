"""Built feed bytes kept in the database, keyed by feed and validator.

Kept in a table rather than in memory or on one host's disk, so every worker and every host
serves what any of them built. Written on a connection of its own, after the feed was read:
a poll's read transaction never turns into a write, and if the write waits too long (SQLite
under a burst of writers) the feed is still served, only built again next time.
"""

import logging

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trainapp.calendars.models import CachedFeed
from trainapp.db import utcnow
from trainapp.extensions import db

_log = logging.getLogger(__name__)
_table = CachedFeed.__table__


def read(key: str, validator: str) -> bytes | None:
    """The bytes built for this validator, or None if the row is missing or older."""
    return db.session.scalar(
        sa.select(CachedFeed.body).where(CachedFeed.feed_key == key, CachedFeed.validator == validator)
    )


def store(key: str, validator: str, body: bytes, *, user_id: int | None = None) -> None:
    """Keep ``body`` as the feed's one row, replacing what was built for an older validator."""
    values = {"feed_key": key, "user_id": user_id, "validator": validator, "body": body, "built_at": utcnow()}
    try:
        with db.engine.begin() as connection:
            insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(_table)
            connection.execute(
                insert.values(values).on_conflict_do_update(
                    index_elements=[_table.c.feed_key],
                    set_={name: value for name, value in values.items() if name != "feed_key"},
                )
            )
    except sa.exc.OperationalError:
        _log.warning("Could not keep the built feed %s; it will be built again", key.split(":")[0], exc_info=True)
