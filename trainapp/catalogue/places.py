"""Places left on sessions, as the person looking may book them.

The count depends on bookings and on places held for agencies, which sit above the
catalogue. So the catalogue only asks the question here; bookings answers it with one SQL
expression (``trainapp.bookings.places``), handed over when the app is created, as signal
receivers are. Catalogue queries then filter and paginate on it in the database, and never
import bookings.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app

from trainapp.accounts.models import User
from trainapp.catalogue.models import TrainingSession
from trainapp.extensions import db

_ANSWER = "trainapp.places_left"

PlacesLeftColumn = Callable[[User, datetime], sa.ColumnElement]


def answer_with(app: Flask, column: PlacesLeftColumn) -> None:
    app.extensions[_ANSWER] = column


def places_left_column(viewer: User, now: datetime) -> sa.ColumnElement:
    """Places the viewer could book on each ``TrainingSession`` row; NULL when it takes no bookings."""
    return current_app.extensions[_ANSWER](viewer, now)


def places_left(sessions: Iterable[TrainingSession], viewer: User, now: datetime) -> dict[int, int | None]:
    """Places left on each session for this viewer, in one query, by session id."""
    ids = [session.id for session in sessions]
    if not ids:
        return {}
    column = places_left_column(viewer, now)
    return dict(
        db.session.execute(sa.select(TrainingSession.id, column).where(TrainingSession.id.in_(ids))).tuples().all()
    )
