"""The board report counts places booked with access needs asked for, and those arranged: in the
summary, per agency, and in their CSV files; an agency lead sees their own agency's."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_agency, make_course, make_session, make_user
from tests.pages import signed_in, table
from trainapp.accounts.models import Role
from trainapp.bookings.models import AccessNeed, AttendanceStatus, Booking, BookingAccessNeeds, BookingStatus
from trainapp.catalogue.models import SessionStatus

NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
MAY = "start=1&start=5&start=2025&end=31&end=5&end=2025"
REQUESTED = "Access needs requested (places booked with adjustments asked for)"


@pytest.fixture
def w(db, monkeypatch):
    monkeypatch.setattr("trainapp.reports.routes.utcnow", lambda: NOW)
    w = type("World", (), {})()
    w.police, w.council = make_agency("Wessex Police"), make_agency("Downs Council")
    w.coordinator = make_user(Role.COORDINATOR)
    w.police_lead = make_user(Role.AGENCY_LEAD, agency=w.police)
    ran = make_session(make_course(), datetime(2025, 5, 14, 9, tzinfo=UTC), status=SessionStatus.DELIVERED)
    cancelled = make_session(make_course(), datetime(2025, 5, 20, 9, tzinfo=UTC), status=SessionStatus.CANCELLED)
    june = make_session(make_course(), datetime(2025, 6, 2, 9, tzinfo=UTC), status=SessionStatus.DELIVERED)

    def book(session, agency, needs=None, arranged=False, status=BookingStatus.CONFIRMED, erased=False):
        booking = Booking(
            session=session,
            user=make_user(agency=agency),
            agency_id=agency.id,
            status=status,
            attendance=AttendanceStatus.ATTENDED if status == BookingStatus.CONFIRMED else None,
        )
        db.session.add(booking)
        if needs is not None:
            asked = BookingAccessNeeds(booking=booking, details="Details" if needs and not erased else "")
            asked.needs = [] if erased else needs
            asked.arranged_at = NOW - timedelta(days=60) if arranged else None
            asked.erased_at = NOW if erased else None
            db.session.add(asked)

    book(ran, w.police, [AccessNeed.STEP_FREE], arranged=True)
    book(ran, w.police, [AccessNeed.HEARING_LOOP])
    # Erased after the retention period: still counted, as asked and arranged.
    book(ran, w.council, [AccessNeed.OTHER], arranged=True, erased=True)
    book(ran, w.council)
    # An empty row (nothing asked for), a cancelled place, a session called off, another month: none counts.
    book(ran, w.council, [])
    book(ran, w.police, [AccessNeed.DIETARY], status=BookingStatus.CANCELLED)
    book(cancelled, w.police, [AccessNeed.DIETARY], arranged=True)
    book(june, w.police, [AccessNeed.DIETARY], arranged=True)
    db.session.commit()
    return w


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def test_the_summary_and_each_agency_count_needs_asked_for_and_arranged(client, w):
    coordinator = signed_in(client, w.coordinator)

    page = coordinator.get(f"/reports/board?{MAY}")

    summary = dict(row for row in table(page, "Summary"))
    assert (summary[REQUESTED], summary["Access needs arranged"]) == ("3", "2")
    assert table(page, "Attendance by agency") == [
        [
            "Agency",
            "Booked",
            "Attended",
            "Show rate (attended ÷ booked)",
            "No-shows",
            "Access needs requested",
            "Access needs arranged",
        ],
        ["Downs Council", "3", "3", "100%", "0", "1", "1"],
        ["Wessex Police", "2", "2", "100%", "0", "2", "1"],
    ]
    csv_summary = dict(read_csv(coordinator.get(f"/reports/board.csv?table=summary&{MAY}"))[1:])
    assert (csv_summary[REQUESTED], csv_summary["Access needs arranged"]) == ("3", "2")
    agencies = read_csv(coordinator.get(f"/reports/board.csv?table=agencies&{MAY}"))
    assert [row[0:1] + row[-2:] for row in agencies] == [
        ["Agency", "Access needs requested", "Access needs arranged"],
        ["Downs Council", "1", "1"],
        ["Wessex Police", "2", "1"],
    ]


def test_an_agency_lead_sees_their_own_agencys_needs_figures(client, w):
    lead = signed_in(client, w.police_lead)

    summary = dict(read_csv(lead.get(f"/reports/board.csv?table=summary&{MAY}"))[1:])

    assert (summary[REQUESTED], summary["Access needs arranged"]) == ("2", "1")
