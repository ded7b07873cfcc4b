"""The session form, turned into SessionDetails and back.

Shared by the page that adds sessions and series (catalogue) and the page that changes a
session (bookings, because a change can move places): route modules never import each other.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort

from trainapp.accounts.models import User
from trainapp.catalogue import queries
from trainapp.catalogue.forms import SessionForm
from trainapp.catalogue.models import DeliveryMode, TrainingSession, Venue
from trainapp.catalogue.services import SessionDetails
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import validated
from trainapp.timezones import UnclearLocalTime, local_to_utc, to_local


def fill_session_choices(form) -> None:
    form.course.choices = [(0, "Choose a course")] + queries.course_choices(True)
    form.venue.choices = [(0, "No venue (online)")] + [(v.id, v.name) for v in queries.venues()]
    form.trainers.choices = [(t.id, f"{t.name} ({t.role.label.lower()})") for t in queries.trainers()]


def chosen(model, ids: list[int]) -> list:
    """The rows picked in a form, or 400 when one of them does not exist."""
    found = list(db.session.scalars(sa.select(model).where(model.id.in_(ids)))) if ids else []
    if len(found) != len(set(ids)):
        abort(400)
    return found


def template_details(form) -> SessionDetails:
    """Everything but the dates: what every session of a series shares."""
    venue = db.session.get(Venue, form.venue.data) if form.venue.data else None
    if form.venue.data and venue is None:
        abort(400)
    return SessionDetails(
        starts_at=datetime.min,
        ends_at=datetime.min,
        delivery_mode=DeliveryMode(form.delivery_mode.data),
        venue=venue,
        joining_link=(form.joining_link.data or "").strip(),
        capacity=form.capacity.data,
        trainers=chosen(User, form.trainers.data or []),
        notes=form.notes.data or "",
    )


def local(day: date, at: time, field: str) -> datetime:
    try:
        return local_to_utc(day, at)
    except UnclearLocalTime as error:
        raise DomainError(str(error), field) from error


def session_details(form: SessionForm) -> SessionDetails:
    details = template_details(form)
    day = validated(form.day.data)
    details.starts_at = local(day, validated(form.start_time.time), "start_time")
    details.ends_at = local(form.end_day.data or day, validated(form.end_time.time), "end_time")
    if form.booking_opens_on.data:
        details.booking_opens_at = local(form.booking_opens_on.data, time(0), "booking_opens_on")
    if form.booking_closes_on.data:
        end_of_day = local(form.booking_closes_on.data + timedelta(days=1), time(0), "booking_closes_on")
        details.booking_closes_at = min(end_of_day, details.starts_at)
    return details


def fill_from_session(form: SessionForm, session: TrainingSession) -> None:
    starts, ends = to_local(session.starts_at), to_local(session.ends_at)
    form.course.data = session.course_id
    form.day.data = starts.date()
    form.start_time.data = f"{starts:%H:%M}"
    form.end_time.data = f"{ends:%H:%M}"
    form.end_day.data = ends.date() if ends.date() != starts.date() else None
    form.delivery_mode.data = session.delivery_mode.value
    form.venue.data = session.venue_id or 0
    form.joining_link.data = session.joining_link
    form.capacity.data = session.capacity
    form.trainers.data = [t.id for t in session.trainers]
    form.notes.data = session.notes
    if session.booking_opens_at:
        form.booking_opens_on.data = to_local(session.booking_opens_at).date()
    if session.booking_closes_at:
        form.booking_closes_on.data = to_local(session.booking_closes_at).date()
