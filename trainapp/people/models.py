import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.accounts.models import Agency, User
from trainapp.db import UTCDateTime, enum_type, utcnow
from trainapp.extensions import Model


class ImportKind(enum.StrEnum):
    STAFF = "staff"
    LEAVERS = "leavers"


class StaffImport(Model):
    """An uploaded staff or leavers list, checked and waiting to be confirmed.

    The preview lives here rather than in the session cookie (a 10,000-row plan would not fit),
    belongs to the person who uploaded it, and expires; applying it stamps applied_at once.
    """

    __tablename__ = "staff_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The agency the rows belong to when the file does not say (an agency lead's own).
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind))
    filename: Mapped[str] = mapped_column(sa.String(255))
    # The checked rows and their outcome, as the preview shows them.
    plan: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User] = relationship()
    agency: Mapped[Agency | None] = relationship()
