"""Every invitation a person is emailed, read by real calendar programs' parsers: the REQUEST
when booked, the update when the session moves, and the CANCEL from each path (their own
cancellation, a transfer, the session cancelled). For each person and session, SEQUENCE rises
with every message, or programs that compare it ignore the update or the cancellation."""

from collections import defaultdict

import pytest
import sqlalchemy as sa

from tests.notifications.test_well_formed import full_journey
from trainapp.extensions import db as _db
from trainapp.notifications.models import OutboxMessage


@pytest.fixture
def journey(db):
    return full_journey(db)


def test_every_parser_reads_every_invitation_with_a_rising_sequence(parser, journey, tmp_path):
    name, read = parser
    messages = _db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.calendar.is_not(None)).order_by(OutboxMessage.id)
    ).all()
    sent = defaultdict(list)  # (recipient, uid) -> [(method, sequence, subject)]
    for message in messages:
        path = tmp_path / f"{message.id}.ics"
        path.write_text(message.calendar, encoding="utf-8", newline="")
        [event] = read(path)
        if message.calendar_method == "CANCEL":
            assert event["status"] == "CANCELLED", f"{name}: {message.subject}"
        sent[(message.recipient, event["uid"])].append((message.calendar_method, event["sequence"], message.subject))

    paths = {subject.split(":")[0] for history in sent.values() for method, _, subject in history if method == "CANCEL"}
    assert {"Cancelled", "Session cancelled"} <= paths and any(p.startswith("Your place has gone") for p in paths)
    assert any(subject.startswith("Session changed") for history in sent.values() for _, _, subject in history)
    for (recipient, uid), history in sent.items():
        numbers = [sequence for _, sequence, _ in history]
        assert all(isinstance(n, int) for n in numbers), (name, numbers)
        assert numbers == sorted(set(numbers)), f"{name} read {recipient}'s {uid} as {history}"
    learner = journey.learner.email
    assert any(len(history) >= 3 for (recipient, _), history in sent.items() if recipient == learner)
