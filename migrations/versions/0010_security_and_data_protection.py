"""security and data protection

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-15 10:00:00.000000

Each part below is one capability's schema; upgrade and downgrade run them in order.

- users.totp_secret, totp_last_step, totp_failures, totp_failed_at, mfa_enrolled_at: an
  authenticator app (TOTP) as a second factor, the last code's time step (no code twice) and
  wrong codes in a row (slowing guessing).
- recovery_codes: single-use codes for a lost authenticator app, stored as hashes.

- audit_events.client_address: the address a change came from (after PROXY_HOPS); empty for
  jobs and commands.
- PostgreSQL only: trigger audit_events_append_only (function audit_events_refuse_change)
  refuses UPDATE and DELETE on audit_events.
- users.anonymised_at: when a person's retention period ended and their details were replaced.
"""

import sqlalchemy as sa
from alembic import op

import trainapp.db

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    _second_factor_upgrade()
    _audit_upgrade()
    _retention_upgrade()


def downgrade():
    _retention_downgrade()
    _audit_downgrade()
    _second_factor_downgrade()


# --- second factor and sign-in sessions ---


def _second_factor_upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("totp_failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("totp_failed_at", trainapp.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("mfa_enrolled_at", trainapp.db.UTCDateTime(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", trainapp.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_hash", name=op.f("uq_recovery_codes_user_id_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)


def _second_factor_downgrade():
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("mfa_enrolled_at")
        batch_op.drop_column("totp_failed_at")
        batch_op.drop_column("totp_failures")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")


# --- audit trail: client address, viewer, append-only on PostgreSQL ---


REFUSE_AUDIT_CHANGES = """
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql
"""


def _audit_upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_AUDIT_CHANGES)
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()"
        )


def _audit_downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_refuse_change()")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("client_address")


# --- retention and anonymisation ---


def _retention_upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", trainapp.db.UTCDateTime(), nullable=True))


def _retention_downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
