"""trainapp.calendars.writer: feeds written as iCalendar text directly, read back by icalendar.

The writer must mean exactly what ical.feed (icalendar's component objects) means for the same
sessions: the same events with the same properties and values.
"""

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from tests.calendars.test_ical import HOST, HOSTILE, PAGE, make
from trainapp.calendars import ical, writer
from trainapp.catalogue.models import DeliveryMode, SessionStatus

NAME = "Partnership: training"


def old_feed(pairs, name=NAME, timezone=ical.LONDON):
    events = [
        ical.session_event(session, host=HOST, page_url=PAGE, options=options, timezone=timezone)
        for session, options in pairs
    ]
    return ical.feed(events, name, timezone=timezone)


def new_feed(pairs, name=NAME, timezone=ical.LONDON):
    return writer.feed(pairs, name, host=HOST, page_url=lambda session_id: PAGE, timezone=timezone)


def meaning(body: bytes):
    """What a reader takes from a feed: its properties, its zones and its events, in order."""
    calendar = Calendar.from_ical(body)

    def props(component):
        return sorted((name, component[name].to_ical(), sorted(component[name].params.items())) for name in component)

    return (
        props(calendar),
        [props(zone) for zone in calendar.walk("VTIMEZONE")],
        [[props(part) for part in zone.subcomponents] for zone in calendar.walk("VTIMEZONE")],
        [props(event) for event in calendar.walk("VEVENT")],
        [{name: event.decoded(name) for name in event} for event in calendar.walk("VEVENT")],
    )


def physical_lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n")
    return body[:-2].split(b"\r\n")


# --- Folding ---------------------------------------------------------------------------------

FOLDING = [
    "a" * 200,
    "🎓" * 60,  # four octets each
    "日本語の研修" * 20,  # three octets each
    "e\u0301" * 80,  # a letter and a combining accent: "é" in two code points
    "x" + "🚓" * 40 + "ab" + "Zoë" * 30,  # every offset against the 75-octet limit
    "Ł" * 38 + "y",
]


@pytest.mark.parametrize("text", FOLDING)
def test_lines_fold_at_75_octets_and_never_inside_a_character(text):
    body = writer.content_line("SUMMARY", writer.text(text))
    lines = physical_lines(body)
    assert all(len(line) <= 75 for line in lines), [len(line) for line in lines]
    assert all(line.startswith(b" ") for line in lines[1:])
    for line in lines:
        line.decode("utf-8")  # raises if a character was cut in two
    assert len(lines) > 1
    # Full lines: no fold earlier than it had to be, except to keep a character whole.
    assert all(len(line) > 75 - 4 for line in lines[:-1])
    unfolded = body.replace(b"\r\n ", b"")
    assert unfolded == b"SUMMARY:" + text.encode() + b"\r\n"


def test_a_line_of_exactly_75_octets_is_not_folded():
    body = writer.content_line("SUMMARY", writer.text("a" * (75 - len("SUMMARY:"))))
    assert physical_lines(body) == [b"SUMMARY:" + b"a" * 67]
    assert len(physical_lines(writer.content_line("SUMMARY", writer.text("a" * 68)))) == 2


@pytest.mark.parametrize("text", FOLDING)
def test_folded_text_reads_back_the_same_in_icalendar(text):
    session = make(title=text[:200], notes=text, venue_name=text[:60])
    body = new_feed([(session, ical.EventOptions())])
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == text[:200]
    assert text in str(event["description"])
    assert unicodedata.normalize("NFC", str(event["summary"])) == unicodedata.normalize("NFC", text[:200])


# --- Escaping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("a,b", r"a\,b"),
        ("a;b", r"a\;b"),
        ("a\\b", r"a\\b"),
        ("a\nb", r"a\nb"),
        ("a\r\nb", r"a\nb"),
        ("a\rb", r"a\nb"),
        ("a\x00b\x1bc\x7fd", "a b c d"),
        ("tab\there", "tab\there"),
        ("\\n is not a line break", r"\\n is not a line break"),
    ],
)
def test_text_is_escaped_per_rfc_5545(raw, written):
    assert writer.text(raw) == written


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_stays_inside_its_own_value(hostile):
    session = make(title=hostile, notes=hostile, venue_name=hostile, address=hostile, cancel_reason=hostile)
    body = new_feed([(session, ical.EventOptions()), (make(8, title="Second"), ical.EventOptions())])
    lines = physical_lines(body)
    assert b"\r" not in b"".join(lines) and b"\n" not in b"".join(lines)
    assert not any(0 < byte < 32 and byte != 9 for byte in body.replace(b"\r\n", b""))
    events = Calendar.from_ical(body).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"session-7@{HOST}", f"session-8@{HOST}"]
    assert meaning(body) == meaning(
        old_feed([(session, ical.EventOptions()), (make(8, title="Second"), ical.EventOptions())])
    )


def test_lines_end_in_crlf_only():
    body = new_feed([(make(title="Two\nlines", notes="More\r\nlines\rhere"), ical.EventOptions())])
    assert body.count(b"\n") == body.count(b"\r\n") and body.count(b"\r") == body.count(b"\r\n")
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")


# --- The same meaning as icalendar's output ----------------------------------------------------

CASES = {
    "in person": [make()],
    "hybrid with link and notes": [
        make(mode=DeliveryMode.HYBRID, link="https://meet.example.org/x", notes="Park; behind, \\ it")
    ],
    "online": [make(mode=DeliveryMode.ONLINE, link="https://meet.example.org/y")],
    "cancelled": [make(status=SessionStatus.CANCELLED, cancel_reason="Trainer unwell, sorry; really")],
    "several, out of order": [
        make(3, starts_at=datetime(2030, 7, 1, 9, tzinfo=UTC)),
        make(1, starts_at=datetime(2030, 6, 1, 9, tzinfo=UTC)),
        make(2, starts_at=datetime(2030, 6, 1, 9, tzinfo=UTC)),
    ],
    "in the repeated hour of October": [make(starts_at=datetime(2030, 10, 27, 0, 30, tzinfo=UTC))],
    "winter": [make(starts_at=datetime(2030, 1, 14, 9, tzinfo=UTC))],
    "no venue address": [make(address="")],
    "empty summary": [make(summary="")],
    "no events": [],
}

OPTIONS = [
    ical.EventOptions(),
    ical.EventOptions(status="TENTATIVE", summary_prefix="Waiting list: "),
    ical.EventOptions(status="TENTATIVE", summary_prefix="Awaiting approval: ", joining_link=True),
    ical.EventOptions(joining_link=True, modified=datetime(2031, 1, 1, 8, 0, 1, 5, tzinfo=UTC)),
    ical.EventOptions(status="CANCELLED"),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: o.summary_prefix or o.status)
@pytest.mark.parametrize("timezone", [ical.LONDON, "UTC"])
def test_the_writer_means_what_icalendar_wrote(case, options, timezone):
    pairs = [(session, options) for session in CASES[case]]
    new = new_feed(pairs, timezone=timezone)
    assert meaning(new) == meaning(old_feed(pairs, timezone=timezone))


def test_the_same_data_gives_the_same_bytes():
    pairs = [
        (make(n, starts_at=datetime(2030, 6, 1, 9, tzinfo=UTC) + timedelta(days=n % 3)), ical.EventOptions())
        for n in range(20)
    ]
    assert new_feed(pairs) == new_feed(list(reversed(pairs)))


def test_the_zone_is_written_as_icalendar_writes_it():
    body = new_feed([(make(), ical.EventOptions())])
    assert ical.london_vtimezone().to_ical() in body
    assert b"X-WR-TIMEZONE:Europe/London\r\n" in body
    assert b"VTIMEZONE" not in new_feed([(make(), ical.EventOptions())], timezone="UTC")
