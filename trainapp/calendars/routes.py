"""Feeds that calendar programs poll (no sign-in: a secret link), downloads and the help page."""

import hashlib
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts.access import public, roles, signed_in
from trainapp.accounts.models import Role
from trainapp.acting import act_from_button
from trainapp.bookings.models import HOLDING, Booking
from trainapp.calendars import feeds, links
from trainapp.calendars.events import event_for
from trainapp.calendars.ical import EventOptions, feed
from trainapp.catalogue.queries import visible_session
from trainapp.db import utcnow, writes_on_get
from trainapp.extensions import db
from trainapp.filters import external_url
from trainapp.forms import ConfirmForm
from trainapp.inputs import query_int
from trainapp.text import content_disposition

bp = Blueprint("calendars", __name__)


def _ics(body: bytes, *, filename: str, private: bool, last_modified=None) -> Response:
    """Calendar bytes with a strong ETag, so an unchanged feed answers 304 with no body."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename, disposition="inline")
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate" if private else "public, max-age=900"
    response.set_etag(hashlib.sha256(body).hexdigest())
    if _settled(last_modified):
        response.last_modified = last_modified
    response.make_conditional(request)
    return response


def _settled(last_modified) -> bool:
    """Whether the whole second Last-Modified names is over.

    HTTP dates have whole seconds: a change later in the same second would carry the same
    date, and a program asking If-Modified-Since would get 304 for content it has not seen.
    Until the second is over the ETag alone answers conditional requests (RFC 9110 8.8.2.2).
    """
    if last_modified is None:
        return False
    return last_modified.replace(microsecond=0) + timedelta(seconds=1) <= utcnow()


def _user_or_404(token: str):
    user = links.user_for_token(token)
    if user is None:
        abort(404)
    return user


def _name(suffix: str) -> str:
    return f"{current_app.config['ORGANISATION_NAME']}: {suffix}"


@bp.route("/calendars/<token>/personal.ics")
@public
def personal_feed(token: str):
    user = _user_or_404(token)
    content = feeds.personal(user, utcnow())
    body = feed(content.events, _name("my training"), timezone=current_app.config["TIMEZONE"])
    return _ics(body, filename="my-training.ics", private=True, last_modified=content.last_modified)


@bp.route("/calendars/<token>/trainer.ics")
@public
def trainer_feed(token: str):
    user = _user_or_404(token)
    if user.role not in (Role.TRAINER, Role.COORDINATOR):
        abort(404)
    content = feeds.trainer(user, utcnow())
    body = feed(content.events, _name("sessions I deliver"), timezone=current_app.config["TIMEZONE"])
    return _ics(body, filename="sessions-i-deliver.ics", private=True, last_modified=content.last_modified)


@bp.route("/calendars/public.ics")
@public
def public_feed():
    programme_id, course_id = query_int("programme"), query_int("course")
    content = feeds.public(utcnow(), programme_id=programme_id, course_id=course_id)
    body = feed(content.events, _name("training sessions"), timezone=current_app.config["TIMEZONE"])
    return _ics(body, filename="training-sessions.ics", private=False, last_modified=content.last_modified)


@bp.route("/sessions/<int:session_id>/calendar.ics")
@signed_in
def session_download(session_id: int):
    session = visible_session(session_id)
    has_place = (
        db.session.scalar(
            Booking.__table__.select()
            .with_only_columns(Booking.id)
            .where(
                Booking.session_id == session.id,
                Booking.user_id == current_user.id,
                Booking.status.in_(HOLDING),
            )
        )
        is not None
    )
    event = event_for(session, EventOptions(joining_link=has_place or current_user in session.trainers))
    body = feed([event], session.course.title, timezone=current_app.config["TIMEZONE"])
    return _ics(
        body, filename=f"session-{session.id}.ics", private=True, last_modified=feeds.single(session, current_user)
    )


@bp.route("/calendar")
@signed_in
@writes_on_get
def help_page():
    token = links.token_for(current_user)
    db.session.commit()
    https = {"personal": external_url("calendars.personal_feed", token=token)}
    if current_user.role in (Role.TRAINER, Role.COORDINATOR):
        https["trainer"] = external_url("calendars.trainer_feed", token=token)
    https["public"] = external_url("calendars.public_feed")
    webcal = {kind: "webcal://" + url.split("://", 1)[1] for kind, url in https.items()}
    return render_template("calendars/help.html", https=https, webcal=webcal, form=ConfirmForm())


@bp.route("/calendar/new-link", methods=["POST"])
@roles(Role.COORDINATOR, Role.TRAINER, Role.AGENCY_LEAD, Role.STAFF)
def new_link():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return act_from_button(
        lambda: links.new_link(current_user),
        success="You have a new calendar link. The old one no longer works: subscribe again with the new one.",
        redirect_to=url_for("calendars.help_page"),
    )
