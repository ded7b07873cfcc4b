"""trainapp.calendars.ical: sessions to iCalendar bytes, with no database and no request."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from trainapp.calendars import ical
from trainapp.catalogue.models import DeliveryMode, SessionStatus
from trainapp.text import one_line

HOST = "training.example.org"
PAGE = "https://training.example.org/sessions/7"
CREATED = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
CHANGED = datetime(2030, 2, 3, 14, 5, 6, 789000, tzinfo=UTC)  # microseconds never reach the output


def make(
    session_id=7,
    *,
    title="Safeguarding adults",
    starts_at=datetime(2030, 6, 10, 9, 0, tzinfo=UTC),
    hours=3,
    status=SessionStatus.SCHEDULED,
    mode=DeliveryMode.IN_PERSON,
    venue_name="Civic Centre",
    address="Room 4\nCivic Centre\nHigh Street",
    link="",
    sequence=2,
    notes="",
    cancel_reason=None,
    summary="Who to tell, and how.",
):
    """A stand-in for a TrainingSession: the attributes ical reads, and nothing else."""
    venue = (
        None if mode == DeliveryMode.ONLINE else SimpleNamespace(name=venue_name, address=address, updated_at=CREATED)
    )
    return SimpleNamespace(
        id=session_id,
        sequence=sequence,
        created_at=CREATED,
        updated_at=CHANGED,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        status=status,
        course=SimpleNamespace(title=title, summary=summary, updated_at=CREATED),
        venue=venue,
        delivery_mode=mode,
        joining_link=link,
        notes=notes,
        cancel_reason=cancel_reason,
    )


def event(session, **options):
    return ical.session_event(session, host=HOST, page_url=PAGE, options=ical.EventOptions(**options))


def feed_of(*sessions, name="Partnership: training", **options):
    return ical.feed([event(s, **options) for s in sessions], name)


def parsed_events(body: bytes):
    return Calendar.from_ical(body).walk("VEVENT")


def unfolded(body: bytes) -> list[str]:
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


# --- One value stays one value ---------------------------------------------------------------

HOSTILE = [
    "Commas, semicolons; and a back\\slash",
    "Two\nlines",
    "Windows\r\nline end and a lone\rreturn",
    "Forged\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@attacker\r\nSUMMARY:Free lunch",
    "Emoji 🎓🚓 and accents: Zoë, Łódź",
    "Quotes \"double\" and 'single', colon: yes",
    "A very long title " + "x" * 200,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_titles_and_venues_come_out_as_one_escaped_value_and_parse_back(text):
    session = make(title=text, venue_name=text, address=text, notes=text)
    body = feed_of(session)
    # CR and LF cannot be kept apart in iCalendar TEXT: both come back as a line break.
    expected = text.replace("\r\n", "\n").replace("\r", "\n")

    [parsed] = parsed_events(body)
    # Titles and venue names are one line (rows stored before that was checked are made so).
    assert str(parsed["summary"]) == one_line(text)
    assert one_line(text) in str(parsed["location"]) and expected in str(parsed["description"])
    assert str(parsed["uid"]) == f"session-7@{HOST}"
    lines = unfolded(body)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert not any(line.startswith("UID:evil") for line in lines)


def test_lines_are_crlf_terminated_and_folded_at_75_octets():
    body = feed_of(make(title="Ünïcödé " * 40, notes="🎓" * 100))
    assert body.endswith(b"\r\n")
    physical = body.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical)
    assert b"\n" not in body.replace(b"\r\n", b"")
    physical[0].decode("utf-8")  # folding never splits a UTF-8 character
    assert all(line.decode("utf-8") for line in physical)


def test_escaping_is_rfc5545_in_the_raw_bytes():
    lines = unfolded(feed_of(make(title="a,b;c\\d\ne", notes="f,g\nh")))
    [summary] = [line for line in lines if line.startswith("SUMMARY")]
    assert summary == "SUMMARY:a\\,b\\;c\\\\d e"
    [description] = [line for line in lines if line.startswith("DESCRIPTION")]
    assert "f\\,g\\nh" in description


# --- Time zone --------------------------------------------------------------------------------


def test_london_vtimezone_is_in_rrule_form():
    zone = ical.london_vtimezone()
    assert str(zone["tzid"]) == "Europe/London"
    summer, winter = zone.walk("DAYLIGHT")[0], zone.walk("STANDARD")[0]
    for part, month in ((summer, 3), (winter, 10)):
        assert part["rrule"].to_ical().decode() == f"FREQ=YEARLY;BYDAY=-1SU;BYMONTH={month}"
        assert "RDATE" not in part
    assert summer["tzoffsetto"].td == timedelta(hours=1) and winter["tzoffsetto"].td == timedelta(0)
    text = zone.to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text and "RDATE" not in text


@pytest.mark.parametrize("year", [2026, 2030, 2037])
def test_the_vtimezone_gives_the_same_offsets_as_the_tz_database(year):
    """Read back as a zone (not by its name), it agrees with zoneinfo around both changes."""
    ours = ical.london_vtimezone().to_tz(lookup_tzid=False)
    london = ZoneInfo("Europe/London")
    start = datetime(year, 3, 20, tzinfo=UTC)
    for hours in range(0, 24 * 240, 7):
        moment = start + timedelta(hours=hours, minutes=30)
        assert moment.astimezone(ours).utcoffset() == moment.astimezone(london).utcoffset(), moment


def test_times_are_local_with_tzid_and_the_feed_carries_the_zone():
    summer = make(starts_at=datetime(2030, 7, 1, 8, 0, tzinfo=UTC))
    lines = unfolded(feed_of(summer))
    assert "DTSTART;TZID=Europe/London:20300701T090000" in lines
    assert "DTEND;TZID=Europe/London:20300701T120000" in lines
    assert lines.count("BEGIN:VTIMEZONE") == 1 and "X-WR-TIMEZONE:Europe/London" in lines
    [parsed] = parsed_events(feed_of(summer))
    assert parsed.decoded("dtstart").astimezone(UTC) == summer.starts_at


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2030, 10, 27, 0, 30, tzinfo=UTC), "20301027T003000Z"),  # the first 01:30 (BST)
        (datetime(2030, 10, 27, 1, 30, tzinfo=UTC), "20301027T013000Z"),  # the second 01:30 (GMT)
        (datetime(2030, 10, 27, 2, 30, tzinfo=UTC), ";TZID=Europe/London:20301027T023000"),
        (datetime(2030, 10, 26, 23, 59, tzinfo=UTC), ";TZID=Europe/London:20301027T005900"),
        (datetime(2030, 3, 31, 1, 0, tzinfo=UTC), ";TZID=Europe/London:20300331T020000"),  # just after the gap
    ],
)
def test_times_in_the_repeated_october_hour_are_written_in_utc(moment, written):
    """01:30 happens twice on the last Sunday of October; parsers disagree on which a TZID time
    means (ical.js and libical take the second, RFC 5545 the first), so those are written as UTC."""
    session = make(starts_at=moment, hours=1)
    lines = unfolded(feed_of(session))
    assert ("DTSTART" + written if written.startswith(";") else "DTSTART:" + written) in lines
    [parsed] = parsed_events(feed_of(session))
    assert parsed.decoded("dtstart").astimezone(UTC) == moment


def test_an_overnight_session_ending_in_the_second_one_thirty_ends_then():
    session = make(starts_at=datetime(2030, 10, 26, 21, 0, tzinfo=UTC), hours=4.5)  # 22:00 BST to 01:30 GMT
    lines = unfolded(feed_of(session))
    assert "DTSTART;TZID=Europe/London:20301026T220000" in lines and "DTEND:20301027T013000Z" in lines
    [parsed] = parsed_events(feed_of(session))
    assert parsed.decoded("dtend").astimezone(UTC) == session.ends_at


def test_utc_deployments_write_z_times_and_no_vtimezone():
    body = ical.feed([ical.session_event(make(), host=HOST, page_url=PAGE, timezone="UTC")], "x", timezone="UTC")
    lines = unfolded(body)
    assert "DTSTART:20300610T090000Z" in lines and "BEGIN:VTIMEZONE" not in lines


# --- Same data, same bytes -------------------------------------------------------------------


def test_the_same_data_gives_byte_identical_feeds():
    a = feed_of(make(1), make(2, starts_at=datetime(2030, 5, 1, 9, tzinfo=UTC)), make(3))
    b = feed_of(make(3), make(1), make(2, starts_at=datetime(2030, 5, 1, 9, tzinfo=UTC)))
    assert a == b
    [first, *_] = parsed_events(a)
    assert str(first["uid"]) == f"session-2@{HOST}"  # in time order, whatever order the query gave


def test_stamps_come_from_the_row_not_the_clock():
    lines = unfolded(feed_of(make()))
    assert "DTSTAMP:20300203T140506Z" in lines and "LAST-MODIFIED:20300203T140506Z" in lines
    assert "CREATED:20300102T093000Z" in lines


def test_a_later_change_to_the_readers_booking_moves_the_stamp():
    later = CHANGED + timedelta(days=1)
    lines = unfolded(feed_of(make(), modified=later))
    assert "DTSTAMP:20300204T140506Z" in lines and "LAST-MODIFIED:20300204T140506Z" in lines
    assert "DTSTAMP:20300203T140506Z" in unfolded(feed_of(make(), modified=CHANGED - timedelta(days=9)))


def test_uid_and_sequence_follow_the_session():
    lines = unfolded(feed_of(make(42, sequence=5)))
    assert f"UID:session-42@{HOST}" in lines and "SEQUENCE:5" in lines
    assert ical.session_uid(make(42), HOST) == f"session-42@{HOST}"


# --- Statuses and what each reader sees ------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "status", "title"),
    [
        ({}, "CONFIRMED", "Safeguarding adults"),
        (
            {"status": "TENTATIVE", "summary_prefix": "Awaiting approval: "},
            "TENTATIVE",
            "Awaiting approval: Safeguarding adults",
        ),
        ({"status": "TENTATIVE", "summary_prefix": "Waiting list: "}, "TENTATIVE", "Waiting list: Safeguarding adults"),
    ],
)
def test_status_and_summary_prefix(options, status, title):
    [parsed] = parsed_events(feed_of(make(), **options))
    assert str(parsed["status"]) == status and str(parsed["summary"]) == title
    assert str(parsed["transp"]) == "OPAQUE"


@pytest.mark.parametrize("prefix", ["", "Waiting list: ", "Awaiting approval: "])
def test_a_cancelled_session_is_cancelled_for_everyone_whatever_their_booking(prefix):
    session = make(status=SessionStatus.CANCELLED, cancel_reason="Trainer unwell", sequence=3)
    [parsed] = parsed_events(feed_of(session, status="TENTATIVE", summary_prefix=prefix))
    assert str(parsed["status"]) == "CANCELLED"
    assert str(parsed["summary"]) == "Cancelled: Safeguarding adults"
    assert str(parsed["transp"]) == "TRANSPARENT"  # frees the time in the person's diary
    assert str(parsed["description"]).startswith("This session has been cancelled: Trainer unwell")
    assert parsed["sequence"] == 3


def test_location_and_description_carry_venue_address_and_a_link_back():
    [parsed] = parsed_events(feed_of(make(notes="Bring your ID badge.")))
    assert str(parsed["location"]) == "Civic Centre, Room 4, Civic Centre, High Street"
    description = str(parsed["description"])
    assert "Who to tell, and how." in description and "Bring your ID badge." in description
    assert description.endswith(f"Details: {PAGE}")
    assert str(parsed["url"]) == PAGE


@pytest.mark.parametrize(
    ("mode", "location"),
    [
        (DeliveryMode.ONLINE, "Online"),
        (DeliveryMode.HYBRID, "Civic Centre, Room 4, Civic Centre, High Street (and online)"),
    ],
)
def test_the_joining_link_appears_only_when_the_reader_may_have_it(mode, location):
    session = make(mode=mode, link="https://meet.example.org/j/123")
    [without] = parsed_events(feed_of(session))
    [with_link] = parsed_events(feed_of(session, joining_link=True))
    assert str(without["location"]) == location
    assert "meet.example.org" not in without.to_ical().decode()
    assert "Join online: https://meet.example.org/j/123" in str(with_link["description"])


def test_an_in_person_session_never_shows_a_stale_joining_link():
    session = make(mode=DeliveryMode.IN_PERSON, link="https://meet.example.org/old")
    assert b"meet.example.org" not in feed_of(session, joining_link=True)


# --- Feeds and invitations -------------------------------------------------------------------


def test_a_feed_names_itself_asks_for_hourly_refresh_and_has_no_organizer_or_attendee():
    lines = unfolded(feed_of(make(), name="Partnership: my training"))
    assert "NAME:Partnership: my training" in lines and "X-WR-CALNAME:Partnership: my training" in lines
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines and "X-PUBLISHED-TTL:PT1H" in lines
    assert "VERSION:2.0" in lines and f"PRODID:{ical.PRODID}" in lines
    assert not any(line.startswith(("ORGANIZER", "ATTENDEE", "METHOD")) for line in lines)


def test_an_empty_feed_is_still_a_valid_calendar():
    body = ical.feed([], "Nothing yet")
    assert Calendar.from_ical(body).walk("VEVENT") == []
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")


def invite(session, method="REQUEST", stamp=None):
    kwargs = {"stamp": stamp} if stamp else {}
    return ical.invitation(
        event(session, joining_link=method == "REQUEST"),
        method=method,
        organiser="training@example.org",
        organiser_name="Partnership, Training Team",
        attendee="zoe@agency.example.org",
        attendee_name="Zoë Adams",
        **kwargs,
    )


def test_an_invitation_is_a_request_from_the_training_mailbox_to_the_learner():
    body = invite(make(sequence=4))
    calendar = Calendar.from_ical(body)
    assert str(calendar["method"]) == "REQUEST"
    assert "NAME" not in calendar and "REFRESH-INTERVAL" not in calendar
    [parsed] = calendar.walk("VEVENT")
    assert str(parsed["uid"]) == f"session-7@{HOST}" and parsed["sequence"] == 4
    organizer = parsed["organizer"]
    assert str(organizer) == "mailto:training@example.org" and organizer.params["CN"] == "Partnership, Training Team"
    attendee = parsed["attendee"]
    assert str(attendee) == "mailto:zoe@agency.example.org" and attendee.params["CN"] == "Zoë Adams"
    assert attendee.params["PARTSTAT"] == "ACCEPTED" and attendee.params["RSVP"] == "FALSE"
    assert str(parsed["status"]) == "CONFIRMED"
    assert len(calendar.walk("VTIMEZONE")) == 1


def test_a_cancellation_is_a_cancel_with_the_same_uid_and_sequence():
    body = invite(make(sequence=4), method="CANCEL")
    calendar = Calendar.from_ical(body)
    assert str(calendar["method"]) == "CANCEL"
    [parsed] = calendar.walk("VEVENT")
    assert str(parsed["uid"]) == f"session-7@{HOST}" and parsed["sequence"] == 4
    assert str(parsed["status"]) == "CANCELLED" and parsed["attendee"].params["PARTSTAT"] == "DECLINED"


def test_an_invitation_is_stamped_when_it_is_sent():
    """RFC 5545: with METHOD, DTSTAMP is when the message was made, so a CANCEL after a REQUEST
    with the same SEQUENCE (a person cancelling their own place) is newer, not a duplicate."""
    sent = datetime(2030, 2, 10, 8, 0, 1, tzinfo=UTC)
    [parsed] = Calendar.from_ical(invite(make(), method="CANCEL", stamp=sent)).walk("VEVENT")
    assert parsed.decoded("dtstamp") == sent
    assert parsed.decoded("last-modified") == CHANGED.replace(microsecond=0)


def test_the_invitation_does_not_change_the_feed_event():
    session = make()
    before = event(session).to_ical()
    built = event(session)
    ical.invitation(
        built,
        method="REQUEST",
        organiser="a@example.org",
        organiser_name="A",
        attendee="b@example.org",
        attendee_name="B",
    )
    assert built.to_ical() == before and b"ATTENDEE" not in before


def test_a_description_keeps_its_line_breaks_and_loses_other_control_characters():
    [parsed] = parsed_events(feed_of(make(notes="Bring:\r\n  a pen\x1b[0m\tand\x00 paper\u2028")))
    assert "Bring:\n  a pen [0m and  paper\n" in str(parsed["description"])
