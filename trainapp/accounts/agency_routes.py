"""Coordinators create, edit, deactivate and reactivate agencies."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts import agency_services
from trainapp.accounts.access import roles
from trainapp.accounts.forms import AgencyForm
from trainapp.accounts.models import Agency, AgencyKind, Role, User
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import ConfirmForm, show_domain_error

bp = Blueprint("agencies", __name__, url_prefix="/agencies")


@bp.route("")
@roles(Role.COORDINATOR)
def list_agencies():
    query = sa.select(Agency).order_by(Agency.active.desc(), Agency.name)
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"])
    staff = dict(
        db.session.execute(
            sa.select(User.agency_id, sa.func.count(User.id))
            .where(User.agency_id.in_([a.id for a in page.items]), User.active.is_(True))
            .group_by(User.agency_id)
        ).all()
    )
    return render_template("agencies/list.html", page=page, staff=staff, form=ConfirmForm())


def _save(form: AgencyForm, agency: Agency | None):
    try:
        domains = agency_services.parse_domains(form.domains.data or "")
        fields = {
            "name": form.name.data,
            "kind": AgencyKind(form.kind.data),
            "domains": domains,
            "is_partner": form.is_partner.data == "yes",
        }
        if agency is None:
            agency = agency_services.create_agency(by=current_user, **fields)
        else:
            agency_services.update_agency(agency, by=current_user, **fields)
    except DomainError as error:
        show_domain_error(form, error)
        return None
    db.session.commit()
    flash(f"{agency.name} has been saved.")
    return redirect(url_for("agencies.list_agencies"))


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.COORDINATOR)
def new_agency():
    form = AgencyForm()
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("agencies/form.html", form=form, agency=None)


@bp.route("/<int:agency_id>/edit", methods=["GET", "POST"])
@roles(Role.COORDINATOR)
def edit_agency(agency_id: int):
    agency = db.get_or_404(Agency, agency_id)
    form = AgencyForm(obj=agency)
    if request.method == "GET":
        form.kind.data = agency.kind.value
        form.domains.data = "\n".join(agency.domain_names)
        form.is_partner.data = "yes" if agency.is_partner else "no"
    if form.validate_on_submit() and (response := _save(form, agency)):
        return response
    return render_template("agencies/form.html", form=form, agency=agency)


def _set_active(agency_id: int, active: bool):
    agency = db.get_or_404(Agency, agency_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        agency_services.set_agency_active(agency, by=current_user, active=active)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{agency.name} has been {'reactivated' if active else 'deactivated'}.")
    return redirect(url_for("agencies.list_agencies"))


@bp.route("/<int:agency_id>/deactivate", methods=["POST"])
@roles(Role.COORDINATOR)
def deactivate_agency(agency_id: int):
    return _set_active(agency_id, active=False)


@bp.route("/<int:agency_id>/reactivate", methods=["POST"])
@roles(Role.COORDINATOR)
def reactivate_agency(agency_id: int):
    return _set_active(agency_id, active=True)
