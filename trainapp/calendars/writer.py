"""Feeds written as iCalendar text directly (RFC 5545), for the calendars programs poll.

A feed of thousands of events built through icalendar's component objects cost ~200 µs an
event; writing the lines here costs a few. What each event says comes from the same functions
ical.session_event uses, so a feed and an invitation never disagree; icalendar still writes
invitations, and the tests read both back with it.

Text values are escaped (backslash, semicolon, comma, line break; other control characters
become spaces), lines end in CRLF and are folded at 75 octets, never inside a UTF-8 character.
The same sessions give the same bytes, so the feed's validator can stand for its bytes.
"""

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache

from trainapp.calendars import ical
from trainapp.catalogue.models import SessionStatus, TrainingSession
from trainapp.text import one_line

CRLF = b"\r\n"
LIMIT = 75  # octets in a line, not counting its CRLF (RFC 5545 3.1)

_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): one value whatever it holds, read back as it was."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROLS.sub(" ", value)


def fold(line: bytes) -> bytes:
    """One content line, folded so no physical line passes 75 octets, ending in CRLF.

    A fold goes before a UTF-8 continuation byte's character, never between its bytes; a
    continuation line's leading space counts towards its 75."""
    if len(line) <= LIMIT:
        return line + CRLF
    parts, start, limit, end = [], 0, LIMIT, len(line)
    while end - start > limit:
        cut = start + limit
        while line[cut] & 0xC0 == 0x80:
            cut -= 1
        parts.append(line[start:cut])
        start, limit = cut, LIMIT - 1
    parts.append(line[start:])
    return b"\r\n ".join(parts) + CRLF


def content_line(name: str, value: str) -> bytes:
    return fold(f"{name}:{value}".encode())


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _time(name: str, moment: datetime, timezone: str) -> bytes:
    local = ical.local_time(moment, timezone)
    if local.tzinfo is UTC:
        return content_line(name, local.strftime("%Y%m%dT%H%M%SZ"))
    return content_line(f"{name};TZID={timezone}", local.strftime("%Y%m%dT%H%M%S"))


@cache
def _zone(timezone: str) -> bytes:
    return ical.london_vtimezone().to_ical() if timezone == ical.LONDON else b""


def event(session: TrainingSession, options: ical.EventOptions, *, host: str, page_url: str, timezone: str) -> bytes:
    """One VEVENT meaning what ical.session_event means, in icalendar's property order."""
    modified = _utc(ical.modified_at(session, options))
    cancelled = session.status == SessionStatus.CANCELLED
    return b"".join(
        [
            b"BEGIN:VEVENT\r\n",
            content_line("SUMMARY", text(ical.summary(session, options))),
            _time("DTSTART", session.starts_at, timezone),
            _time("DTEND", session.ends_at, timezone),
            content_line("DTSTAMP", modified),
            content_line("UID", text(ical.session_uid(session, host))),
            content_line("SEQUENCE", str(session.sequence)),
            content_line("CREATED", _utc(session.created_at)),
            content_line("DESCRIPTION", text(ical.description(session, options, page_url))),
            content_line("LAST-MODIFIED", modified),
            content_line("LOCATION", text(ical.location(session))),
            content_line("STATUS", ical.status(session, options)),
            b"TRANSP:TRANSPARENT\r\n" if cancelled else b"TRANSP:OPAQUE\r\n",
            content_line("URL", page_url),
            b"END:VEVENT\r\n",
        ]
    )


def feed(
    pairs: Iterable[tuple[TrainingSession, ical.EventOptions]],
    name: str,
    *,
    host: str,
    page_url: Callable[[int], str],
    timezone: str = ical.LONDON,
) -> bytes:
    """A subscribable calendar, as ical.feed writes it: no ORGANIZER or ATTENDEE, events in
    order of start, then UID."""
    name = text(one_line(name))
    head = [
        b"BEGIN:VCALENDAR\r\n",
        b"VERSION:2.0\r\n",
        content_line("PRODID", ical.PRODID),
        b"CALSCALE:GREGORIAN\r\n",
        content_line("NAME", name),
        content_line("X-WR-CALNAME", name),
        b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n",
        b"X-PUBLISHED-TTL:PT1H\r\n",
    ]
    if timezone == ical.LONDON:
        head += [b"X-WR-TIMEZONE:Europe/London\r\n", _zone(timezone)]
    ordered = sorted(pairs, key=lambda pair: (pair[0].starts_at, ical.session_uid(pair[0], host)))
    events = [
        event(session, options, host=host, page_url=page_url(session.id), timezone=timezone)
        for session, options in ordered
    ]
    return b"".join([*head, *events, b"END:VCALENDAR\r\n"])
