"""Leavers: a list of emails deactivates those people and cancels their future bookings."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_session, make_user
from tests.people.helpers import csv_file
from tests.support import outbox_subjects
from trainapp.accounts.models import Role
from trainapp.accounts.services import reactivate_user
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.bookings.services import book_place
from trainapp.calendars.links import token_for
from trainapp.db import utcnow
from trainapp.people import services
from trainapp.people.models import ImportKind


@pytest.fixture
def police(db):
    return make_agency("Northshire Police", domains=["police.example.org"])


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR, email="coord@partnership.example.org")


def leavers(by, emails, *, agency=None):
    data = csv_file([[email] for email in emails], headings=["Email address"])
    return services.preview_import(by=by, filename="leavers.csv", data=data, kind=ImportKind.LEAVERS, agency=agency)


def status(db, booking_id):
    return db.session.get(Booking, booking_id).status


def test_a_leaver_loses_future_bookings_and_the_waiting_list_moves_up(db, client, coordinator, police):
    leaver = make_user(email="ann@police.example.org", name="Ann Lee", agency=police)
    waiting = make_user(email="bo@police.example.org", name="Bo Grey", agency=police)
    full = make_session(capacity=1)
    other = make_session(starts_at=(utcnow() + timedelta(days=20)).replace(microsecond=0))
    place = book_place(full.id, leaver, by=leaver)
    queued = book_place(full.id, waiting, by=waiting)
    second = book_place(other.id, leaver, by=leaver)
    past = make_session(starts_at=(utcnow() - timedelta(days=30)).replace(microsecond=0))
    old = Booking(session=past, user=leaver, agency_id=police.id, status=BookingStatus.CONFIRMED)
    db.session.add(old)
    feed = f"/calendars/{token_for(leaver)}/personal.ics"
    db.session.commit()
    assert client.get(feed).status_code == 200
    assert queued.status == BookingStatus.WAITING

    preview = leavers(coordinator, ["ANN@police.example.org "])
    assert services.plan_counts(preview) == {"leave": 1, "unchanged": 0, "error": 0, "bookings": 2}
    [row] = services.plan_rows(preview)
    assert (row.outcome, row.name, row.message) == ("leave", "Ann Lee", "2 future bookings will be cancelled")
    assert status(db, place.id) == BookingStatus.CONFIRMED  # nothing changes before it is applied

    result = services.apply_import(preview.id, by=coordinator, apply_valid=False)
    db.session.commit()

    assert result.sentence() == "1 person deactivated and 2 future bookings cancelled."
    assert not leaver.active
    assert status(db, place.id) == BookingStatus.CANCELLED
    assert status(db, second.id) == BookingStatus.CANCELLED
    assert status(db, queued.id) == BookingStatus.CONFIRMED
    assert status(db, old.id) == BookingStatus.CONFIRMED  # the record of past training stays
    assert any("cancelled" in subject.lower() for subject in outbox_subjects(db, "ann@police.example.org"))
    assert len(outbox_subjects(db, "bo@police.example.org")) >= 2  # waiting, then promoted
    assert client.get(feed).status_code == 404


def test_reactivating_a_leaver_restores_the_account_not_the_bookings(db, coordinator, police):
    leaver = make_user(email="ann@police.example.org", agency=police)
    booking = book_place(make_session().id, leaver, by=leaver)
    services.apply_import(leavers(coordinator, [leaver.email]).id, by=coordinator, apply_valid=False)
    db.session.commit()

    reactivate_user(leaver, by=coordinator)
    db.session.commit()

    assert leaver.active
    assert status(db, booking.id) == BookingStatus.CANCELLED


def test_leaver_rows_say_who_is_already_gone_unknown_or_repeated(db, coordinator, police):
    make_user(email="gone@police.example.org", agency=police, active=False)
    make_user(email="ann@police.example.org", agency=police)
    preview = leavers(
        coordinator,
        [
            "gone@police.example.org",
            "nobody@police.example.org",
            "ann@police.example.org",
            "Ann@police.example.org",
            "x y@z",
        ],
    )

    found = {row.number: (row.outcome, row.message) for row in services.plan_rows(preview)}
    assert found[2] == ("unchanged", "Already left")
    assert found[3] == ("error", "No account has this email")
    assert found[4] == ("leave", "No future bookings")
    assert found[5] == ("error", "Row 5 repeats the email on row 4")
    assert found[6][0] == "error" and "not an email address" in found[6][1]
    assert services.plan_counts(preview) == {"leave": 1, "unchanged": 1, "error": 3, "bookings": 0}


def test_the_last_active_coordinator_never_leaves(db, coordinator):
    preview = leavers(coordinator, [coordinator.email])
    [row] = services.plan_rows(preview)
    assert (row.outcome, row.message) == ("error", "The service needs at least one active coordinator")


def test_an_agency_lead_may_only_name_their_own_staff(db, police):
    council = make_agency("Westshire Council", domains=["council.example.org"])
    lead = make_user(Role.AGENCY_LEAD, agency=police)
    mine = make_user(email="ann@police.example.org", agency=police)
    theirs = make_user(email="cat@council.example.org", agency=council)

    preview = leavers(lead, [mine.email, theirs.email])
    services.apply_import(preview.id, by=lead, apply_valid=True)
    db.session.commit()

    found = {row.email: (row.outcome, row.message) for row in services.plan_rows(preview)}
    assert found[theirs.email] == ("error", "This person is not in your agency")
    assert not mine.active and theirs.active


def test_leaving_twice_changes_nothing_the_second_time(db, coordinator, police):
    leaver = make_user(email="ann@police.example.org", agency=police)
    services.apply_import(leavers(coordinator, [leaver.email]).id, by=coordinator, apply_valid=False)
    db.session.commit()

    again = leavers(coordinator, [leaver.email])
    assert services.plan_counts(again) == {"leave": 0, "unchanged": 1, "error": 0, "bookings": 0}
    result = services.apply_import(again.id, by=coordinator, apply_valid=False)
    assert result.sentence() == "Nothing needed changing."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
