"""How many of an agency's staff need each course: the target coverage is measured against."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainapp.accounts.models import Agency
from trainapp.catalogue.models import Course
from trainapp.db import UTCDateTime, utcnow
from trainapp.extensions import Model


class CoverageTarget(Model):
    __tablename__ = "coverage_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    staff_needed: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    agency: Mapped[Agency] = relationship()
    course: Mapped[Course] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("agency_id", "course_id"),
        sa.CheckConstraint("staff_needed >= 0", name="needed_not_negative"),
    )
