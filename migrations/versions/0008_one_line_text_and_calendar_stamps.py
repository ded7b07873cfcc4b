"""one-line text, calendar stamps and per-person invitation sequence

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:30:00.000000

- courses.updated_at, venues.updated_at: feeds' Last-Modified moves when either is edited.
- bookings.invitation_sequence: the SEQUENCE of the last invitation or cancellation emailed
  to the person, so the next one is higher.
- One-line text stored before line breaks and control characters were refused is made one
  line (each run of them becomes a space). Not undone on downgrade: the old text is not kept.
"""
import re
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import trainapp.db

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# (table, column, unique): the one-line columns that forms now check.
ONE_LINE_COLUMNS = [
    ('users', 'name', False),
    ('users', 'job_title', False),
    ('access_requests', 'name', False),
    ('access_requests', 'job_title', False),
    ('access_requests', 'organisation', False),
    ('agencies', 'name', True),
    ('programmes', 'name', True),
    ('venues', 'name', True),
    ('courses', 'title', True),
    ('grants', 'name', True),
    ('grants', 'funder', False),
    ('grants', 'reference', False),
    ('cost_lines', 'supplier', False),
    ('cost_lines', 'reference', False),
]

# The same characters trainapp.text refuses, written out here so this migration keeps doing
# what it did when it was written.
_SEPARATORS_AND_BIDI = '\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069'


def _refused(character):
    return unicodedata.category(character) == 'Cc' or character in _SEPARATORS_AND_BIDI


def _one_line(text):
    cleaned = ''.join(' ' if _refused(c) else c for c in text)
    return re.sub(r' {2,}', ' ', cleaned).strip()


def _clean_column(connection, table_name, column_name, unique):
    table = sa.table(table_name, sa.column('id', sa.Integer), sa.column(column_name, sa.String))
    column = table.c[column_name]
    rows = connection.execute(sa.select(table.c.id, column)).all()
    taken = {value for _, value in rows if value is not None}
    for row_id, value in rows:
        if value is None or not any(_refused(c) for c in value):
            continue
        cleaned = _one_line(value) or f'Unnamed {row_id}'
        if unique and cleaned in taken:
            # "A\nB" and "A B" may both exist: keep both, told apart by the row's id.
            cleaned = f'{cleaned} ({row_id})'
        taken.discard(value)
        taken.add(cleaned)
        connection.execute(sa.update(table).where(table.c.id == row_id).values({column_name: cleaned}))


def _add_stamp(table_name):
    # SQLite cannot add a NOT NULL column without a constant default, and rebuilding these
    # tables (batch mode) with foreign keys on would touch every row that refers to them.
    # So: a constant default for existing rows, filled from the row where possible, and
    # dropped where the database can drop it (the models never rely on it).
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    op.add_column(table_name, sa.Column('updated_at', trainapp.db.UTCDateTime(), nullable=False,
                                        server_default=sa.text(f"'{now.isoformat(sep=' ')}'")))
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column(table_name, 'updated_at', server_default=None)


def upgrade():
    _add_stamp('courses')
    op.execute('UPDATE courses SET updated_at = created_at')
    _add_stamp('venues')
    op.add_column('bookings', sa.Column('invitation_sequence', sa.Integer(), nullable=True))
    # Invitations already sent carried the session's counter: the next one must be higher.
    op.execute(
        'UPDATE bookings SET invitation_sequence = '
        '(SELECT training_sessions.sequence FROM training_sessions WHERE training_sessions.id = bookings.session_id)'
    )
    connection = op.get_bind()
    for table_name, column_name, unique in ONE_LINE_COLUMNS:
        _clean_column(connection, table_name, column_name, unique)


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 on): no table rebuild.
    op.drop_column('bookings', 'invitation_sequence')
    op.drop_column('venues', 'updated_at')
    op.drop_column('courses', 'updated_at')
