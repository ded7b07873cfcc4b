"""outbox: retry period, dropped messages, leases and purging

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00.000000

- outbox_messages.kind: the template's name, kept for support after the body is removed.
- outbox_messages.queued_at: when the message was (re-)queued; the retry period counts from
  it. Existing rows take their created_at.
- outbox_messages.claimed_until: a sender's lease, apart from next_attempt_at, so making
  waiting messages due now cannot hand a message being sent to a second sender.
- outbox_messages.useless_after, dropped_at, reason: a message that could only go out too
  late is dropped, with the reason.
- outbox_messages.failed_at, purged_at: when it failed, and when its body was removed.
  Existing failed rows take their last next_attempt_at (their last attempt's lease).
- The status may now be 'dropped' (the CHECK constraint is rebuilt).
- ix_outbox_messages_sent (status, sent_at): the outbox page and the purge look rows up by it.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import trainapp.db

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

STATUS_CHECK = 'ck_outbox_messages_outboxstatus'
NEW_STATUSES = ('pending', 'sent', 'failed', 'dropped')
OLD_STATUSES = ('pending', 'sent', 'failed')


def _status_in(statuses):
    return 'status IN (' + ', '.join(f"'{status}'" for status in statuses) + ')'


def upgrade():
    # SQLite cannot add a NOT NULL column without a constant default: one for the moment,
    # filled from the row, and removed when the table is rebuilt below.
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    op.add_column('outbox_messages', sa.Column('kind', sa.String(length=60), nullable=True))
    op.add_column('outbox_messages', sa.Column('queued_at', trainapp.db.UTCDateTime(), nullable=False,
                                               server_default=sa.text(f"'{now.isoformat(sep=' ')}'")))
    for name in ('claimed_until', 'useless_after', 'failed_at', 'dropped_at', 'purged_at'):
        op.add_column('outbox_messages', sa.Column(name, trainapp.db.UTCDateTime(), nullable=True))
    op.add_column('outbox_messages', sa.Column('reason', sa.String(length=200), nullable=True))
    op.execute('UPDATE outbox_messages SET queued_at = created_at')
    op.execute("UPDATE outbox_messages SET failed_at = next_attempt_at WHERE status = 'failed'")

    # SQLite changes a CHECK constraint by rebuilding the table; nothing refers to this one.
    with op.batch_alter_table('outbox_messages', recreate='auto') as batch_op:
        batch_op.alter_column('queued_at', existing_type=trainapp.db.UTCDateTime(), server_default=None)
        batch_op.drop_constraint(batch_op.f(STATUS_CHECK), type_='check')
        batch_op.create_check_constraint(batch_op.f(STATUS_CHECK), _status_in(NEW_STATUSES))
        batch_op.create_index('ix_outbox_messages_sent', ['status', 'sent_at'], unique=False)


def downgrade():
    # Dropped messages were never sent: the closest old status is failed.
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'dropped'")
    with op.batch_alter_table('outbox_messages', recreate='auto') as batch_op:
        batch_op.drop_index('ix_outbox_messages_sent')
        batch_op.drop_constraint(batch_op.f(STATUS_CHECK), type_='check')
        batch_op.create_check_constraint(batch_op.f(STATUS_CHECK), _status_in(OLD_STATUSES))
        for name in ('reason', 'purged_at', 'dropped_at', 'failed_at', 'useless_after', 'claimed_until',
                     'queued_at', 'kind'):
            batch_op.drop_column(name)
