"""Pure functions from sessions to iCalendar (RFC 5545 / 7986). No database, no request.

The same data always gives the same bytes: DTSTAMP and LAST-MODIFIED come from the
session's row, and events are sorted, so feeds can carry strong ETags.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vText

from trainapp.catalogue.models import DeliveryMode, SessionStatus, TrainingSession
from trainapp.text import lines_only, one_line

PRODID = "-//trainapp//Partnership training//EN"
LONDON = "Europe/London"


@dataclass(frozen=True)
class EventOptions:
    """How one session appears: its status for this reader and how much it may show."""

    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    summary_prefix: str = ""
    joining_link: bool = False  # only for people with a place
    modified: datetime | None = None  # when this reader's view last changed, if later than the session


def changed_at(session: TrainingSession) -> datetime:
    """When what an event shows last changed: the session, its course or its venue."""
    stamps = [session.updated_at, session.course.updated_at]
    if session.venue is not None:
        stamps.append(session.venue.updated_at)
    return max(stamps)


def session_uid(session: TrainingSession, host: str) -> str:
    """The one UID a session has everywhere: feeds, downloads and emails."""
    return f"session-{session.id}@{host}"


def london_vtimezone() -> Timezone:
    """Europe/London in RRULE form: last Sunday of March and of October.

    icalendar's generated zone (RDATE form) was read an hour out in summer by ical.js
    and vobject; this form is read the same by every parser tried.
    """
    zone = Timezone()
    zone.add("tzid", LONDON)
    zone.add("x-lic-location", LONDON)
    summer = TimezoneDaylight()
    summer.add("tzname", "BST")
    summer.add("dtstart", datetime(1970, 3, 29, 1, 0, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    summer.add("tzoffsetfrom", timedelta(hours=0))
    summer.add("tzoffsetto", timedelta(hours=1))
    winter = TimezoneStandard()
    winter.add("tzname", "GMT")
    winter.add("dtstart", datetime(1970, 10, 25, 2, 0, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    winter.add("tzoffsetfrom", timedelta(hours=1))
    winter.add("tzoffsetto", timedelta(hours=0))
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def local_time(moment: datetime, timezone: str) -> datetime:
    if timezone == LONDON:
        local = moment.astimezone(ZoneInfo(LONDON))
        # 01:xx happens twice on the October change day, and parsers disagree on which a TZID
        # time means (RFC 5545 and icalendar: the first; ical.js and libical: the second), so
        # the instants in that hour are written in UTC instead.
        if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
            return local
    return moment.astimezone(UTC)  # UTC ("Z"): correct everywhere, with no zone definition to trust


def location(session: TrainingSession) -> str:
    if session.venue is not None:
        # Names stored before one-line fields refused line breaks are made one line here.
        address = ", ".join(one_line(line) for line in session.venue.address.splitlines() if one_line(line))
        name = one_line(session.venue.name)
        place = f"{name}, {address}" if address else name
        return place if session.delivery_mode == DeliveryMode.IN_PERSON else f"{place} (and online)"
    return "Online"


def modified_at(session: TrainingSession, options: EventOptions) -> datetime:
    """DTSTAMP and LAST-MODIFIED: the session's change, or the reader's if later."""
    return max(changed_at(session), options.modified) if options.modified else changed_at(session)


def summary(session: TrainingSession, options: EventOptions) -> str:
    prefix = "Cancelled: " if session.status == SessionStatus.CANCELLED else options.summary_prefix
    return prefix + one_line(session.course.title)


def status(session: TrainingSession, options: EventOptions) -> str:
    return "CANCELLED" if session.status == SessionStatus.CANCELLED else options.status


def description(session: TrainingSession, options: EventOptions, page_url: str) -> str:
    lines = [session.course.summary.strip()]
    if session.status == SessionStatus.CANCELLED and session.cancel_reason:
        lines.insert(0, f"This session has been cancelled: {session.cancel_reason}")
    if session.notes:
        lines.append(session.notes.strip())
    if options.joining_link and session.delivery_mode != DeliveryMode.IN_PERSON and session.joining_link:
        lines.append(f"Join online: {session.joining_link}")
    lines.append(f"Details: {page_url}")
    return lines_only("\n\n".join(line for line in lines if line))


def session_event(
    session: TrainingSession,
    *,
    host: str,
    page_url: str,
    options: EventOptions = EventOptions(),
    timezone: str = LONDON,
    sequence: int | None = None,
) -> Event:
    """One session as a VEVENT; ``sequence`` overrides the session's for one person's invitation."""
    event = Event()
    event.add("uid", session_uid(session, host))
    event.add("sequence", session.sequence if sequence is None else sequence)
    modified = modified_at(session, options)
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("created", session.created_at)
    event.add("dtstart", local_time(session.starts_at, timezone))
    event.add("dtend", local_time(session.ends_at, timezone))
    cancelled = session.status == SessionStatus.CANCELLED
    event.add("summary", vText(summary(session, options)))
    event.add("status", status(session, options))
    event.add("location", vText(location(session)))
    event.add("description", vText(description(session, options, page_url)))
    event.add("url", page_url)
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def _calendar(name: str | None, timezone: str, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        name = one_line(name)
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
    if timezone == LONDON:
        calendar.add("x-wr-timezone", LONDON)
        calendar.add_component(london_vtimezone())
    return calendar


def feed(events: list[Event], name: str, *, timezone: str = LONDON) -> bytes:
    """A subscribable calendar: no ORGANIZER or ATTENDEE, events in a stable order."""
    calendar = _calendar(name, timezone)
    for event in sorted(events, key=lambda e: (e.decoded("dtstart"), str(e["uid"]))):
        calendar.add_component(event)
    return calendar.to_ical()


def invitation(
    event: Event,
    *,
    method: str,
    organiser: str,
    organiser_name: str,
    attendee: str,
    attendee_name: str,
    timezone: str = LONDON,
    stamp: datetime | None = None,
) -> bytes:
    """An iTIP REQUEST or CANCEL for one person, so mail programs offer to add or remove it."""
    event = Event.from_ical(event.to_ical())  # type: ignore[assignment]  # icalendar hints every from_ical as Component
    if stamp is not None:
        # With a METHOD, DTSTAMP is when the message was made (RFC 5545 3.8.7.2): a CANCEL after
        # a REQUEST with the same SEQUENCE must look newer to the mail program, not a duplicate.
        del event["dtstamp"]
        event.add("dtstamp", stamp)
    organizer = vCalAddress(f"mailto:{organiser}")
    organizer.params["cn"] = vText(one_line(organiser_name))
    event.add("organizer", organizer)
    person = vCalAddress(f"mailto:{attendee}")
    # A name with a line break would end the ATTENDEE line and start properties of its own.
    person.params["cn"] = vText(one_line(attendee_name))
    person.params["role"] = vText("REQ-PARTICIPANT")
    person.params["partstat"] = vText("ACCEPTED" if method == "REQUEST" else "DECLINED")
    person.params["rsvp"] = vText("FALSE")
    event.add("attendee", person)
    if method == "CANCEL":
        event["status"] = "CANCELLED"
    calendar = _calendar(None, timezone, method=method)
    calendar.add_component(event)
    return calendar.to_ical()
