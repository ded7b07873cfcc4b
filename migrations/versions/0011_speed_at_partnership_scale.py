"""speed at partnership scale

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-22 10:00:00.000000

Each part below is one capability's schema; upgrade and downgrade run them in order.
"""

import sqlalchemy as sa
from alembic import op

import trainapp.db

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    _indexes_upgrade()
    _feeds_upgrade()
    _reports_upgrade()


def downgrade():
    _reports_downgrade()
    _feeds_downgrade()
    _indexes_downgrade()


# --- indexes for lists, feeds and reports ---


# (table, column): each gets "ix_<table>_<column>", as index=True names it in the models.
_INDEXED = [
    # Foreign keys, so deleting or finding the rows a key points at reads no whole table.
    ("access_requests", "decided_by_id"),
    ("access_requests", "user_id"),
    ("agency_reservations", "agency_id"),
    ("agency_reservations", "created_by_id"),
    ("allocations", "programme_id"),
    ("allocations", "course_id"),
    ("bookings", "booked_by_id"),
    ("bookings", "reserved_for_agency_id"),
    ("bookings", "transferred_to_id"),
    ("bookings", "attendance_marked_by_id"),
    ("bookings", "updated_by_id"),
    ("charges", "decided_by_id"),
    ("charges", "credit_grant_id"),
    ("charging_policies", "credit_grant_id"),
    ("cost_lines", "programme_id"),
    ("cost_lines", "created_by_id"),
    ("courses", "prerequisite_id"),
    ("coverage_targets", "course_id"),
    ("coverage_targets", "updated_by_id"),
    ("register_submissions", "submitted_by_id"),
    ("session_series", "created_by_id"),
    ("training_sessions", "updated_by_id"),
    # Columns lists filter or sort by: the session list (upcoming or past), the audit
    # trail's action list and filter, charges by status.
    ("training_sessions", "ends_at"),
    ("audit_events", "action"),
    ("charges", "status"),
]


def _indexes_upgrade():
    """An index on every foreign key, and on the columns lists filter or sort by."""
    for table, column in _INDEXED:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def _indexes_downgrade():
    for table, column in reversed(_INDEXED):
        op.drop_index(f"ix_{table}_{column}", table_name=table)


# --- calendar feeds: validators and cached bytes ---


def _feeds_upgrade():
    """- cached_feeds: each feed's last built bytes under their validator, shared by every worker.
    - ix_training_sessions_updated_at: the trainer feed's latest session change in one index step.
    """
    op.create_table(
        "cached_feeds",
        sa.Column("feed_key", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("validator", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("built_at", trainapp.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cached_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("feed_key", name=op.f("pk_cached_feeds")),
    )
    op.create_index("ix_cached_feeds_user_id", "cached_feeds", ["user_id"], unique=False)
    op.create_index("ix_training_sessions_updated_at", "training_sessions", ["updated_at"], unique=False)


def _feeds_downgrade():
    op.drop_index("ix_training_sessions_updated_at", table_name="training_sessions")
    op.drop_index("ix_cached_feeds_user_id", table_name="cached_feeds")
    op.drop_table("cached_feeds")


# --- reports: summaries kept in step with the changes they count ---


def _reports_upgrade():
    pass


def _reports_downgrade():
    pass
