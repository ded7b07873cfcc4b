"""people at scale: staff imports and access needs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-29 10:00:00.000000

Each part below is one capability's schema; upgrade and downgrade run them in order.
"""

import sqlalchemy as sa
from alembic import op

import trainapp.db

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    _imports_upgrade()
    _access_needs_upgrade()


def downgrade():
    _access_needs_downgrade()
    _imports_downgrade()


# --- staff and leavers lists from a spreadsheet ---


def _imports_upgrade():
    op.create_table(
        "staff_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("staff", "leavers", name="importkind", native_enum=False, create_constraint=True, length=7),
            nullable=False,
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("created_at", trainapp.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", trainapp.db.UTCDateTime(), nullable=False),
        sa.Column("applied_at", trainapp.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_imports") as batch_op:
        batch_op.create_index("ix_staff_imports_uploaded_by_id", ["uploaded_by_id"])
        batch_op.create_index("ix_staff_imports_agency_id", ["agency_id"])
        batch_op.create_index("ix_staff_imports_expires_at", ["expires_at"])


def _imports_downgrade():
    op.drop_table("staff_imports")


# --- access needs at booking ---


def _access_needs_upgrade():
    op.create_table(
        "booking_access_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("needs", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("requested_at", trainapp.db.UTCDateTime(), nullable=False),
        sa.Column("arranged_at", trainapp.db.UTCDateTime(), nullable=True),
        sa.Column("arranged_by_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", trainapp.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["arranged_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("booking_id"),
    )
    with op.batch_alter_table("booking_access_needs") as batch_op:
        batch_op.create_index("ix_booking_access_needs_arranged_by_id", ["arranged_by_id"])
    op.create_table(
        "saved_access_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("needs", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("updated_at", trainapp.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )


def _access_needs_downgrade():
    op.drop_table("saved_access_needs")
    op.drop_table("booking_access_needs")
