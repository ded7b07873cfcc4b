"""Coordinators see the access needs people asked for on coming sessions, and mark them arranged."""

from itertools import groupby

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts.access import coordinator_only
from trainapp.acting import act_from_button
from trainapp.bookings import needs_list
from trainapp.bookings.models import BookingAccessNeeds
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.forms import ConfirmForm
from trainapp.inputs import query_page

bp = Blueprint("access_needs", __name__)


def _showing() -> str:
    show = request.args.get("show", needs_list.TO_ARRANGE)
    if show not in needs_list.SHOWING:
        abort(400)
    return show


@bp.route("/access-needs")
@coordinator_only
def overview():
    show = _showing()
    page = db.paginate(
        needs_list.needs_list_query(utcnow(), show=show), page=query_page(), per_page=current_app.config["PAGE_SIZE"]
    )
    # Ordered by session, so each session's people are together on the page.
    by_session = [list(group) for _, group in groupby(page.items, key=lambda needs: needs.booking.session_id)]
    return render_template(
        "bookings/access_needs.html",
        page=page,
        by_session=by_session,
        show=show,
        form=ConfirmForm(),
        keep_days=current_app.config["ACCESS_NEEDS_KEEP_DAYS"],
    )


def _change(needs_id: int, *, arranged: bool):
    needs = db.get_or_404(BookingAccessNeeds, needs_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = needs.booking.user.name
    show = _showing()
    # Not yet arranged, the row leaves the list: back to its start rather than a page that may be gone.
    page = request.args.get("page", type=int) if show == needs_list.ALL else None
    back = url_for("access_needs.overview", show=show, page=page)
    return act_from_button(
        lambda: needs_list.set_arranged(needs.id, arranged=arranged, by=current_user),
        success=f"{name}'s access needs are marked as {'arranged' if arranged else 'not yet arranged'}.",
        redirect_to=back,
    )


@bp.route("/access-needs/<int:needs_id>/arranged", methods=["POST"])
@coordinator_only
def mark_arranged(needs_id: int):
    return _change(needs_id, arranged=True)


@bp.route("/access-needs/<int:needs_id>/not-arranged", methods=["POST"])
@coordinator_only
def mark_not_arranged(needs_id: int):
    return _change(needs_id, arranged=False)
