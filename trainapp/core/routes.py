"""The home page for each role, the footer pages, and the health check load balancers poll."""

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from trainapp.accounts import services as accounts
from trainapp.accounts.access import public
from trainapp.accounts.models import User
from trainapp.attendance import services as attendance
from trainapp.bookings import queries as booking_queries
from trainapp.bookings.reminders import is_joining_link_due
from trainapp.catalogue import queries as catalogue_queries
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.notifications import services as outbox

bp = Blueprint("core", __name__)


# How many things a home page panel lists before it points to the full page.
PANEL_ITEMS = 5


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("core/home.html")
    return render_template("core/home.html", **_panels(current_user, utcnow()))


def _panels(user: User, now: datetime) -> dict:
    """What needs this person next, one query function per panel, each from the feature that owns it."""
    if user.is_coordinator:
        short, short_total = catalogue_queries.sessions_short_of_bookings(now, limit=PANEL_ITEMS)
        return {
            "access_requests": accounts.pending_access_request_count(),
            "short_sessions": short,
            "short_sessions_total": short_total,
            "short_days": catalogue_queries.SHORT_OF_BOOKINGS_DAYS,
            "failed_mail": outbox.failed_message_count(),
        }
    if user.is_agency_lead:
        approvals, approvals_total = booking_queries.approvals_waiting(user, limit=PANEL_ITEMS)
        overdue, overdue_total = (
            attendance.overdue_refreshers(user.agency_id, now, limit=PANEL_ITEMS) if user.agency_id else ([], 0)
        )
        return {
            "approvals": approvals,
            "approvals_total": approvals_total,
            "overdue_refreshers": overdue,
            "overdue_refreshers_total": overdue_total,
        }
    if user.is_trainer:
        return {
            "next_sessions": catalogue_queries.trainer_next_sessions(user, now, limit=PANEL_ITEMS),
            "registers": attendance.registers_to_take(user, now),
        }
    booking = booking_queries.next_booking(user, now)
    return {
        "next_booking": booking,
        "joining_link_due": booking is not None and is_joining_link_due(booking.session, now),
        "refreshers": attendance.refreshers_due_for(user, now),
        "evaluations": attendance.evaluations_due(user, now),
    }


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
        keep_training_records_years=config["KEEP_TRAINING_RECORDS_YEARS"],
        keep_access_requests_days=config["KEEP_ACCESS_REQUESTS_DAYS"],
        keep_sign_in_records_days=config["KEEP_SIGN_IN_RECORDS_DAYS"],
        keep_access_needs_days=config["ACCESS_NEEDS_KEEP_DAYS"],
        **_organisation(),
    )


@bp.route("/cookies")
@public
def cookies():
    config = current_app.config
    return render_template(
        "core/cookies.html",
        session_cookie=config["SESSION_COOKIE_NAME"],
        remember_days=config["REMEMBER_ME_DAYS"],
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
