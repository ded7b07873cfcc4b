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


def _unused(reservation_conditions, now: datetime):
    """Places held by the matching reservations and not yet taken from them, per session row."""
    # A walk-in came without a place, so takes none (as in capacity.availability).
    taken = (
        sa.select(sa.func.count(Booking.id))
        .where(
            Booking.session_id == AgencyReservation.session_id,
            Booking.reserved_for_agency_id == AgencyReservation.agency_id,
            Booking.status.in_(HOLDING),
            Booking.is_walk_in.is_(False),
        )
        .scalar_subquery()
    )
    return AgencyReservation.places - taken, (
        AgencyReservation.session_id == TrainingSession.id,
        *reservation_conditions,
        *_held(now),
    )


def _not_negative(value):
    return sa.case((value > 0, value), else_=0)


def places_left_column(agency_id: int | None, now: datetime) -> sa.ColumnElement:
    """Places someone from this agency (None: no agency) could still book on each session.

    Places taken come from the session's own counter (kept in the locked section); only
    sessions with places held for agencies look further, at those reservations' bookings."""
    # Places taken from an agency's held places come out of those, not out of the general pool;
    # once the hold is released they count against the pool like any other.
    unused, where = _unused((), now)
    held_unused = sa.select(sa.func.coalesce(sa.func.sum(unused), 0)).where(*where).scalar_subquery()
    general_left = _not_negative(TrainingSession.capacity - TrainingSession.places_taken - held_unused)
    if agency_id is None:
        left = general_left
    else:
        mine_unused, mine_where = _unused((AgencyReservation.agency_id == agency_id,), now)
        mine = sa.select(_not_negative(mine_unused)).where(*mine_where).scalar_subquery()
        left = general_left + sa.func.coalesce(mine, 0)
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
