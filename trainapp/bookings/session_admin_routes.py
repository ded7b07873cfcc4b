"""Coordinators change, cancel and cancel series of sessions: changes that move people's places."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from trainapp.accounts.access import coordinator_only
from trainapp.acting import act
from trainapp.bookings import session_lifecycle
from trainapp.bookings.forms import CancelSeriesForm
from trainapp.catalogue.form_details import fill_from_session, fill_session_choices, session_details
from trainapp.catalogue.forms import CancelSessionForm, SessionForm
from trainapp.catalogue.models import SessionSeries, TrainingSession
from trainapp.catalogue.places import places_left
from trainapp.catalogue.services import Clash, clashes_in
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.forms import flash_error

bp = Blueprint("session_admin", __name__)


def _session_page(session_id: int):
    return redirect(url_for("catalogue.show_session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_session(session_id: int):
    session = db.get_or_404(TrainingSession, session_id)
    if session.is_cancelled:
        flash_error("A cancelled session cannot be changed.")
        return _session_page(session.id)
    form = SessionForm()
    fill_session_choices(form)
    if not form.is_submitted():
        fill_from_session(form, session)
    clashes: list[Clash] = []
    if form.validate_on_submit():
        response = act(
            form,
            lambda: session_lifecycle.change_session(
                session.id, session_details(form), by=current_user, confirm_clashes=form.confirm_clashes.data
            ),
            success="The session has been saved.",
            redirect_to=url_for("catalogue.show_session", session_id=session.id),
            on_error=lambda error: clashes.extend(clashes_in(error)),
        )
        if response is not None:
            return response
    return render_template("catalogue/session_form.html", form=form, session=session, clashes=clashes)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@coordinator_only
def cancel_session(session_id: int):
    session = db.get_or_404(TrainingSession, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: session_lifecycle.cancel_session(session.id, by=current_user, reason=form.reason.data),
            success="The session has been cancelled. Everyone booked or waiting has been told.",
            redirect_to=url_for("catalogue.show_session", session_id=session.id),
        )
        if response is not None:
            return response
    return render_template("catalogue/session_cancel.html", form=form, session=session)


def _series_page(series: SessionSeries, form: CancelSeriesForm, status: int = 200):
    places = places_left(series.sessions, current_user, utcnow())
    return render_template("catalogue/series.html", series=series, form=form, places=places), status


@bp.route("/series/<int:series_id>")
@coordinator_only
def show_series(series_id: int):
    return _series_page(db.get_or_404(SessionSeries, series_id), CancelSeriesForm())


@bp.route("/series/<int:series_id>/cancel", methods=["POST"])
@coordinator_only
def cancel_series(series_id: int):
    series = db.get_or_404(SessionSeries, series_id)
    form = CancelSeriesForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: session_lifecycle.cancel_series(
                series.id,
                by=current_user,
                reason=form.reason.data,
                from_on=form.from_on.data if form.which.data == "from" else None,
            ),
            success=lambda cancelled: (
                f"{len(cancelled)} session{'s have' if len(cancelled) != 1 else ' has'} been cancelled. "
                "Everyone booked or waiting has been told."
            ),
            redirect_to=url_for("session_admin.show_series", series_id=series.id),
        )
        if response is not None:
            return response
    return _series_page(series, form, 400)
