"""Coordinators create, edit, deactivate and reactivate agencies."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts import agency_services
from trainapp.accounts.access import coordinator_only
from trainapp.accounts.forms import AgencyForm
from trainapp.accounts.models import Agency, AgencyKind, User
from trainapp.acting import act, act_from_button
from trainapp.extensions import db
from trainapp.forms import ConfirmForm
from trainapp.inputs import query_page

bp = Blueprint("agencies", __name__, url_prefix="/agencies")


@bp.route("")
@coordinator_only
def list_agencies():
    query = sa.select(Agency).order_by(Agency.active.desc(), Agency.name)
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    staff = dict(
        db.session.execute(
            sa.select(User.agency_id, sa.func.count(User.id))
            .where(User.agency_id.in_([a.id for a in page.items]), User.active.is_(True))
            .group_by(User.agency_id)
        )
        .tuples()
        .all()
    )
    return render_template("agencies/list.html", page=page, staff=staff, form=ConfirmForm())


def _save(form: AgencyForm, agency: Agency | None):
    def save() -> Agency:
        fields = {
            "name": form.name.data,
            "kind": AgencyKind(form.kind.data),
            "domains": agency_services.parse_domains(form.domains.data or ""),
            "is_partner": form.is_partner.data == "yes",
        }
        if agency is None:
            return agency_services.create_agency(by=current_user, **fields)
        agency_services.update_agency(agency, by=current_user, **fields)
        return agency

    return act(
        form,
        save,
        success=lambda saved: f"{saved.name} has been saved.",
        redirect_to=url_for("agencies.list_agencies"),
    )


@bp.route("/new", methods=["GET", "POST"])
@coordinator_only
def new_agency():
    form = AgencyForm()
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("agencies/form.html", form=form, agency=None)


@bp.route("/<int:agency_id>/edit", methods=["GET", "POST"])
@coordinator_only
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
    return act_from_button(
        lambda: agency_services.set_agency_active(agency, by=current_user, active=active),
        success=f"{agency.name} has been {'reactivated' if active else 'deactivated'}.",
        redirect_to=url_for("agencies.list_agencies"),
    )


@bp.route("/<int:agency_id>/deactivate", methods=["POST"])
@coordinator_only
def deactivate_agency(agency_id: int):
    return _set_active(agency_id, active=False)


@bp.route("/<int:agency_id>/reactivate", methods=["POST"])
@coordinator_only
def reactivate_agency(agency_id: int):
    return _set_active(agency_id, active=True)
