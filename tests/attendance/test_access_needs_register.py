"""The register shows each learner's adjustments under their name, for the trainer on the day."""

from datetime import timedelta

from tests.factories import fresh_client, make_agency, make_session, make_user
from tests.pages import parse, plain, signed_in
from trainapp.accounts.models import Role
from trainapp.bookings.models import AccessNeed, Booking, BookingAccessNeeds, BookingStatus
from trainapp.db import utcnow


def _booked(db, session, person, needs=None, details=""):
    booking = Booking(session=session, user=person, agency_id=person.agency_id, status=BookingStatus.CONFIRMED)
    session.places_taken += 1
    db.session.add(booking)
    if needs is not None:
        row = BookingAccessNeeds(booking=booking, details=details)
        row.needs = needs
        db.session.add(row)
    db.session.flush()
    return booking


def test_the_register_shows_a_short_needs_line_under_the_name(app, db):
    agency = make_agency("Wessex Police")
    trainer = make_user(Role.TRAINER, agency=agency)
    session = make_session(starts_at=(utcnow() - timedelta(hours=1)).replace(microsecond=0), trainers=[trainer])
    ana = _booked(
        db,
        session,
        make_user(agency=agency, name="Ana Ahmed"),
        [AccessNeed.QUIET_SPACE, AccessNeed.HEARING_LOOP],
        "Sits near the door\nLeaves at 11",
    )
    _booked(db, session, make_user(agency=agency, name="Ben Brook"))
    db.session.commit()

    page = signed_in(fresh_client(app), trainer).get(f"/sessions/{session.id}/register")

    assert page.status_code == 200
    fieldsets = {
        fieldset.legend.find("span").get_text(strip=True): fieldset for fieldset in parse(page).find_all("fieldset")
    }
    ana_row = " ".join(fieldsets["Ana Ahmed"].get_text(" ").split())
    assert "Needs: Hearing loop, Quiet space" in ana_row
    assert "Sits near the door" in ana_row and "Leaves at 11" in ana_row
    # Line breaks in the details stay line breaks on a phone.
    assert fieldsets["Ana Ahmed"].find("br") is not None
    assert "Needs:" not in fieldsets["Ben Brook"].get_text()
    assert plain(page).count("Needs:") == 1
    assert ana.id
