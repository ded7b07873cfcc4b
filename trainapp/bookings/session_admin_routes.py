"""Coordinators change, cancel and cancel series of sessions: changes that move people's places."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from trainapp.accounts.access import roles
from trainapp.accounts.models import Role
from trainapp.bookings import session_lifecycle
from trainapp.bookings.forms import CancelSeriesForm
from trainapp.catalogue.form_details import fill_from_session, fill_session_choices, session_details
from trainapp.catalogue.forms import CancelSessionForm, SessionForm
from trainapp.catalogue.models import SessionSeries, TrainingSession
from trainapp.catalogue.places import places_left
from trainapp.catalogue.services import ClashFound
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import show_domain_error

bp = Blueprint("session_admin", __name__)

COORDINATOR = roles(Role.COORDINATOR)


def _session_page(session_id: int):
    return redirect(url_for("catalogue.show_session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@COORDINATOR
def edit_session(session_id: int):
    session = db.get_or_404(TrainingSession, session_id)
    if session.is_cancelled:
        flash("A cancelled session cannot be changed.", "error")
        return _session_page(session.id)
    form = SessionForm()
    fill_session_choices(form)
    if not form.is_submitted():
        fill_from_session(form, session)
    clashes = []
    if form.validate_on_submit():
        try:
            session_lifecycle.change_session(
                session.id, session_details(form), by=current_user, confirm_clashes=form.confirm_clashes.data
            )
        except ClashFound as found:
            clashes = found.clashes
            form.form_errors.append(found.message)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash("The session has been saved.")
            return _session_page(session.id)
    return render_template("catalogue/session_form.html", form=form, session=session, clashes=clashes)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@COORDINATOR
def cancel_session(session_id: int):
    session = db.get_or_404(TrainingSession, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            session_lifecycle.cancel_session(session.id, by=current_user, reason=form.reason.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash("The session has been cancelled. Everyone booked or waiting has been told.")
            return _session_page(session.id)
    return render_template("catalogue/session_cancel.html", form=form, session=session)


def _series_page(series: SessionSeries, form: CancelSeriesForm, status: int = 200):
    places = places_left(series.sessions, current_user, utcnow())
    return render_template("catalogue/series.html", series=series, form=form, places=places), status


@bp.route("/series/<int:series_id>")
@COORDINATOR
def show_series(series_id: int):
    return _series_page(db.get_or_404(SessionSeries, series_id), CancelSeriesForm())


@bp.route("/series/<int:series_id>/cancel", methods=["POST"])
@COORDINATOR
def cancel_series(series_id: int):
    series = db.get_or_404(SessionSeries, series_id)
    form = CancelSeriesForm()
    if form.validate_on_submit():
        try:
            cancelled = session_lifecycle.cancel_series(
                series.id,
                by=current_user,
                reason=form.reason.data,
                from_on=form.from_on.data if form.which.data == "from" else None,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                f"{len(cancelled)} session{'s have' if len(cancelled) != 1 else ' has'} been cancelled. "
                "Everyone booked or waiting has been told."
            )
            return redirect(url_for("session_admin.show_series", series_id=series.id))
    return _series_page(series, form, 400)
