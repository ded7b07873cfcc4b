"""The audit trail, visible: the history of a booking, of a register and of a person, for each
role that may see it, through the pages and forms people use.

Every route's access decision for every role is also in tests/core/test_access.py.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.attendance.test_routes import text
from tests.factories import fresh_client, make_agency, make_course, make_session, make_user
from tests.pages import plain, signed_in, submit
from tests.support import counting_queries
from trainapp.accounts.models import AgencyKind, Role
from trainapp.attendance import services
from trainapp.audit import AuditEvent
from trainapp.bookings.models import AttendanceStatus, Booking
from trainapp.db import utcnow
from trainapp.timezones import format_datetime, format_when


def now():
    return utcnow().replace(microsecond=0)


class World:
    """Ana (Wessex Police) books a session next week and cancels; a delivered session 10 days ago
    (its register locked) was marked by the trainer and later corrected by a coordinator."""

    def __init__(self, app, db):
        self.app, self.db = app, db
        self.police = make_agency("Wessex Police", kind=AgencyKind.POLICE)
        self.council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
        self.police_lead = make_user(Role.AGENCY_LEAD, agency=self.police, name="Pat Lead")
        self.council_lead = make_user(Role.AGENCY_LEAD, agency=self.council, name="Cy Lead")
        self.trainer = make_user(Role.TRAINER, agency=self.police, name="Tess Trainer")
        self.other_trainer = make_user(Role.TRAINER, agency=self.police, name="Otto Trainer")
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.ana = make_user(agency=self.police, name="Ana Ahmed")
        self.cat = make_user(agency=self.council, name="Cat Cole")
        course = make_course(title="Safeguarding Adults", cpd_hours=Decimal("2"))
        self.upcoming = make_session(course, trainers=[self.trainer])
        self.delivered = make_session(course, starts_at=now() - timedelta(days=10), hours=2, trainers=[self.trainer])
        self.delivered.places_taken = 2
        self.ana_mark = Booking(session=self.delivered, user=self.ana, agency_id=self.police.id, status="confirmed")
        self.cat_mark = Booking(session=self.delivered, user=self.cat, agency_id=self.council.id, status="confirmed")
        db.session.add_all([self.ana_mark, self.cat_mark])
        db.session.commit()

    def client(self, person):
        return signed_in(fresh_client(self.app), person)

    def ana_books_and_cancels(self):
        ana = self.client(self.ana)
        assert submit(ana, f"/sessions/{self.upcoming.id}/book", {}).status_code == 302
        booking = self.db.session.scalars(sa.select(Booking).where(Booking.session_id == self.upcoming.id)).one()
        cancelled = submit(ana, f"/bookings/{booking.id}/cancel", {"reason": "Clashes with a court date"})
        assert cancelled.status_code == 302
        return booking

    def trainer_marks_on_the_day(self):
        on_the_day = self.delivered.ends_at - timedelta(minutes=5)
        services.mark_register(
            self.delivered.id,
            {
                self.ana_mark.id: services.Mark(AttendanceStatus.ATTENDED),
                self.cat_mark.id: services.Mark(AttendanceStatus.NO_SHOW),
            },
            by=self.trainer,
            now=on_the_day,
        )
        self.db.session.commit()

    def coordinator_corrects(self):
        coordinator = self.client(self.coordinator)
        path = f"/sessions/{self.delivered.id}/register"
        done = submit(
            coordinator,
            path,
            {
                f"mark-{self.ana_mark.id}": "partial",
                f"minutes-{self.ana_mark.id}": "45",
                f"mark-{self.cat_mark.id}": "no_show",
                "reason": "Left at the break, says the sign-out sheet",
                "save": "y",
            },
        )
        assert done.status_code == 302


@pytest.fixture
def w(app, db):
    return World(app, db)


def history_rows(page) -> list[str]:
    """Each row of the history table, as read aloud."""
    table = re.search(r'<table class="govuk-table[^"]*" id="history">.*?</table>', text(page), flags=re.S)
    if table is None:
        return []
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', table.group(0), flags=re.S)[1:]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def event_time(db, action):
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()
    return format_datetime(event.occurred_at)


# --- a booking ---------------------------------------------------------------------------


def test_a_coordinator_reads_a_bookings_history_in_plain_words_and_local_time(db, w):
    booking = w.ana_books_and_cancels()

    page = w.client(w.coordinator).get(f"/bookings/{booking.id}/history")

    assert page.status_code == 200
    assert "History of a booking: Ana Ahmed, Safeguarding Adults" in plain(page)
    assert history_rows(page) == [
        f"{event_time(db, 'booking.cancelled')} Ana Ahmed Booking cancelled Status: Booked → Cancelled "
        "Clashes with a court date",
        f"{event_time(db, 'booking.created')} Ana Ahmed Place booked Status: Booked –",
    ]


def test_an_agency_lead_reads_the_history_of_their_own_staffs_bookings_only(db, w):
    booking = w.ana_books_and_cancels()
    path = f"/bookings/{booking.id}/history"

    assert "Booking cancelled" in plain(w.client(w.police_lead).get(path))
    assert w.client(w.council_lead).get(path).status_code == 404
    assert w.client(w.trainer).get(path).status_code == 403
    assert w.client(w.ana).get(path).status_code == 403


def test_the_bookings_lists_link_to_each_bookings_history(db, w):
    booking = w.ana_books_and_cancels()
    link = f'href="/bookings/{booking.id}/history"'
    assert link in text(w.client(w.coordinator).get(f"/sessions/{w.upcoming.id}/bookings"))
    assert link in text(w.client(w.police_lead).get("/agency/bookings"))


# --- a register ----------------------------------------------------------------------------


def test_the_register_history_shows_each_mark_who_when_old_and_new_and_the_reason(db, w):
    w.trainer_marks_on_the_day()
    w.coordinator_corrects()
    corrected_at, marked_at = (
        format_datetime(e.occurred_at)
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "attendance.marked").order_by(AuditEvent.id.desc())
        ).all()[:3:2]
    )

    page = w.client(w.coordinator).get(f"/sessions/{w.delivered.id}/register/history")

    assert page.status_code == 200
    assert history_rows(page) == [
        f"{corrected_at} Cora Ordinator Attendance marked Ana Ahmed "
        "Attendance: Attended → Partially attended Minutes missed: none → 45 "
        "Left at the break, says the sign-out sheet",
        f"{marked_at} Tess Trainer Attendance marked Cat Cole Attendance: Not marked → No-show –",
        f"{marked_at} Tess Trainer Attendance marked Ana Ahmed Attendance: Not marked → Attended –",
    ]


def test_the_register_history_is_for_coordinators_and_the_sessions_trainers(db, w):
    w.trainer_marks_on_the_day()
    path = f"/sessions/{w.delivered.id}/register/history"
    assert w.client(w.trainer).get(path).status_code == 200
    assert w.client(w.other_trainer).get(path).status_code == 403
    assert w.client(w.police_lead).get(path).status_code == 403
    assert w.client(w.ana).get(path).status_code == 403


def test_a_correction_after_the_register_locked_shows_its_reason_on_the_register(db, w):
    w.trainer_marks_on_the_day()
    w.coordinator_corrects()

    for person in (w.coordinator, w.trainer):
        page = w.client(person).get(f"/sessions/{w.delivered.id}/register")
        shown = plain(page)
        assert "Corrected after the register locked" in shown
        assert (
            "Ana Ahmed: Attendance: Attended → Partially attended, Minutes missed: none → 45. "
            "Reason: Left at the break, says the sign-out sheet"
        ) in shown
        assert "Cora Ordinator" in shown
        assert "Cat Cole: Attendance" not in shown  # the trainer's own marks were on time
        assert f'href="/sessions/{w.delivered.id}/register/history"' in text(page)


def test_a_register_marked_in_time_shows_no_corrections(db, w):
    w.trainer_marks_on_the_day()
    assert "Corrected after the register locked" not in plain(
        w.client(w.trainer).get(f"/sessions/{w.delivered.id}/register")
    )


# --- a person ------------------------------------------------------------------------------


def test_a_coordinator_reads_a_persons_history_account_and_bookings(db, w):
    booking = w.ana_books_and_cancels()
    w.trainer_marks_on_the_day()

    page = w.client(w.coordinator).get(f"/people/{w.ana.id}/history")

    assert page.status_code == 200
    rows = history_rows(page)
    assert [re.sub(r"^.*?(am|pm|midday|midnight) ", "", row) for row in rows] == [
        "Ana Ahmed Booking cancelled Safeguarding Adults, "
        + format_when(booking.session.starts_at, booking.session.ends_at)
        + " Status: Booked → Cancelled Clashes with a court date",
        "Ana Ahmed Place booked Safeguarding Adults, "
        + format_when(booking.session.starts_at, booking.session.ends_at)
        + " Status: Booked –",
        "Tess Trainer Attendance marked Safeguarding Adults, "
        + format_when(w.delivered.starts_at, w.delivered.ends_at)
        + " Attendance: Not marked → Attended –",
    ]
    assert f'href="/people/{w.ana.id}/history"' in text(w.client(w.coordinator).get(f"/users/{w.ana.id}"))


def test_an_agency_lead_reads_their_staffs_booking_history_and_no_one_elses(db, w):
    w.ana_books_and_cancels()
    lead = w.client(w.police_lead)

    page = lead.get(f"/people/{w.ana.id}/history")
    assert page.status_code == 200
    assert len(history_rows(page)) == 2 and "Booking cancelled" in plain(page)
    assert lead.get(f"/people/{w.cat.id}/history").status_code == 403
    assert w.client(w.trainer).get(f"/people/{w.ana.id}/history").status_code == 403
    assert w.client(w.ana).get(f"/people/{w.ana.id}/history").status_code == 403
    assert f'href="/people/{w.ana.id}/history"' in text(lead.get(f"/people/{w.ana.id}/training"))


def test_a_long_history_is_shown_a_page_at_a_time_with_the_same_queries(db, w):
    w.trainer_marks_on_the_day()
    coordinator = w.client(w.coordinator)
    path = f"/people/{w.ana.id}/history"
    with counting_queries(db.engine) as short:
        assert coordinator.get(path).status_code == 200
    for minutes in range(1, 30):
        services.mark_register(
            w.delivered.id,
            {w.ana_mark.id: services.Mark(AttendanceStatus.PARTIAL, minutes)},
            by=w.trainer,
            now=w.delivered.ends_at,
        )
    db.session.commit()

    with counting_queries(db.engine) as long:
        first = coordinator.get(path)
    second = coordinator.get(f"{path}?page=2")

    assert len(history_rows(first)) == 25 and len(history_rows(second)) == 5
    assert "Page 2 of 2 (30 in all)" in plain(second)
    assert coordinator.get(f"{path}?page=3").status_code == 404
    assert len(long) == len(short), "\n".join(["1 event:", *short, "", "30 events:", *long])
