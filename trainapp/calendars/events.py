"""Sessions as calendar events in this deployment: its host for UIDs, its links, its zone."""

from urllib.parse import urlsplit

from flask import current_app
from icalendar import Event

from trainapp.calendars import ical, writer
from trainapp.catalogue.models import TrainingSession
from trainapp.db import utcnow
from trainapp.filters import external_url


def uid_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def event_for(
    session: TrainingSession, options: ical.EventOptions = ical.EventOptions(), sequence: int | None = None
) -> Event:
    return ical.session_event(
        session,
        host=uid_host(),
        page_url=external_url("catalogue.show_session", session_id=session.id),
        options=options,
        timezone=current_app.config["TIMEZONE"],
        sequence=sequence,
    )


def invitation_for(
    session: TrainingSession, *, name: str, email: str, cancel: bool, sequence: int | None = None
) -> str:
    """A REQUEST (add or update) or CANCEL (remove) for the person's own calendar.

    ``sequence`` is the one chosen for this person (see bookings.messages); the session's own
    counter when not given."""
    config = current_app.config
    event = event_for(session, ical.EventOptions(joining_link=not cancel), sequence=sequence)
    return ical.invitation(
        event,
        method="CANCEL" if cancel else "REQUEST",
        organiser=config["MAIL_FROM"],
        organiser_name=config["ORGANISATION_NAME"],
        attendee=email,
        attendee_name=name,
        timezone=config["TIMEZONE"],
        stamp=utcnow(),
    ).decode("utf-8")


_PLACEHOLDER = 987654321


def feed_settings() -> tuple:
    """Everything a feed's bytes depend on besides its rows: part of every feed's validator."""
    config = current_app.config
    return (config["BASE_URL"], config["TIMEZONE"], config["ORGANISATION_NAME"])


def write_feed(pairs: list[tuple[TrainingSession, ical.EventOptions]], name: str) -> bytes:
    """A feed's bytes, written directly (trainapp.calendars.writer)."""
    # Built once and filled in: building every session's link through the URL map cost more
    # than writing its event.
    before, after = external_url("catalogue.show_session", session_id=_PLACEHOLDER).split(str(_PLACEHOLDER))

    def page_url(session_id: int) -> str:
        return f"{before}{session_id}{after}"

    return writer.feed(pairs, name, host=uid_host(), page_url=page_url, timezone=current_app.config["TIMEZONE"])
