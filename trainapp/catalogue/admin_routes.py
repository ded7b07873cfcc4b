"""Coordinators build the catalogue: programmes, venues, courses, sessions and series."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts.access import coordinator_only
from trainapp.acting import act
from trainapp.catalogue import queries, services
from trainapp.catalogue.form_details import fill_session_choices, session_details, template_details
from trainapp.catalogue.forms import (
    CourseForm,
    ProgrammeForm,
    SeriesForm,
    SessionForm,
    VenueForm,
)
from trainapp.catalogue.models import (
    Course,
    CourseStatus,
    Programme,
    Venue,
)
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import show_domain_error, validated
from trainapp.inputs import query_int, query_page

bp = Blueprint("catalogue_admin", __name__)


# Programmes --------------------------------------------------------------------------


@bp.route("/programmes")
@coordinator_only
def list_programmes():
    page = db.paginate(
        sa.select(Programme).order_by(Programme.name), page=query_page(), per_page=current_app.config["PAGE_SIZE"]
    )
    counts = dict(
        db.session.execute(
            sa.select(Course.programme_id, sa.func.count(Course.id))
            .where(Course.programme_id.in_([p.id for p in page.items]))
            .group_by(Course.programme_id)
        )
        .tuples()
        .all()
    )
    return render_template("catalogue/programmes.html", page=page, counts=counts)


def _programme_form(programme: Programme | None):
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.save_programme(
                programme, by=current_user, name=form.name.data, description=form.description.data or ""
            ),
            success=lambda saved: f"{saved.name} has been saved.",
            redirect_to=url_for("catalogue_admin.list_programmes"),
        )
        if response is not None:
            return response
    return render_template("catalogue/programme_form.html", form=form, programme=programme)


@bp.route("/programmes/new", methods=["GET", "POST"])
@coordinator_only
def new_programme():
    return _programme_form(None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_programme(programme_id: int):
    return _programme_form(db.get_or_404(Programme, programme_id))


# Venues ------------------------------------------------------------------------------


@bp.route("/venues")
@coordinator_only
def list_venues():
    page = db.paginate(
        sa.select(Venue).order_by(Venue.active.desc(), Venue.name),
        page=query_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("catalogue/venues.html", page=page)


def _venue_form(venue: Venue | None):
    form = VenueForm(obj=venue)
    if venue is None and request.method == "GET":
        form.active.data = True
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.save_venue(
                venue,
                by=current_user,
                name=form.name.data,
                address=form.address.data,
                active=bool(form.active.data),
            ),
            success=lambda saved: f"{saved.name} has been saved.",
            redirect_to=url_for("catalogue_admin.list_venues"),
        )
        if response is not None:
            return response
    return render_template("catalogue/venue_form.html", form=form, venue=venue)


@bp.route("/venues/new", methods=["GET", "POST"])
@coordinator_only
def new_venue():
    return _venue_form(None)


@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_venue(venue_id: int):
    return _venue_form(db.get_or_404(Venue, venue_id))


# Courses -----------------------------------------------------------------------------


@bp.route("/courses")
@coordinator_only
def list_courses():
    query = (
        sa.select(Course)
        .join(Course.programme)
        .options(sa.orm.contains_eager(Course.programme))
        .order_by(Programme.name, Course.level.nulls_first(), Course.title)
    )
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("catalogue/courses.html", page=page)


def _course_form(course: Course | None):
    form = CourseForm(obj=course)
    form.programme.choices = [(0, "Choose a programme")] + queries.programme_choices()
    form.prerequisite.choices = [(0, "None")] + [
        (course_id, title)
        for course_id, title in queries.course_choices(include_drafts=True)
        if course is None or course_id != course.id
    ]
    if request.method == "GET" and course is not None:
        form.programme.data = course.programme_id
        form.level.data = str(course.level) if course.level else ""
        form.duration_hours.data = round(course.duration_minutes / 60, 2)
        form.prerequisite.data = course.prerequisite_id or 0
        form.eligible_kinds.data = list(course.eligible_kinds)
        form.status.data = course.status.value
    if form.validate_on_submit():
        programme = db.session.get(Programme, form.programme.data)
        prerequisite = db.session.get(Course, form.prerequisite.data) if form.prerequisite.data else None
        if programme is None or (form.prerequisite.data and prerequisite is None):
            abort(400)
        details = services.CourseDetails(
            programme=programme,
            title=form.title.data,
            level=int(form.level.data) if form.level.data else None,
            summary=form.summary.data,
            audience=form.audience.data or "",
            duration_minutes=int(form.duration_hours.data * 60),
            cpd_hours=form.cpd_hours.data,
            refresher_months=form.refresher_months.data,
            prerequisite=prerequisite,
            eligible_kinds=list(form.eligible_kinds.data or []),
            requires_approval=bool(form.requires_approval.data),
            default_capacity=form.default_capacity.data,
            cancellation_notice_days=form.cancellation_notice_days.data,
            status=CourseStatus(form.status.data),
            certificate_needs_evaluation=bool(form.certificate_needs_evaluation.data),
            partial_counts_as_completed=bool(form.partial_counts_as_completed.data),
        )
        response = act(
            form,
            lambda: services.save_course(course, details, by=current_user),
            success=lambda saved: f"{saved.title} has been saved.",
            redirect_to=lambda saved: url_for("catalogue.show_course", course_id=saved.id),
        )
        if response is not None:
            return response
    return render_template("catalogue/course_form.html", form=form, course=course)


@bp.route("/courses/new", methods=["GET", "POST"])
@coordinator_only
def new_course():
    return _course_form(None)


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_course(course_id: int):
    return _course_form(db.get_or_404(Course, course_id))


# Sessions ----------------------------------------------------------------------------


@bp.route("/sessions/new", methods=["GET", "POST"])
@coordinator_only
def new_session():
    form = SessionForm()
    fill_session_choices(form)
    if request.method == "GET":
        course = db.session.get(Course, query_int("course_id", 0))
        if course is not None:
            form.course.data = course.id
            form.capacity.data = course.default_capacity
    clashes: list[services.Clash] = []
    if form.validate_on_submit():
        course = db.session.get(Course, form.course.data)
        if course is None:
            abort(400)
        response = act(
            form,
            lambda: services.create_session(
                course, session_details(form), by=current_user, confirm_clashes=form.confirm_clashes.data
            ),
            success="The session has been saved.",
            redirect_to=lambda session: url_for("catalogue.show_session", session_id=session.id),
            on_error=lambda error: clashes.extend(services.clashes_in(error)),
        )
        if response is not None:
            return response
    return render_template("catalogue/session_form.html", form=form, session=None, clashes=clashes)


# Weekly series -----------------------------------------------------------------------


@bp.route("/series/new", methods=["GET", "POST"])
@coordinator_only
def new_series():
    form = SeriesForm()
    fill_session_choices(form)
    form.skip.choices = []
    plan, clashes, passed = None, [], []
    if request.method == "GET":
        course = db.session.get(Course, query_int("course_id", 0))
        if course is not None:
            form.course.data = course.id
            form.capacity.data = course.default_capacity
    if form.validate_on_submit():
        course = db.session.get(Course, form.course.data)
        if course is None:
            abort(400)
        try:
            skip = {date.fromisoformat(value) for value in form.skip.data or []}
        except ValueError:
            abort(400)
        try:
            # Every date, ticked or not, so a ticked date can be unticked.
            first_on, last_on = validated(form.first_on.data), validated(form.last_on.data)
            plan = services.plan_series(form.weekday.data, first_on, last_on)
            form.skip.choices = [(d.isoformat(), f"{d:%A} {d.day} {d:%B %Y}") for d in plan.dates]
            details = services.SeriesDetails(
                weekday=form.weekday.data,
                start_time=validated(form.start_time.time),
                end_time=validated(form.end_time.time),
                first_on=first_on,
                last_on=last_on,
                skip=skip,
                template=template_details(form),
            )
            checked = services.check_series(details)
            # Confirmed or not, clashes and passed dates stay on the page with their confirm boxes.
            plan, clashes, passed = checked.plan, checked.clashes, checked.passed
            if not form.submit.data:
                checked.require_confirmed(clashes=form.confirm_clashes.data, past=form.confirm_past.data)
        except DomainError as error:
            # Only checked so far: nothing has changed, so there is nothing to roll back.
            for problem in error.each_problem():
                show_domain_error(form, problem)
        else:
            if form.submit.data:
                response = act(
                    form,
                    lambda: services.create_series(
                        course,
                        details,
                        by=current_user,
                        confirm_clashes=form.confirm_clashes.data,
                        confirm_past=form.confirm_past.data,
                    ),
                    success=lambda series: f"{len(series.sessions)} sessions of {course.title} have been created.",
                    redirect_to=lambda series: url_for("session_admin.show_series", series_id=series.id),
                )
                if response is not None:
                    return response
    return render_template("catalogue/series_form.html", form=form, plan=plan, clashes=clashes, passed=passed)
