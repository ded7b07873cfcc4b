"""Finding training: the session list, a session's page, a course's page, a trainer's sessions."""

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from trainapp.accounts.access import roles, signed_in
from trainapp.accounts.models import Role
from trainapp.catalogue import queries
from trainapp.catalogue.forms import BrowseForm
from trainapp.catalogue.models import Course, DeliveryMode
from trainapp.catalogue.places import places_left
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.inputs import query_page

bp = Blueprint("catalogue", __name__)


def _filters(form: BrowseForm, may_see_past: bool) -> queries.BrowseFilters:
    month = None
    if form.month.data:
        year, _, number = form.month.data.partition("-")
        month = date(int(year), int(number), 1)
    return queries.BrowseFilters(
        programme_id=form.programme.data or None,
        course_id=form.course.data or None,
        month=month,
        mode=DeliveryMode(form.mode.data) if form.mode.data else None,
        places_only=bool(form.places.data),
        when=(form.when.data or "upcoming") if may_see_past else "upcoming",
    )


@bp.route("/sessions")
@signed_in
def browse():
    coordinator = current_user.is_coordinator
    now = utcnow()
    form = BrowseForm(request.args)
    form.programme.choices = [(0, "All programmes")] + queries.programme_choices()
    form.course.choices = [(0, "All courses")] + queries.course_choices(coordinator)
    form.month.choices = [("", "Any month")] + queries.month_choices(now)
    if request.args and not form.validate():
        return render_template("catalogue/browse.html", form=form, page=None, coordinator=coordinator), 400
    query = queries.sessions_query(
        _filters(form, coordinator), now=now, include_drafts=coordinator, viewer=current_user
    )
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "catalogue/browse.html",
        form=form,
        page=page,
        coordinator=coordinator,
        now=now,
        places=places_left(page.items, current_user, now),
    )


@bp.route("/sessions/<int:session_id>")
@signed_in
def show_session(session_id: int):
    session = queries.visible_session(session_id)
    now = utcnow()
    # Places left come with the booking panel, which counts them once for both.
    return render_template("catalogue/session.html", session=session, now=now)


@bp.route("/courses/<int:course_id>")
@signed_in
def show_course(course_id: int):
    course = db.get_or_404(Course, course_id)
    if not course.is_published and not current_user.is_coordinator:
        abort(404)
    now = utcnow()
    filters = queries.BrowseFilters(course_id=course.id)
    upcoming = db.session.scalars(
        queries.sessions_query(filters, now=now, include_drafts=current_user.is_coordinator, viewer=current_user).limit(
            20
        )
    ).all()
    return render_template(
        "catalogue/course.html", course=course, upcoming=upcoming, places=places_left(upcoming, current_user, now)
    )


@bp.route("/my-sessions")
@roles(Role.TRAINER, Role.COORDINATOR)
def my_sessions():
    now = utcnow()
    past = request.args.get("when") == "past"
    page = db.paginate(
        queries.trainer_sessions_query(current_user, now=now, past=past),
        page=query_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "catalogue/my_sessions.html",
        page=page,
        past=past,
        now=now,
        places=places_left(page.items, current_user, now),
    )
