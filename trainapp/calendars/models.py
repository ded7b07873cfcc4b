"""Each person's secret calendar link."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.accounts.models import User
from trainapp.db import UTCDateTime, utcnow
from trainapp.extensions import Model


class CalendarLink(Model):
    """The link's token is never stored: it is an HMAC of ``nonce`` under the app's secret
    key, so it can be shown again, while the database alone cannot rebuild it. ``token_hash``
    finds the row when a calendar program asks."""

    __tablename__ = "calendar_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class CachedFeed(Model):
    """The bytes last built for one feed, under the validator they were built for.

    Shared by every worker and host, so a feed is built once per change, not once per poll.
    One row per feed, replaced when its validator changes; a person's rows go with them."""

    __tablename__ = "cached_feeds"

    feed_key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    validator: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
