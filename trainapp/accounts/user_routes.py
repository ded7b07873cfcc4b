"""Coordinators manage people and access requests; agency leads see their staff."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from trainapp.accounts import second_factor, services
from trainapp.accounts.access import coordinator_only, require, roles
from trainapp.accounts.forms import ApproveAccessForm, RejectAccessForm, UserForm, UserSearchForm
from trainapp.accounts.models import (
    AccessRequest,
    AccessRequestStatus,
    Agency,
    Role,
    User,
)
from trainapp.acting import act, act_from_button
from trainapp.extensions import db
from trainapp.forms import ConfirmForm, agency_choices
from trainapp.inputs import query_page

bp = Blueprint("users", __name__)


def _agency_choices(blank_label: str) -> list[tuple[int, str]]:
    return agency_choices(services.active_agencies(), blank_label)


def _people_query():
    return sa.select(User).options(selectinload(User.agency)).order_by(User.name, User.id)


@bp.route("/users")
@coordinator_only
def list_users():
    form = UserSearchForm(request.args)
    form.agency.choices = _agency_choices("Any agency")
    query = _people_query()
    if form.validate():
        if form.q.data:
            pattern = f"%{form.q.data.strip().lower()}%"
            query = query.where(sa.or_(sa.func.lower(User.name).like(pattern), User.email.like(pattern)))
        if form.role.data:
            query = query.where(User.role == Role(form.role.data))
        if form.agency.data:
            query = query.where(User.agency_id == form.agency.data)
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("users/list.html", form=form, page=page)


@bp.route("/agency/staff")
@roles(Role.AGENCY_LEAD)
def agency_staff():
    query = _people_query().where(User.agency_id == current_user.agency_id)
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("users/agency_staff.html", page=page, agency=current_user.agency)


@bp.route("/users/<int:user_id>")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def show_user(user_id: int):
    person = db.get_or_404(User, user_id)
    require(current_user.can_manage_staff_of(person.agency_id))
    return render_template("users/show.html", person=person, form=ConfirmForm())


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_user(user_id: int):
    person = db.get_or_404(User, user_id)
    form = UserForm(obj=person)
    form.agency.choices = _agency_choices("No agency")
    if request.method == "GET":
        form.role.data = person.role.value
        form.agency.data = person.agency_id or 0
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency.data) if form.agency.data else None
        if form.agency.data and agency is None:
            abort(400)
        response = act(
            form,
            lambda: services.update_user(
                person,
                by=current_user,
                name=form.name.data,
                job_title=form.job_title.data or "",
                role=Role(form.role.data),
                agency=agency,
            ),
            success=lambda _: f"{person.name}'s details have been saved.",
            redirect_to=url_for("users.show_user", user_id=person.id),
        )
        if response is not None:
            return response
    return render_template("users/edit.html", form=form, person=person)


def _set_active(user_id: int, active: bool):
    person = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    change = services.reactivate_user if active else services.deactivate_user
    return act_from_button(
        lambda: change(person, by=current_user),
        success=f"{person.name}'s account has been {'reactivated' if active else 'deactivated'}.",
        redirect_to=url_for("users.show_user", user_id=person.id),
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@coordinator_only
def deactivate_user(user_id: int):
    return _set_active(user_id, active=False)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@coordinator_only
def reactivate_user(user_id: int):
    return _set_active(user_id, active=True)


@bp.route("/users/<int:user_id>/authenticator-app/reset", methods=["POST"])
@coordinator_only
def reset_second_factor(user_id: int):
    person = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    return act_from_button(
        lambda: second_factor.reset(person, by=current_user),
        success=(
            f"{person.name} will set up an authenticator app the next time they sign in."
            if second_factor.is_required_for(person)
            else f"{person.name}'s authenticator app has been reset. They can set up a new one from their account."
        ),
        redirect_to=url_for("users.show_user", user_id=person.id),
    )


@bp.route("/access-requests")
@coordinator_only
def list_access_requests():
    query = (
        sa.select(AccessRequest)
        .where(AccessRequest.status == AccessRequestStatus.PENDING)
        .order_by(AccessRequest.created_at, AccessRequest.id)
    )
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("users/access_requests.html", page=page)


def _pending_request(request_id: int) -> AccessRequest:
    access_request = db.get_or_404(AccessRequest, request_id)
    if access_request.status != AccessRequestStatus.PENDING:
        abort(404)
    return access_request


@bp.route("/access-requests/<int:request_id>", methods=["GET", "POST"])
@coordinator_only
def review_access_request(request_id: int):
    access_request = _pending_request(request_id)
    form = ApproveAccessForm(prefix="approve")
    form.agency.choices = _agency_choices("Choose an agency")
    reject_form = RejectAccessForm(prefix="reject")
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency.data)
        if agency is None:
            abort(400)
        response = act(
            form,
            lambda: services.approve_access_request(
                access_request, by=current_user, agency=agency, role=Role(form.role.data)
            ),
            success=lambda person: f"{person.name} now has an account with {agency.name}.",
            redirect_to=url_for("users.list_access_requests"),
        )
        if response is not None:
            return response
    return render_template(
        "users/review_access_request.html",
        access_request=access_request,
        form=form,
        reject_form=reject_form,
    )


@bp.route("/access-requests/<int:request_id>/reject", methods=["POST"])
@coordinator_only
def reject_access_request(request_id: int):
    access_request = _pending_request(request_id)
    form = ApproveAccessForm(prefix="approve", formdata=None)
    form.agency.choices = _agency_choices("Choose an agency")
    reject_form = RejectAccessForm(prefix="reject")
    if reject_form.validate_on_submit():
        response = act(
            reject_form,
            lambda: services.reject_access_request(access_request, by=current_user, reason=reject_form.reason.data),
            success=f"The request from {access_request.name} has been rejected.",
            redirect_to=url_for("users.list_access_requests"),
        )
        if response is not None:
            return response
    return render_template(
        "users/review_access_request.html",
        access_request=access_request,
        form=form,
        reject_form=reject_form,
    ), 400
