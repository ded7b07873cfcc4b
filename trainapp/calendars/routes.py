"""Feeds that calendar programs poll (no sign-in: a secret link), downloads and the help page."""

import hashlib
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.http import is_resource_modified

from trainapp.accounts.access import public, roles, signed_in
from trainapp.accounts.models import Role
from trainapp.acting import act_from_button
from trainapp.bookings.models import HOLDING, Booking
from trainapp.calendars import cache as feed_cache
from trainapp.calendars import feeds, links
from trainapp.calendars.events import event_for, feed_settings, write_feed
from trainapp.calendars.ical import EventOptions, feed
from trainapp.catalogue.queries import visible_session
from trainapp.db import utcnow, writes_on_get
from trainapp.extensions import db
from trainapp.filters import external_url
from trainapp.forms import ConfirmForm
from trainapp.inputs import query_int
from trainapp.text import content_disposition

bp = Blueprint("calendars", __name__)


def _ics(body: bytes, *, filename: str, private: bool, last_modified=None, etag: str | None = None) -> Response:
    """Calendar bytes with a strong ETag, so an unchanged feed answers 304 with no body."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename, disposition="inline")
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate" if private else "public, max-age=900"
    response.set_etag(etag or hashlib.sha256(body).hexdigest())
    if _settled(last_modified):
        response.last_modified = last_modified
    response.make_conditional(request)
    return response


def _feed(
    validator: feeds.Validator,
    build: Callable[[], bytes],
    *,
    key: str,
    filename: str,
    private: bool,
    user_id: int | None = None,
) -> Response:
    """Answer from the validator alone when the program's copy is current; otherwise serve the
    bytes built for this validator, building and keeping them if nobody has yet."""
    last_modified = validator.last_modified if _settled(validator.last_modified) else None
    if not is_resource_modified(request.environ, etag=validator.etag, last_modified=last_modified):
        return _ics(b"", filename=filename, private=private, last_modified=last_modified, etag=validator.etag)
    body = feed_cache.read(key, validator.etag) if validator.cacheable else None
    if body is None:
        body = build()
        if validator.cacheable:
            feed_cache.store(key, validator.etag, body, user_id=user_id)
    return _ics(body, filename=filename, private=private, last_modified=last_modified, etag=validator.etag)


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
    now = utcnow()
    return _feed(
        feeds.personal_validator(user, now, feed_settings()),
        lambda: write_feed(feeds.personal(user, now), _name("my training")),
        key=f"personal:{user.id}",
        filename="my-training.ics",
        private=True,
        user_id=user.id,
    )


@bp.route("/calendars/<token>/trainer.ics")
@public
def trainer_feed(token: str):
    user = _user_or_404(token)
    if user.role not in (Role.TRAINER, Role.COORDINATOR):
        abort(404)
    now = utcnow()
    return _feed(
        feeds.trainer_validator(user, now, feed_settings()),
        lambda: write_feed(feeds.trainer(user, now), _name("sessions I deliver")),
        key=f"trainer:{user.id}",
        filename="sessions-i-deliver.ics",
        private=True,
        user_id=user.id,
    )


@bp.route("/calendars/public.ics")
@public
def public_feed():
    programme_id, course_id = query_int("programme"), query_int("course")
    months, now = current_app.config["PUBLIC_FEED_MONTHS_AHEAD"], utcnow()
    return _feed(
        feeds.public_validator(now, feed_settings(), months=months, programme_id=programme_id, course_id=course_id),
        lambda: write_feed(
            feeds.public(now, months=months, programme_id=programme_id, course_id=course_id),
            _name("training sessions"),
        ),
        key=f"public:{programme_id or ''}:{course_id or ''}",
        filename="training-sessions.ics",
        private=False,
    )


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
