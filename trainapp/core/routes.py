"""The home page for each role, the footer pages, and the health check load balancers poll."""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user
from flask_login.config import COOKIE_NAME as FLASK_LOGIN_REMEMBER_COOKIE
from sqlalchemy.exc import SQLAlchemyError

from trainapp.accounts.access import public
from trainapp.accounts.models import AccessRequest, AccessRequestStatus
from trainapp.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/")
@public
def home():
    pending_requests = 0
    if current_user.is_authenticated and current_user.is_coordinator:
        pending_requests = db.session.execute(
            sa.select(sa.func.count(AccessRequest.id)).where(AccessRequest.status == AccessRequestStatus.PENDING)
        ).scalar_one()
    return render_template("core/home.html", pending_requests=pending_requests)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="reachable")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template(
        "core/accessibility.html", tested_on=current_app.config["ACCESSIBILITY_TESTED_ON"], **_organisation()
    )


@bp.route("/privacy")
@public
def privacy():
    config = current_app.config
    return render_template(
        "core/privacy.html",
        keep_sent_days=config["OUTBOX_KEEP_SENT_DAYS"],
        keep_failed_days=config["OUTBOX_KEEP_FAILED_DAYS"],
        **_organisation(),
    )


@bp.route("/cookies")
@public
def cookies():
    config = current_app.config
    return render_template(
        "core/cookies.html",
        session_cookie=config["SESSION_COOKIE_NAME"],
        # Flask-Login reads this setting when it is present, else uses its own name.
        remember_cookie=config.get("REMEMBER_COOKIE_NAME", FLASK_LOGIN_REMEMBER_COOKIE),
        remember_days=_whole_days(config["REMEMBER_COOKIE_DURATION"]),
        **_organisation(),
    )


@bp.route("/contact")
@public
def contact():
    return render_template("core/contact.html", **_organisation())


def _organisation() -> dict:
    """How to reach the organisation that runs the service, as configured."""
    config = current_app.config
    return {
        "organisation_email": config["ORGANISATION_EMAIL"],
        "organisation_address": config["ORGANISATION_ADDRESS"],
        "data_protection_email": config["DATA_PROTECTION_OFFICER_EMAIL"],
    }


def _whole_days(duration) -> int:
    seconds = duration.total_seconds() if hasattr(duration, "total_seconds") else duration
    return int(seconds // (60 * 60 * 24))
