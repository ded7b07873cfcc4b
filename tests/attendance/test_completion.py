"""Completed training has one meaning on every page: the learner record and its CPD total, the
refreshers list, the prerequisite check when booking, and the coverage report.

Each test builds one person's attendance and then asks every page, as the people who use them would.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.attendance.test_routes import text
from tests.factories import fresh_client, make_agency, make_course, make_session, make_user
from tests.pages import plain, signed_in, submit
from tests.support import counting_queries
from trainapp.accounts.models import AgencyKind, Role
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.db import utcnow
from trainapp.reports.models import CoverageTarget
from trainapp.timezones import format_date, to_local

ATTENDED, PARTIAL = AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL


def now():
    return utcnow().replace(microsecond=0)


class World:
    """Ana at Wessex Police; a yearly Level 1 course (3 CPD hours) that Level 2 requires."""

    def __init__(self, db, *, partial_counts=False):
        self.db = db
        self.police = make_agency("Wessex Police", kind=AgencyKind.POLICE)
        self.lead = make_user(Role.AGENCY_LEAD, agency=self.police, name="Pat Lead")
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.ana = make_user(agency=self.police, name="Ana Ahmed")
        self.level1 = make_course(
            title="Level 1", cpd_hours=Decimal("3"), refresher_months=12, partial_counts_as_completed=partial_counts
        )
        self.level2 = make_course(title="Level 2", cpd_hours=Decimal("6"), prerequisite=self.level1)
        self.level2_session = make_session(self.level2)
        db.session.add(CoverageTarget(agency=self.police, course=self.level1, staff_needed=1))
        db.session.commit()

    def took_level1(self, days_ago, attendance, *, cancelled=False):
        session = make_session(
            self.level1,
            starts_at=now() - timedelta(days=days_ago),
            hours=3,
            status=SessionStatus.CANCELLED if cancelled else SessionStatus.DELIVERED,
        )
        self.db.session.add(
            Booking(
                session=session,
                user=self.ana,
                agency_id=self.police.id,
                status=BookingStatus.CONFIRMED,
                attendance=attendance,
                minutes_missed=40 if attendance == PARTIAL else None,
            )
        )
        session.places_taken = 1
        self.db.session.commit()
        return session


@dataclass
class Answers:
    record_refreshers: list[tuple[str, str]]  # (last completed, refresh by) on Ana's own record
    cpd: str
    refreshers_list: list[str]  # the lead's refreshers page, Ana's rows
    may_book_level2: bool
    coverage: tuple[str, str, str, str]  # in date, due soon, overdue, still to train


def _record_refreshers(page) -> list[tuple[str, str]]:
    match = re.search(r"<caption[^>]*>Refreshers</caption>.*?</table>", text(page), flags=re.S)
    if match is None:
        return []
    return [
        (last, due)
        for last, due in re.findall(
            r'data-label="Last [a-z]+">([^<]+)</td>\s*<td[^>]*data-label="Refresh by">([^<]+)</td>', match.group(0)
        )
    ]


def ask_every_page(app, w: World) -> Answers:
    ana = signed_in(fresh_client(app), w.ana)
    record = ana.get("/my-training")
    assert record.status_code == 200
    cpd = re.search(r"([\d.]+) CPD hours", plain(record)).group(1)

    lead = signed_in(fresh_client(app), w.lead)
    due = lead.get("/refreshers")
    assert due.status_code == 200
    listed = [
        re.sub(r"\s+", " ", row).strip() for row in re.findall(r"Ana Ahmed</a></td>(.*?)</tr>", text(due), flags=re.S)
    ]

    booking = submit(ana, f"/sessions/{w.level2_session.id}/book", {})
    assert booking.status_code == 302
    placed = (
        w.db.session.scalar(
            sa.select(Booking.id).where(Booking.session_id == w.level2_session.id, Booking.user_id == w.ana.id)
        )
        is not None
    )

    coordinator = signed_in(fresh_client(app), w.coordinator)
    coverage = text(coordinator.get("/reports/coverage"))
    row = re.search(r'data-label="Course">Level 1</td>(.*?)</tr>', coverage, flags=re.S).group(1)
    figures = tuple(
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'data-label="[^"]+">(.*?)</td>', row, flags=re.S)
    )[1:]
    return Answers(_record_refreshers(record), cpd, listed, placed, figures)


def day(session, months=0):
    from trainapp.attendance.services import add_months

    return format_date(add_months(to_local(session.starts_at).date(), months))


def test_partial_attendance_where_the_course_does_not_count_it_is_not_completion_on_any_page(app, db):
    w = World(db, partial_counts=False)
    w.took_level1(400, PARTIAL)

    answers = ask_every_page(app, w)

    assert answers == Answers(
        record_refreshers=[], cpd="0", refreshers_list=[], may_book_level2=False, coverage=("0", "0", "0", "1")
    )


def test_partial_attendance_where_the_course_counts_it_is_completion_on_every_page(app, db):
    w = World(db, partial_counts=True)
    session = w.took_level1(400, PARTIAL)

    answers = ask_every_page(app, w)

    assert answers.record_refreshers == [(day(session), day(session, 12))]
    assert answers.cpd == "3"
    assert len(answers.refreshers_list) == 1 and "Overdue" in answers.refreshers_list[0]
    assert answers.may_book_level2 is True
    assert answers.coverage == ("0", "0", "1", "1")


def test_a_later_partial_that_does_not_count_keeps_the_refresher_date_of_the_full_attendance(app, db):
    w = World(db, partial_counts=False)
    full = w.took_level1(300, ATTENDED)  # due in about 65 days: due soon
    w.took_level1(10, PARTIAL)  # would put it a year away, were it a completion

    answers = ask_every_page(app, w)

    assert answers.record_refreshers == [(day(full), day(full, 12))]
    assert len(answers.refreshers_list) == 1
    assert day(full, 12) in answers.refreshers_list[0] and "Due soon" in answers.refreshers_list[0]
    assert answers.may_book_level2 is True
    assert answers.coverage == ("1", "1", "0", "0")


def test_attendance_at_a_cancelled_session_counts_nowhere(app, db):
    w = World(db, partial_counts=True)
    w.took_level1(300, ATTENDED, cancelled=True)

    answers = ask_every_page(app, w)

    assert answers == Answers(
        record_refreshers=[], cpd="0", refreshers_list=[], may_book_level2=False, coverage=("0", "0", "0", "1")
    )


def test_a_cancelled_session_does_not_push_back_an_earlier_completion(app, db):
    w = World(db, partial_counts=False)
    full = w.took_level1(400, ATTENDED)
    w.took_level1(20, ATTENDED, cancelled=True)

    answers = ask_every_page(app, w)

    assert answers.record_refreshers == [(day(full), day(full, 12))]
    assert len(answers.refreshers_list) == 1 and "Overdue" in answers.refreshers_list[0]
    assert answers.coverage == ("0", "0", "1", "1")


# --- the refreshers page --------------------------------------------------------------------------


def _refresher_names(page) -> list[str]:
    return re.findall(r'data-label="Name"><a[^>]*>([^<]+)</a>', text(page))


@pytest.fixture
def many_due(db):
    """30 police staff overdue on a half-yearly course, one a day apart (Staff 00 the most overdue)."""
    police = make_agency("Wessex Police", kind=AgencyKind.POLICE)
    lead = make_user(Role.AGENCY_LEAD, agency=police, name="Pat Lead")
    course = make_course(title="Information Sharing", refresher_months=6)
    for i in range(30):
        session = make_session(course, starts_at=now() - timedelta(days=300 - i), hours=2)
        db.session.add(
            Booking(
                session=session,
                user=make_user(agency=police, name=f"Staff {i:02}"),
                agency_id=police.id,
                status=BookingStatus.CONFIRMED,
                attendance=ATTENDED,
            )
        )
    db.session.commit()
    return lead


def test_the_refreshers_page_shows_the_most_overdue_first_a_page_at_a_time(app, db, many_due):
    lead = signed_in(fresh_client(app), many_due)

    first = lead.get("/refreshers")
    second = lead.get("/refreshers?page=2")

    assert _refresher_names(first) == [f"Staff {i:02}" for i in range(25)]
    assert _refresher_names(second) == [f"Staff {i:02}" for i in range(25, 30)]
    assert "Page 2 of 2 (30 in all)" in plain(second)
    assert 'href="/refreshers?page=1"' in text(second)
    assert lead.get("/refreshers?page=3").status_code == 404


def test_the_refreshers_page_runs_the_same_queries_for_one_page_or_two(app, db, many_due):
    lead = signed_in(fresh_client(app), many_due)
    with counting_queries(db.engine) as full_page:
        assert lead.get("/refreshers").status_code == 200
    with counting_queries(db.engine) as last_page:
        assert lead.get("/refreshers?page=2").status_code == 200
    # No person's or course's row is fetched on its own.
    assert len(full_page) == len(last_page), "\n".join(["page 1:", *full_page, "", "page 2:", *last_page])
