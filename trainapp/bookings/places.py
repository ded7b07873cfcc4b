"""Places left: the one count every page, filter and list shows.

It follows the rules the locked section sells places by (``capacity.Availability``): a
person may take a place from the general pool, or one held for their own agency and not yet
taken; places held for other agencies are not open to them. A cancelled session, or one that
has started, has no places to offer at all (NULL, so pages show no count and filters skip it).

The count is a SQL expression correlated to ``TrainingSession``, so a list can filter and
paginate on it in the database. Catalogue pages reach it through ``trainapp.catalogue.places``,
which ``connect`` answers when the app is created: the catalogue never imports bookings.
"""

from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from flask_login import current_user

from trainapp.accounts.models import User
from trainapp.bookings.models import HOLDING, AgencyReservation, Booking
from trainapp.bookings.queries import SessionPanel, session_panel
from trainapp.catalogue import places as catalogue_places
from trainapp.catalogue.models import SessionStatus, TrainingSession


def _held(now: datetime):
    return (AgencyReservation.released_at.is_(None), AgencyReservation.release_at > now)


def _holding_bookings(*conditions):
    # A walk-in came without a place, so takes none (as in capacity.availability).
    return (
        sa.select(sa.func.count(Booking.id))
        .where(
            Booking.session_id == TrainingSession.id,
            Booking.status.in_(HOLDING),
            Booking.is_walk_in.is_(False),
            *conditions,
        )
        .scalar_subquery()
    )


def _not_negative(value):
    return sa.case((value > 0, value), else_=0)


def places_left_column(agency_id: int | None, now: datetime) -> sa.ColumnElement:
    """Places someone from this agency (None: no agency) could still book on each session."""
    held_places = (
        sa.select(sa.func.coalesce(sa.func.sum(AgencyReservation.places), 0))
        .where(AgencyReservation.session_id == TrainingSession.id, *_held(now))
        .scalar_subquery()
    )
    taken = _holding_bookings()
    # Places taken from an agency's held places come out of those, not out of the general pool;
    # once the hold is released they count against the pool like any other.
    taken_from_held = _holding_bookings(
        sa.exists().where(
            AgencyReservation.session_id == Booking.session_id,
            AgencyReservation.agency_id == Booking.reserved_for_agency_id,
            *_held(now),
        )
    )
    general_left = _not_negative(TrainingSession.capacity - held_places - (taken - taken_from_held))
    if agency_id is None:
        left = general_left
    else:
        mine = (
            sa.select(sa.func.coalesce(sa.func.sum(AgencyReservation.places), 0))
            .where(
                AgencyReservation.session_id == TrainingSession.id,
                AgencyReservation.agency_id == agency_id,
                *_held(now),
            )
            .scalar_subquery()
        )
        taken_from_mine = _holding_bookings(Booking.reserved_for_agency_id == agency_id)
        left = general_left + _not_negative(mine - taken_from_mine)
    return sa.case(
        (
            sa.or_(TrainingSession.status == SessionStatus.CANCELLED, TrainingSession.starts_at <= now),
            sa.null(),
        ),
        else_=left,
    )


def places_left_for(viewer: User, now: datetime) -> sa.ColumnElement:
    return places_left_column(viewer.agency_id, now)


def _booking_panel(session: TrainingSession, now: datetime) -> SessionPanel:
    return session_panel(session, current_user, now)


def connect(app: Flask) -> None:
    """Let catalogue pages show places left and the booking panel without importing bookings."""
    catalogue_places.answer_with(app, places_left_for)
    app.add_template_global(_booking_panel, "booking_panel")
