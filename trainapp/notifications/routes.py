"""The outbox page: coordinators see what is waiting, what failed and why, and queue it again."""

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_login import current_user

from trainapp.accounts.access import coordinator_only
from trainapp.acting import act_from_button
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.forms import ConfirmForm
from trainapp.inputs import query_page
from trainapp.notifications import services
from trainapp.notifications.models import OutboxMessage

bp = Blueprint("outbox", __name__)

# How far back the page counts sent and dropped messages.
RECENT_DAYS = 7


@bp.route("/outbox")
@coordinator_only
def overview():
    summary = services.outbox_summary(utcnow(), days=RECENT_DAYS)
    page = db.paginate(
        services.failed_messages_query(),
        page=query_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "notifications/outbox.html", summary=summary, page=page, form=ConfirmForm(), recent_days=RECENT_DAYS
    )


@bp.route("/outbox/<int:message_id>/requeue", methods=["POST"])
@coordinator_only
def requeue(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return act_from_button(
        lambda: services.requeue(message, by=current_user, now=utcnow()),
        success=f"The message to {message.recipient} is queued again and will go with the next send.",
        redirect_to=url_for("outbox.overview"),
    )
