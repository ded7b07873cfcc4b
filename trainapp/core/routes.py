"""The home page for each role, and the health check load balancers poll."""

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask_login import current_user
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
