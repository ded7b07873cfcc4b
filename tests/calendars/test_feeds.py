"""Calendar feeds, downloads and invitations through HTTP, as calendar and mail programs meet them."""

import logging
import re
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from email.utils import format_datetime

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from tests.factories import (
    csrf_token,
    fresh_client,
    make_agency,
    make_course,
    make_programme,
    make_session,
    make_user,
    sign_in,
)
from trainapp.accounts.models import AgencyKind, Role
from trainapp.accounts.services import deactivate_user
from trainapp.bookings import services, session_lifecycle
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.calendars import feeds, links
from trainapp.calendars.links import redact, token_for
from trainapp.catalogue.models import CourseStatus, DeliveryMode
from trainapp.catalogue.services import SessionDetails
from trainapp.db import utcnow
from trainapp.notifications.models import OutboxMessage
from trainapp.notifications.services import build_email

LINK = "https://meet.example.org/j/secret-room"


@pytest.fixture
def now(db):
    return utcnow().replace(microsecond=0)


@pytest.fixture
def agency(db):
    return make_agency("Wessex Police", kind=AgencyKind.POLICE)


@pytest.fixture
def learner(agency):
    return make_user(Role.STAFF, agency=agency, name="Zoë Adams", email="zoe.adams@police.example.org")


@pytest.fixture
def coordinator(db):
    return make_user(Role.COORDINATOR)


def at(now, days, hour=None):
    moment = now + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0) if hour is not None else moment


def book(session, person, now):
    """Book as of a day before the session (or now, if sooner), so past sessions can hold bookings."""
    return services.book_place(session.id, person, by=person, now=min(now, session.starts_at - timedelta(days=1)))


def personal_url(user):
    return f"/calendars/{token_for(user)}/personal.ics"


def trainer_url(user):
    return f"/calendars/{token_for(user)}/trainer.ics"


def events(response) -> dict:
    """The events a calendar program would show, by UID."""
    assert response.status_code == 200, response.status
    return {str(e["uid"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}


def uid(session):
    return f"session-{session.id}@localhost"


def lines(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def details_of(session, **changes):
    fields = dict(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        delivery_mode=session.delivery_mode,
        venue=session.venue,
        joining_link=session.joining_link,
        capacity=session.capacity,
        trainers=list(session.trainers),
    )
    fields.update(changes)
    return SessionDetails(**fields)


def _old(*rows, now, days=3):
    """Stamp sessions, courses, venues or bookings as last changed some days ago."""
    for row in rows:
        row.updated_at = now - timedelta(days=days)


def invitations(db, user):
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == user.email, OutboxMessage.calendar.is_not(None))
        .order_by(OutboxMessage.id)
    ).all()


def invitation_event(message):
    calendar = Calendar.from_ical(message.calendar)
    [event] = calendar.walk("VEVENT")
    return str(calendar["method"]), event


# --- The personal feed --------------------------------------------------------------------------


def test_the_personal_feed_holds_places_requests_and_waiting_places_and_nothing_else(db, client, learner, now):
    other = make_user(Role.STAFF, agency=learner.agency)
    confirmed = make_session(starts_at=at(now, 7, 10), delivery_mode=DeliveryMode.ONLINE, venue=None, joining_link=LINK)
    awaiting = make_session(course=make_course(requires_approval=True), starts_at=at(now, 8, 10))
    full = make_session(
        starts_at=at(now, 9, 10),
        capacity=1,
        delivery_mode=DeliveryMode.ONLINE,
        venue=None,
        joining_link=LINK + "-waiting",
    )
    left = make_session(starts_at=at(now, 10, 10))
    not_mine = make_session(starts_at=at(now, 11, 10))
    recent = make_session(starts_at=at(now, -29, 10))
    old = make_session(starts_at=at(now, -31, 10))
    book(full, other, now)
    bookings = {session.id: book(session, learner, now) for session in (confirmed, awaiting, full, left, recent, old)}
    book(not_mine, other, now)
    services.cancel_booking(bookings[left.id].id, by=learner)

    feed = events(client.get(personal_url(learner)))

    assert set(feed) == {uid(confirmed), uid(awaiting), uid(full), uid(recent)}
    assert str(feed[uid(confirmed)]["status"]) == "CONFIRMED"
    assert str(feed[uid(confirmed)]["summary"]) == confirmed.course.title
    assert f"Join online: {LINK}" in str(feed[uid(confirmed)]["description"])
    assert str(feed[uid(awaiting)]["status"]) == "TENTATIVE"
    assert str(feed[uid(awaiting)]["summary"]) == f"Awaiting approval: {awaiting.course.title}"
    assert str(feed[uid(full)]["status"]) == "TENTATIVE"
    assert str(feed[uid(full)]["summary"]) == f"Waiting list: {full.course.title}"
    assert "-waiting" not in str(feed[uid(full)]["description"])  # no link without a place


def test_a_feed_is_a_named_calendar_that_asks_to_be_read_hourly(db, client, learner, now):
    session = make_session(starts_at=at(now, 5, 10))
    book(session, learner, now)
    response = client.get(personal_url(learner))
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = lines(response.data)
    assert "NAME:Test Partnership: my training" in text and "X-WR-CALNAME:Test Partnership: my training" in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text and "X-PUBLISHED-TTL:PT1H" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/London" in text
    assert not any(line.startswith(("ORGANIZER", "ATTENDEE", "METHOD")) for line in text)
    [event] = events(response).values()
    assert any(line.startswith("DTSTART;TZID=Europe/London:") for line in text)
    assert event.decoded("dtstart") == session.starts_at
    location = str(event["location"])
    assert session.venue.name in location and "1 High Street" in location
    assert str(event["description"]).endswith(f"Details: http://localhost/sessions/{session.id}")


def test_a_cancelled_session_stays_as_cancelled_for_30_days_then_drops(db, client, learner, coordinator, now):
    session = make_session(starts_at=at(now, 14, 10))
    book(session, learner, now)
    session_lifecycle.cancel_session(session.id, by=coordinator, reason="Trainer unwell")

    for url in (personal_url(learner), "/calendars/public.ics"):
        event = events(client.get(url))[uid(session)]
        assert str(event["status"]) == "CANCELLED"
        assert str(event["summary"]) == f"Cancelled: {session.course.title}"
        assert "Trainer unwell" in str(event["description"])
        assert event["sequence"] == 1

    session.updated_at = now - timedelta(days=29)
    assert uid(session) in events(client.get(personal_url(learner)))
    session.updated_at = now - timedelta(days=31)
    assert uid(session) not in events(client.get(personal_url(learner)))
    assert uid(session) not in events(client.get("/calendars/public.ics"))


def test_feeds_show_sessions_from_30_days_ago_on(db, client, now):
    trainer = make_user(Role.TRAINER)
    ended_29 = make_session(starts_at=at(now, -29) - timedelta(hours=3), trainers=[trainer])
    ended_31 = make_session(starts_at=at(now, -31) - timedelta(hours=3), trainers=[trainer])
    next_year = make_session(starts_at=at(now, 360, 10), trainers=[trainer])
    for response in (client.get("/calendars/public.ics"), client.get(trainer_url(trainer))):
        shown = events(response)
        assert uid(ended_29) in shown and uid(next_year) in shown and uid(ended_31) not in shown


def test_a_booking_the_person_cancels_drops_from_their_feed(db, client, learner, now):
    keep = make_session(starts_at=at(now, 5, 10))
    drop = make_session(starts_at=at(now, 6, 10))
    book(keep, learner, now - timedelta(hours=2))
    booking = book(drop, learner, now - timedelta(hours=2))
    for session in (keep, drop):
        _old(session, session.course, session.venue, now=now, days=2)
    first = client.get(personal_url(learner))
    assert set(events(first)) == {uid(keep), uid(drop)}

    services.cancel_booking(booking.id, by=learner)
    after = client.get(personal_url(learner))
    assert set(events(after)) == {uid(keep)}
    # A program that only sends If-Modified-Since must still be told the feed changed.
    again = client.get(personal_url(learner), headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 200 and uid(drop) not in events(again)
    assert after.headers["ETag"] != first.headers["ETag"]


# --- Trainer and public feeds ---------------------------------------------------------------------


def test_the_trainer_feed_holds_the_sessions_they_deliver_with_joining_links(db, client, now):
    trainer = make_user(Role.TRAINER, name="Tess Trainer")
    theirs = make_session(
        starts_at=at(now, 3, 9), trainers=[trainer], delivery_mode=DeliveryMode.HYBRID, joining_link=LINK
    )
    draft = make_session(course=make_course(status="draft"), starts_at=at(now, 4, 9), trainers=[trainer])
    someone_elses = make_session(starts_at=at(now, 3, 9))
    response = client.get(trainer_url(trainer))
    assert response.headers["Cache-Control"].startswith("private")
    shown = events(response)
    assert set(shown) == {uid(theirs), uid(draft)}
    assert f"Join online: {LINK}" in str(shown[uid(theirs)]["description"])
    assert str(shown[uid(theirs)]["location"]).endswith("(and online)")
    assert uid(someone_elses) not in shown
    assert b"X-WR-CALNAME:Test Partnership: sessions I deliver" in response.data


def test_the_public_feed_has_published_sessions_and_no_personal_data(db, client, learner, now):
    trainer = make_user(Role.TRAINER, name="Tess Trainer", email="tess.trainer@council.example.org")
    online = make_session(
        starts_at=at(now, 3, 9), delivery_mode=DeliveryMode.ONLINE, venue=None, joining_link=LINK, trainers=[trainer]
    )
    draft = make_session(course=make_course(status="draft"), starts_at=at(now, 4, 9))
    book(online, learner, now)
    response = client.get("/calendars/public.ics")
    shown = events(response)
    assert uid(online) in shown and uid(draft) not in shown
    body = response.data.decode()
    for personal in ("Zoë", "zoe.adams", "Tess", "tess.trainer", "meet.example.org", "ORGANIZER", "ATTENDEE"):
        assert personal not in body
    assert response.headers["Cache-Control"].startswith("public")
    assert b"X-WR-CALNAME:Test Partnership: training sessions" in response.data


def test_the_public_feed_can_be_narrowed_to_a_programme_or_a_course(db, client, now):
    programme = make_programme("Safeguarding")
    in_programme = make_course(programme=programme)
    a = make_session(course=in_programme, starts_at=at(now, 3, 9))
    b = make_session(course=make_course(programme=programme), starts_at=at(now, 4, 9))
    elsewhere = make_session(starts_at=at(now, 5, 9))
    assert set(events(client.get(f"/calendars/public.ics?programme={programme.id}"))) == {uid(a), uid(b)}
    assert set(events(client.get(f"/calendars/public.ics?course={in_programme.id}"))) == {uid(a)}
    assert uid(elsewhere) in events(client.get("/calendars/public.ics"))
    assert client.get("/calendars/public.ics?course=abc").status_code == 400
    assert set(events(client.get("/calendars/public.ics?programme=999999"))) == set()


def test_a_single_session_downloads_with_the_same_uid_as_everywhere_else(db, client, learner, now):
    session = make_session(starts_at=at(now, 3, 9), delivery_mode=DeliveryMode.ONLINE, venue=None, joining_link=LINK)
    book(session, learner, now)
    sign_in(client, learner)
    response = client.get(f"/sessions/{session.id}/calendar.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="session-{session.id}.ics"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"].startswith("private")
    [(downloaded, event)] = events(response).items()
    assert downloaded == uid(session) == str(events(client.get(personal_url(learner)))[uid(session)]["uid"])
    assert f"Join online: {LINK}" in str(event["description"])
    [message] = invitations(db, learner)
    assert str(invitation_event(message)[1]["uid"]) == uid(session)

    stranger = make_user(Role.STAFF, agency=learner.agency)
    other = fresh_client(client.application)
    sign_in(other, stranger)
    assert b"meet.example.org" not in other.get(f"/sessions/{session.id}/calendar.ics").data


# --- HTTP: caching, conditional requests, methods -----------------------------------------------


@pytest.mark.parametrize("kind", ["personal", "trainer", "public"])
def test_an_unchanged_feed_is_byte_identical_and_answers_304_with_no_body(db, client, learner, now, kind):
    trainer = make_user(Role.TRAINER)
    session = make_session(starts_at=at(now, 3, 9), trainers=[trainer])
    book(session, learner, now - timedelta(days=2))
    _old(session, session.course, session.venue, now=now, days=1)
    url = {"personal": personal_url(learner), "trainer": trainer_url(trainer), "public": "/calendars/public.ics"}[kind]

    first, second = client.get(url), client.get(url)
    assert first.data == second.data and uid(session) in events(first)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)  # strong: no W/
    assert second.headers["ETag"] == etag
    assert first.headers["Last-Modified"] == format_datetime(session.updated_at, usegmt=True)

    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.data == b""
    assert by_etag.headers["ETag"] == etag
    by_date = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_date.status_code == 304 and by_date.data == b""
    earlier = format_datetime(session.updated_at - timedelta(seconds=5), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    stale = client.get(url, headers={"If-None-Match": '"0000"', "If-Modified-Since": first.headers["Last-Modified"]})
    assert stale.status_code == 200 and stale.data == first.data

    head = client.head(url)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == etag and head.headers["Content-Length"] == str(len(first.data))
    assert head.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert client.head(url, headers={"If-None-Match": etag}).status_code == 304


def test_a_change_gives_a_new_etag_and_a_full_answer(db, client, learner, coordinator, now):
    session = make_session(starts_at=at(now, 3, 9))
    book(session, learner, now - timedelta(hours=1))
    _old(session, session.course, session.venue, now=now, days=1)
    first = client.get(personal_url(learner))
    session_lifecycle.change_session(
        session.id,
        details_of(
            session, starts_at=session.starts_at + timedelta(hours=1), ends_at=session.ends_at + timedelta(hours=1)
        ),
        by=coordinator,
    )
    for headers in ({"If-None-Match": first.headers["ETag"]}, {"If-Modified-Since": first.headers["Last-Modified"]}):
        changed = client.get(personal_url(learner), headers=headers)
        assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_personal_feeds_are_private_and_not_compressed_on_the_fly(db, client, learner, now):
    book(make_session(starts_at=at(now, 3, 9)), learner, now)
    response = client.get(personal_url(learner), headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Cache-Control"].startswith("private")
    assert "Content-Encoding" not in response.headers
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert "Set-Cookie" not in response.headers  # a calendar program is not a browser session


@pytest.mark.parametrize("kind", ["personal", "trainer", "public"])
def test_posting_to_a_feed_is_not_allowed(db, client, kind):
    trainer = make_user(Role.TRAINER)
    url = {"personal": personal_url(trainer), "trainer": trainer_url(trainer), "public": "/calendars/public.ics"}[kind]
    assert client.post(url).status_code == 405
    assert client.put(url).status_code == 405


# --- Secret links ------------------------------------------------------------------------------


def test_a_link_token_has_256_bits_and_only_its_hash_is_stored(db, learner):
    from trainapp.calendars.models import CalendarLink

    token = token_for(learner)
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert token_for(learner) == token  # shown again, the same
    link = db.session.scalar(sa.select(CalendarLink).where(CalendarLink.user_id == learner.id))
    assert token not in (link.nonce, link.token_hash)
    assert len(link.nonce) == 64  # secrets.token_hex(32)
    assert links.user_for_token(token) == learner


def test_a_new_link_kills_the_old_one(db, client, learner, now):
    book(make_session(starts_at=at(now, 3, 9)), learner, now)
    old_url = personal_url(learner)
    assert client.get(old_url).status_code == 200
    sign_in(client, learner)
    page = client.get("/calendar")
    assert old_url in page.get_data(as_text=True)

    response = client.post("/calendar/new-link", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/calendar")

    new_url = personal_url(learner)
    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(old_url.replace("personal.ics", "trainer.ics")).status_code == 404
    assert client.get(new_url).status_code == 200
    assert new_url in client.get("/calendar").get_data(as_text=True)


def test_deactivating_a_person_kills_their_link(db, client, learner, coordinator, now):
    book(make_session(starts_at=at(now, 3, 9)), learner, now)
    url = personal_url(learner)
    assert client.get(url).status_code == 200
    deactivate_user(learner, by=coordinator)
    assert client.get(url).status_code == 404


def test_unknown_truncated_and_old_tokens_all_get_the_same_404(db, client, learner, now):
    trainer = make_user(Role.TRAINER)
    token = token_for(trainer)
    old = token
    links.new_link(trainer)
    token = token_for(trainer)
    unknown = client.get("/calendars/" + "0" * 64 + "/personal.ics")
    assert unknown.status_code == 404

    def page(response):  # the same page, give or take the per-response CSP nonce
        return re.sub(rb'nonce="[^"]*"', b"", response.data)

    bad = [
        old,
        token[:-1],
        token[:32],
        token + "0",
        token.upper(),
        "",
        "x" * 64,
        "../" + token,
        token[:-1] + "g",
        "%00" + token[1:],
        " " + token[1:],
    ]
    for candidate in bad:
        for kind in ("personal", "trainer"):
            response = client.get(f"/calendars/{candidate}/{kind}.ics")
            assert response.status_code == 404, candidate
            if candidate:
                assert page(response) == page(unknown), candidate
    assert client.get(f"/calendars/{token}/trainer.ics").status_code == 200


# --- Tokens never in logs -----------------------------------------------------------------------


def test_redact_takes_tokens_out_of_paths():
    token = "a1" * 32
    assert (
        redact(f'"GET /calendars/{token}/personal.ics HTTP/1.1" 200 -')
        == '"GET /calendars/[secret]/personal.ics HTTP/1.1" 200 -'
    )
    assert token not in redact(f"/calendars/{token}/trainer.ics?x=1 and /calendars/{token}/personal.ics")
    assert redact("/calendars/public.ics") == "/calendars/public.ics"


def test_a_request_logged_by_the_development_server_does_not_show_the_token(app, db, learner, caplog):
    from werkzeug.serving import make_server

    token = token_for(learner)
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/calendars/{token}/personal.ics", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/calendars/{token[:-1]}/personal.ics", timeout=10)  # noqa: S310
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/calendars/[secret]/personal.ics" in m and " 200 " in m for m in logged), logged
    assert any("/calendars/[secret]/personal.ics" in m and " 404 " in m for m in logged), logged
    assert token[:40] not in caplog.text


def test_an_error_on_a_feed_is_logged_without_the_token(db, client, learner, caplog, monkeypatch):
    def broken(user, now):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(feeds, "personal", broken)
    url = personal_url(learner)
    caplog.set_level(logging.ERROR, logger="trainapp")
    assert client.get(url).status_code == 500
    assert "Unhandled error on GET /calendars/[secret]/personal.ics" in caplog.text
    assert token_for(learner) not in caplog.text


# --- Invitations in email: one UID, a rising SEQUENCE -------------------------------------------


def test_a_booking_email_carries_a_request_from_the_training_mailbox(app, db, client, learner, now):
    session = make_session(starts_at=at(now, 3, 9))
    book(session, learner, now)
    [message] = invitations(db, learner)
    assert message.calendar_method == "REQUEST"
    method, event = invitation_event(message)
    assert method == "REQUEST" and str(event["uid"]) == uid(session) and event["sequence"] == session.sequence
    assert str(event["organizer"]) == f"mailto:{app.config['MAIL_FROM']}"
    assert event["organizer"].params["CN"] == app.config["ORGANISATION_NAME"]
    assert str(event["attendee"]) == f"mailto:{learner.email}" and event["attendee"].params["CN"] == "Zoë Adams"

    email = build_email(message)
    [part] = [p for p in email.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    content = part.get_content()
    assert (content.decode() if isinstance(content, bytes) else content).replace(
        "\r\n", "\n"
    ) == message.calendar.replace("\r\n", "\n")


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence_in_feed_and_email(
    db, client, learner, coordinator, agency, now
):
    session = make_session(starts_at=at(now, 10, 9), capacity=1)
    waiting = make_user(Role.STAFF, agency=agency)
    book(session, learner, now - timedelta(hours=1))
    book(session, waiting, now - timedelta(hours=1))
    _old(session, session.course, session.venue, now=now, days=1)
    before = events(client.get(personal_url(learner)))[uid(session)]
    sequence = before["sequence"]
    moved_to = session.starts_at + timedelta(days=1, hours=2)

    session_lifecycle.change_session(
        session.id, details_of(session, starts_at=moved_to, ends_at=moved_to + timedelta(hours=2)), by=coordinator
    )
    assert session.sequence == sequence + 1

    after = events(client.get(personal_url(learner)))[uid(session)]
    assert after["sequence"] == sequence + 1 and after.decoded("dtstart") == moved_to
    assert after.decoded("dtstamp") > before.decoded("dtstamp")
    waiting_event = events(client.get(personal_url(waiting)))[uid(session)]
    assert waiting_event["sequence"] == sequence + 1 and str(waiting_event["status"]) == "TENTATIVE"

    first, update = invitations(db, learner)
    method, event = invitation_event(update)
    assert method == "REQUEST" and update.subject.startswith("Session changed")
    assert str(event["uid"]) == uid(session) == str(invitation_event(first)[1]["uid"])
    assert event["sequence"] == sequence + 1 and event.decoded("dtstart") == moved_to
    assert invitations(db, waiting) == []  # told by email, but no diary entry without a place
    assert build_email(update).get_body(preferencelist=("plain",)) is not None


def test_cancelling_a_session_sends_a_cancel_with_the_same_uid(db, client, learner, coordinator, now):
    session = make_session(starts_at=at(now, 10, 9))
    book(session, learner, now)
    session_lifecycle.cancel_session(session.id, by=coordinator, reason="Venue flooded")
    request, cancel = invitations(db, learner)
    method, event = invitation_event(cancel)
    assert method == "CANCEL" and cancel.calendar_method == "CANCEL"
    assert str(event["uid"]) == uid(session) and event["sequence"] == session.sequence == 1
    assert str(event["status"]) == "CANCELLED"
    [part] = [p for p in build_email(cancel).walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "CANCEL"
    assert events(client.get(personal_url(learner)))[uid(session)]["sequence"] == 1


def test_cancelling_your_own_place_sends_a_cancel_newer_than_the_request(db, client, learner, now):
    session = make_session(starts_at=at(now, 10, 9))
    _old(session, session.course, session.venue, now=now, days=3)
    booking = book(session, learner, now)
    services.cancel_booking(booking.id, by=learner)
    request, cancel = invitations(db, learner)
    assert invitation_event(request)[0] == "REQUEST" and invitation_event(cancel)[0] == "CANCEL"
    sent = invitation_event(cancel)[1]
    # Calendar programs that compare SEQUENCE ignore a CANCEL no higher than the REQUEST.
    assert sent["sequence"] > invitation_event(request)[1]["sequence"]
    assert sent.decoded("dtstamp") >= now - timedelta(minutes=1)
    assert sent.decoded("last-modified") == session.updated_at.replace(microsecond=0)
    assert booking.status == BookingStatus.CANCELLED


# --- Hostile names stored before one-line fields refused them -----------------------------------

HOSTILE_TITLES = [
    "Two lines:\nfirst, then second",
    "Windows\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@attacker.example",
    "Tab\tand escape \x1b[31m red",
    "Emoji 🎓🚓 for Zoë in Łódź, 日本語",
    "Quotes \"double\" and 'single'; back\\slash",
    "Long " + "très " * 120,
    "Bidi \u202eevil\u202c and separator\u2028here",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_the_single_session_download_works_whatever_the_course_is_called(db, client, learner, now, title):
    venue_name = f"Hall {title[:20]}"
    session = make_session(course=make_course(title=title[:200]), starts_at=at(now, 3, 9))
    session.venue.name = venue_name
    book(session, learner, now)
    db.session.commit()
    sign_in(client, learner)
    response = client.get(f"/sessions/{session.id}/calendar.ics")
    assert response.status_code == 200
    assert "\n" not in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == uid(session)
    summary, location = str(event["summary"]), str(event["location"])
    for value in (summary, location, str(calendar["x-wr-calname"])):
        assert not any(ord(c) < 32 or c in "\u2028\u202e" for c in value), value
    assert not any(line.startswith(b"UID:evil") for line in response.data.split(b"\r\n"))
    assert summary.split()[0] == title.split()[0]


# --- Last-Modified moves whenever what a feed shows changes ---------------------------------------


def _since(client, url, first):
    """Ask as a program that only keeps Last-Modified."""
    return client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})


def test_a_trainer_taken_off_a_session_gets_a_newer_feed(db, client, coordinator, now):
    trainer, other = make_user(Role.TRAINER), make_user(Role.TRAINER)
    kept = make_session(starts_at=at(now, 5, 10), trainers=[trainer])
    swapped = make_session(starts_at=at(now, 6, 10), trainers=[trainer])
    _old(kept, swapped, kept.course, kept.venue, swapped.course, swapped.venue, now=now)
    db.session.commit()
    first = client.get(trainer_url(trainer))
    assert set(events(first)) == {uid(kept), uid(swapped)}

    session_lifecycle.change_session(swapped.id, details_of(swapped, trainers=[other]), by=coordinator)
    db.session.commit()
    again = _since(client, trainer_url(trainer), first)
    assert again.status_code == 200 and set(events(again)) == {uid(kept)}


@pytest.mark.parametrize("kind", ["personal", "trainer", "public"])
def test_a_session_passing_out_of_the_window_moves_last_modified(db, client, learner, now, kind, monkeypatch):
    from trainapp.calendars import routes

    trainer = make_user(Role.TRAINER)
    ending = make_session(starts_at=now - feeds.WINDOW - timedelta(hours=1), hours=2, trainers=[trainer])
    staying = make_session(starts_at=at(now, 5, 10), trainers=[trainer])
    for session in (ending, staying):
        book(session, learner, now)
    _old(ending, staying, ending.course, ending.venue, staying.course, staying.venue, now=now, days=40)
    for booking in db.session.scalars(sa.select(Booking).where(Booking.user_id == learner.id)):
        booking.updated_at = now - timedelta(days=40)
    db.session.commit()
    url = {"personal": personal_url(learner), "trainer": trainer_url(trainer), "public": "/calendars/public.ics"}[kind]
    first = client.get(url)
    assert uid(ending) in events(first)

    monkeypatch.setattr(routes, "utcnow", lambda: now + timedelta(hours=2))
    again = _since(client, url, first)
    assert again.status_code == 200 and uid(ending) not in events(again)
    assert again.headers["Last-Modified"] != first.headers["Last-Modified"]


@pytest.mark.parametrize("kind", ["personal", "trainer", "public", "download"])
@pytest.mark.parametrize("edit", ["course", "venue"])
def test_an_edit_to_the_course_or_venue_moves_last_modified(db, client, learner, now, kind, edit):
    trainer = make_user(Role.TRAINER)
    session = make_session(starts_at=at(now, 5, 10), trainers=[trainer])
    booking = book(session, learner, now)
    _old(session, session.course, session.venue, booking, now=now)
    db.session.commit()
    sign_in(client, learner)
    url = {
        "personal": personal_url(learner),
        "trainer": trainer_url(trainer),
        "public": "/calendars/public.ics",
        "download": f"/sessions/{session.id}/calendar.ics",
    }[kind]
    first = client.get(url)
    assert first.status_code == 200

    if edit == "course":
        session.course.title = "Safeguarding, renamed"
    else:
        session.venue.name = "The New Hall"
    db.session.commit()
    again = _since(client, url, first)
    assert again.status_code == 200
    shown = str(events(again)[uid(session)]["summary" if edit == "course" else "location"])
    assert ("renamed" if edit == "course" else "The New Hall") in shown


def test_a_course_taken_out_of_the_public_feed_moves_last_modified(db, client, now):
    session = make_session(starts_at=at(now, 5, 10))
    other = make_session(starts_at=at(now, 6, 10))
    _old(session, other, session.course, session.venue, other.course, other.venue, now=now)
    db.session.commit()
    first = client.get("/calendars/public.ics")
    assert uid(session) in events(first)

    session.course.status = CourseStatus.DRAFT
    db.session.commit()
    again = _since(client, "/calendars/public.ics", first)
    assert again.status_code == 200 and uid(session) not in events(again)


def test_an_unchanged_feed_still_answers_304_to_if_modified_since(db, client, learner, now):
    session = make_session(starts_at=at(now, 5, 10))
    booking = book(session, learner, now)
    _old(session, session.course, session.venue, booking, now=now, days=1)
    db.session.commit()
    first = client.get(personal_url(learner))
    assert _since(client, personal_url(learner), first).status_code == 304


def test_a_feed_changed_this_very_second_has_no_last_modified_yet(db, client, learner, now, monkeypatch):
    """A later change in the same second would carry the same HTTP date: the ETag answers."""
    booking = book(make_session(starts_at=at(utcnow(), 5, 10)), learner, utcnow())
    db.session.commit()
    # The feed is asked for in the very moment of the change, however busy the machine is.
    changed_at = booking.updated_at
    monkeypatch.setattr("trainapp.calendars.routes.utcnow", lambda: changed_at)
    response = client.get(personal_url(learner))
    assert response.status_code == 200 and "Last-Modified" not in response.headers
    assert client.get(personal_url(learner), headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def _sequences(db, user, session):
    return [
        (invitation_event(m)[0], invitation_event(m)[1]["sequence"])
        for m in invitations(db, user)
        if str(invitation_event(m)[1]["uid"]) == uid(session)
    ]


def test_a_transfer_cancels_with_a_higher_sequence_and_a_rebooking_raises_it_again(db, client, learner, agency, now):
    colleague = make_user(Role.STAFF, agency=agency)
    session = make_session(starts_at=at(now, 10, 9))
    booking = book(session, learner, now)
    services.transfer_booking(booking.id, colleague, by=learner)
    theirs = db.session.scalar(sa.select(Booking).where(Booking.user_id == colleague.id))
    services.cancel_booking(theirs.id, by=colleague)
    services.book_place(session.id, learner, by=learner)
    services.book_place(session.id, colleague, by=colleague)

    mine, colleagues = _sequences(db, learner, session), _sequences(db, colleague, session)
    assert [method for method, _ in mine] == ["REQUEST", "CANCEL", "REQUEST"]
    assert [method for method, _ in colleagues] == ["REQUEST", "CANCEL", "REQUEST"]
    for sent in (mine, colleagues):
        numbers = [number for _, number in sent]
        assert numbers == sorted(set(numbers)), sent  # strictly rising for each person
    # The feeds keep the session's own counter.
    assert events(client.get(personal_url(learner)))[uid(session)]["sequence"] == session.sequence == 0


def test_a_reschedule_after_a_cancel_and_rebooking_still_raises_the_sequence(db, learner, coordinator, now):
    session = make_session(starts_at=at(now, 10, 9))
    booking = book(session, learner, now)
    services.cancel_booking(booking.id, by=learner)
    services.book_place(session.id, learner, by=learner)
    moved = session.starts_at + timedelta(hours=2)
    session_lifecycle.change_session(
        session.id, details_of(session, starts_at=moved, ends_at=moved + timedelta(hours=2)), by=coordinator
    )
    session_lifecycle.cancel_session(session.id, by=coordinator, reason="Venue flooded")
    sent = _sequences(db, learner, session)
    assert [method for method, _ in sent] == ["REQUEST", "CANCEL", "REQUEST", "REQUEST", "CANCEL"]
    numbers = [number for _, number in sent]
    assert numbers == sorted(set(numbers)), sent


# --- The link's secret stays out of logs, whatever form the path takes --------------------------


def _encoded(token: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in token)


@pytest.mark.parametrize(
    "path",
    [
        "/calendars/{token}/personal.ics",
        "/calendars/{encoded}/personal.ics",
        "/calendars/{half}/trainer.ics",
        "/calendars/{token}",
        "/calendars/{token}/personal",
        "/calendars/{token}?refresh=1",
        "%2Fcalendars%2F{token}%2Fpersonal.ics",
        "//calendars//{token}/personal.ics",
        "/Calendars/{token}/personal.ics",
        "/calendars/{token}%2Fpersonal.ics",
    ],
)
def test_redact_takes_the_secret_out_of_any_form_of_the_path(path):
    token = "a1" * 32
    line = (
        '127.0.0.1 - - [01/Dec/2026 10:00:00] "GET '
        + path.format(token=token, encoded=_encoded(token), half=token[:32] + _encoded(token[32:]))
        + ' HTTP/1.1" 200 -'
    )
    cleaned = redact(line)
    assert token[:20] not in cleaned and _encoded(token)[:30] not in cleaned and "%61%31%61%31" not in cleaned
    assert "[secret]" in cleaned and cleaned.startswith('127.0.0.1 - - [01/Dec/2026 10:00:00] "GET ')
    assert (
        redact('"GET /calendars/public.ics?course=3 HTTP/1.1" 200')
        == '"GET /calendars/public.ics?course=3 HTTP/1.1" 200'
    )


def test_a_gunicorn_access_log_line_does_not_show_the_token(app, db, learner, caplog):
    token = token_for(learner)
    caplog.set_level(logging.INFO, logger="gunicorn.access")
    atoms = {
        "h": "10.0.0.1",
        "r": f"GET /calendars/{_encoded(token)}/personal.ics HTTP/1.1",
        "U": f"/calendars/{token}",
        "s": "200",
    }
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s path=%(U)s', atoms)
    assert token[:20] not in caplog.text and _encoded(token)[:30] not in caplog.text
    assert "/calendars/[secret]/personal.ics" in caplog.text


def test_an_encoded_token_reaches_the_feed_and_is_not_logged(app, db, learner, caplog):
    from werkzeug.serving import make_server

    token = token_for(learner)
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/calendars/{_encoded(token)}/personal.ics", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/calendars/{token}", timeout=10)  # noqa: S310
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert token[:20] not in caplog.text and _encoded(token)[:30] not in caplog.text
    assert caplog.text.count("[secret]") >= 2
