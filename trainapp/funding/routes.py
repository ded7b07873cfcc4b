"""Funding pages: the dashboard, grants, allocations, costs, the charging policy and charges."""

import re
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp import downloads
from trainapp.accounts.access import coordinator_only, roles
from trainapp.accounts.models import Agency, Role
from trainapp.acting import act, act_from_button
from trainapp.catalogue.models import Course, Programme, TrainingSession
from trainapp.charts import Series, line_chart
from trainapp.csv_export import csv_response
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.forms import ConfirmForm, agency_choices, validated
from trainapp.funding import charges, dashboard, services
from trainapp.funding.forms import (
    AllocationForm,
    CostForm,
    ExemptionForm,
    GrantForm,
    PolicyForm,
    StatementForm,
    WaiveForm,
)
from trainapp.funding.models import (
    Allocation,
    Charge,
    ChargeExemption,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)
from trainapp.inputs import query_int, query_page
from trainapp.money import format_money, to_pounds
from trainapp.timezones import to_local

bp = Blueprint("funding", __name__)


def _today() -> date:
    return to_local(utcnow()).date()


@bp.route("/funding")
@coordinator_only
def overview():
    return render_template(
        "funding/overview.html",
        grants=dashboard.grant_figures(_today()),
        programmes=dashboard.programme_figures(),
    )


def _grant_form(grant: Grant | None):
    form = GrantForm(obj=grant)
    if request.method == "GET" and grant is not None:
        form.amount.data = grant.amount_pence
        form.match_funding.data = grant.match_funding_pence
        form.status.data = grant.status.value
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.save_grant(
                grant,
                services.GrantDetails(
                    name=form.name.data,
                    funder=form.funder.data,
                    reference=form.reference.data or "",
                    amount_pence=form.amount.data,
                    match_funding_pence=form.match_funding.data or 0,
                    starts_on=validated(form.starts_on.data),
                    ends_on=validated(form.ends_on.data),
                    notes=form.notes.data or "",
                    status=GrantStatus(form.status.data),
                ),
                by=current_user,
            ),
            success=lambda saved: f"{saved.name} has been saved.",
            redirect_to=lambda saved: url_for("funding.show_grant", grant_id=saved.id),
        )
        if response is not None:
            return response
    return render_template("funding/grant_form.html", form=form, grant=grant)


@bp.route("/grants/new", methods=["GET", "POST"])
@coordinator_only
def new_grant():
    return _grant_form(None)


@bp.route("/grants/<int:grant_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_grant(grant_id: int):
    return _grant_form(db.get_or_404(Grant, grant_id))


@bp.route("/grants/<int:grant_id>")
@coordinator_only
def show_grant(grant_id: int):
    grant = db.get_or_404(Grant, grant_id)
    today = _today()
    figures = dashboard.grant_figures(today, grant.id)[0]
    remaining, burn = grant.amount_pence, [(grant.starts_on, grant.amount_pence)]
    for day, amount in dashboard.spend_by_day(grant.id):
        remaining -= amount
        burn.append((day, remaining))
    chart = line_chart(
        f"Money left in {grant.name}",
        [
            Series("Planned", [(grant.starts_on, grant.amount_pence), (grant.ends_on, 0)], dashed=True),
            Series("Left after costs", burn),
        ],
        y_label=lambda pence: format_money(pence).split(".")[0],
        start=grant.starts_on,
        end=grant.ends_on,
    )
    costs = db.session.scalars(
        sa.select(CostLine)
        .join(CostLine.allocation)
        .where(Allocation.grant_id == grant.id)
        .options(
            sa.orm.joinedload(CostLine.session).joinedload(TrainingSession.course),
            sa.orm.joinedload(CostLine.programme),
            sa.orm.joinedload(CostLine.allocation),
        )
        .order_by(CostLine.incurred_on.desc(), CostLine.id.desc())
    ).all()
    return render_template(
        "funding/grant.html",
        grant=grant,
        figures=figures,
        allocations=dashboard.allocation_figures(grant.id),
        chart=chart,
        burn=burn,
        costs=costs,
    )


def _targets() -> list[tuple[str, str]]:
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.name)).all()
    courses = db.session.scalars(sa.select(Course).order_by(Course.title)).all()
    return (
        [("", "Choose a programme or course")]
        + [(f"programme-{p.id}", f"Programme: {p.name}") for p in programmes]
        + [(f"course-{c.id}", f"Course: {c.title}") for c in courses]
    )


def _target(value: str):
    match = re.fullmatch(r"(programme|course)-(\d+)", value or "")
    if not match:
        abort(400)
    model = Programme if match.group(1) == "programme" else Course
    found = db.session.get(model, int(match.group(2)))
    if found is None:
        abort(400)
    return (found, None) if model is Programme else (None, found)


def _allocation_form(grant: Grant, allocation: Allocation | None):
    form = AllocationForm()
    form.target.choices = _targets()
    if request.method == "GET" and allocation is not None:
        form.target.data = (
            f"programme-{allocation.programme_id}" if allocation.programme_id else f"course-{allocation.course_id}"
        )
        form.amount.data = allocation.amount_pence
    if form.validate_on_submit():
        programme, course = _target(form.target.data)
        response = act(
            form,
            lambda: services.save_allocation(
                allocation,
                grant_id=grant.id,
                by=current_user,
                amount_pence=form.amount.data,
                programme=programme,
                course=course,
            ),
            success="The allocation has been saved.",
            redirect_to=url_for("funding.show_grant", grant_id=grant.id),
        )
        if response is not None:
            return response
    return render_template("funding/allocation_form.html", form=form, grant=grant, allocation=allocation)


@bp.route("/grants/<int:grant_id>/allocations/new", methods=["GET", "POST"])
@coordinator_only
def new_allocation(grant_id: int):
    return _allocation_form(db.get_or_404(Grant, grant_id), None)


@bp.route("/allocations/<int:allocation_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit_allocation(allocation_id: int):
    allocation = db.get_or_404(Allocation, allocation_id)
    return _allocation_form(allocation.grant, allocation)


def _cost_form(
    session: TrainingSession | None, programme: Programme | None, *, then_show: str | Callable[[CostLine], str]
):
    """The add-a-cost form for a session or a whole programme: (form, redirect once added or None)."""
    form = CostForm()
    open_allocations = db.session.scalars(
        sa.select(Allocation)
        .join(Allocation.grant)
        .where(Grant.status != GrantStatus.CLOSED)
        .options(
            sa.orm.joinedload(Allocation.grant),
            sa.orm.joinedload(Allocation.programme),
            sa.orm.joinedload(Allocation.course),
        )
        .order_by(Grant.name, Allocation.id)
    ).all()
    offered = [a for a in open_allocations if services.allocation_covers(a, session=session, programme=programme)]
    form.allocation.choices = [(0, "Choose an allocation")] + [
        (a.id, f"{a.grant.name}: {a.target_name} ({format_money(a.amount_pence)})") for a in offered
    ]
    # Another allocation's id is not a forgery to ignore: the service says why it cannot be used.
    form.allocation.validate_choice = False
    if request.method == "GET" and session is not None:
        form.incurred_on.data = to_local(session.starts_at).date()
    if not form.validate_on_submit():
        return form, None
    return form, act(
        form,
        lambda: services.add_cost(
            form.allocation.data,
            services.CostDetails(
                category=CostCategory(form.category.data),
                amount_pence=form.amount.data,
                state=CostState(form.state.data),
                incurred_on=validated(form.incurred_on.data),
                supplier=form.supplier.data or "",
                reference=form.reference.data or "",
                session=session,
                programme=programme,
                override_reason=form.override_reason.data or "",
            ),
            by=current_user,
        ),
        success="The cost has been added.",
        redirect_to=then_show,
    )


@bp.route("/costs/new", methods=["GET", "POST"])
@coordinator_only
def new_cost():
    session = db.session.get(TrainingSession, query_int("session_id", 0))
    programme = db.session.get(Programme, query_int("programme_id", 0))
    if (session is None) == (programme is None):
        abort(404)
    form, added = _cost_form(
        session, programme, then_show=lambda cost: url_for("funding.show_grant", grant_id=cost.allocation.grant_id)
    )
    if added is not None:
        return added
    return render_template("funding/cost_form.html", form=form, session=session, programme=programme)


@bp.route("/funding/programmes/<int:programme_id>", methods=["GET", "POST"])
@coordinator_only
def programme_funding(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form, added = _cost_form(None, programme, then_show=url_for("funding.programme_funding", programme_id=programme.id))
    if added is not None:
        return added
    return render_template(
        "funding/programme.html",
        programme=programme,
        form=form,
        allocations=dashboard.programme_allocations(programme.id),
        costs=dashboard.programme_costs(programme.id),
    )


@bp.route("/costs/<int:cost_id>/paid", methods=["POST"])
@coordinator_only
def mark_paid(cost_id: int):
    cost = db.get_or_404(CostLine, cost_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return act_from_button(
        lambda: services.mark_cost_paid(cost, by=current_user),
        success="The cost is marked paid.",
        redirect_to=url_for("funding.show_grant", grant_id=cost.allocation.grant_id),
    )


@bp.route("/charging", methods=["GET", "POST"])
@coordinator_only
def charging():
    form, grants = _rates_form(as_saved=request.method == "GET")
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.save_policy(
                by=current_user,
                partner_day=form.partner_day.data,
                partner_half_day=form.partner_half_day.data,
                non_partner_day=form.non_partner_day.data,
                non_partner_half_day=form.non_partner_half_day.data,
                half_day_max_minutes=form.half_day_hours.data * 60,
                credit_grant=next((g for g in grants if g.id == form.credit_grant.data), None),
            ),
            success="The charging rates have been saved.",
            redirect_to=url_for("funding.charging"),
        )
        if response is not None:
            return response
    return _charging_page(form, _exemption_form(formdata=None))


def _rates_form(*, as_saved: bool) -> tuple[PolicyForm, list[Grant]]:
    """The charging rates form and the grants it offers; showing the saved rates, or what was sent."""
    form = PolicyForm(prefix="rates", formdata=None) if as_saved else PolicyForm(prefix="rates")
    grants = list(db.session.scalars(sa.select(Grant).order_by(Grant.name)))
    form.credit_grant.choices = [(0, "No grant")] + [(g.id, g.name) for g in grants]
    if as_saved:
        current = services.policy()
        form.partner_day.data = current.partner_day_pence
        form.partner_half_day.data = current.partner_half_day_pence
        form.non_partner_day.data = current.non_partner_day_pence
        form.non_partner_half_day.data = current.non_partner_half_day_pence
        form.half_day_hours.data = current.half_day_max_minutes // 60
        form.credit_grant.data = current.credit_grant_id or 0
    return form, grants


def _charging_page(form, exemption_form):
    exemptions = db.session.scalars(sa.select(ChargeExemption).options(sa.orm.joinedload(ChargeExemption.agency))).all()
    return render_template("funding/charging.html", form=form, exemption_form=exemption_form, exemptions=exemptions)


def _exemption_form(**kwargs) -> ExemptionForm:
    form = ExemptionForm(prefix="exempt", **kwargs)
    form.agency.choices = agency_choices(db.session.scalars(sa.select(Agency).order_by(Agency.name)).all())
    return form


@bp.route("/charging/exemptions", methods=["POST"])
@coordinator_only
def exemption():
    form = _exemption_form()
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency.data)
        if agency is None:
            abort(400)
        response = act(
            form,
            lambda: services.set_exemption(
                agency, by=current_user, exempt=form.exempt.data == "yes", reason=form.reason.data or ""
            ),
            success=f"{agency.name}: saved.",
            redirect_to=url_for("funding.charging"),
        )
        if response is not None:
            return response
    # Shown again with the rates as saved, the mistake beside its field (not carried through a redirect).
    return _charging_page(_rates_form(as_saved=True)[0], form)


def _month(text: str | None) -> date | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not match:
        abort(400)
    try:
        return date(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:  # a month outside 1 to 12, or year 0
        abort(400)


@bp.route("/charges")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def list_charges():
    agency_id = current_user.agency_id if current_user.is_agency_lead else query_int("agency")
    query = charges.charges_query(agency_id=agency_id, month=_month(request.args.get("month")), newest_first=True)
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("funding/charges.html", page=page, form=WaiveForm(formdata=None))


@bp.route("/charges/<int:charge_id>/waive", methods=["GET", "POST"])
@coordinator_only
def waive(charge_id: int):
    charge = db.get_or_404(Charge, charge_id)
    form = WaiveForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: charges.waive(charge.id, by=current_user, reason=form.reason.data),
            success=lambda _: f"The charge of {format_money(charge.amount_pence)} has been waived.",
            redirect_to=url_for("funding.list_charges"),
        )
        if response is not None:
            return response
    return render_template("funding/waive.html", charge=charge, form=form)


def _statement_args():
    form = StatementForm(request.args)
    agencies = db.session.scalars(sa.select(Agency).order_by(Agency.name)).all()
    if current_user.is_agency_lead:
        # Another agency's id is refused before validation, which would only call it "not a valid choice".
        if query_int("agency") not in (None, current_user.agency_id):
            abort(403)
        agencies = [a for a in agencies if a.id == current_user.agency_id]
    form.agency.choices = agency_choices(agencies)
    if request.method == "GET" and not request.args:
        form.agency.data = agencies[0].id if current_user.is_agency_lead and agencies else 0
        form.month.data = f"{_today():%Y-%m}"
        return form, None
    if not form.validate():
        return form, None
    agency = next((a for a in agencies if a.id == form.agency.data), None)
    if agency is None:
        abort(403 if current_user.is_agency_lead else 400)
    return form, charges.statement(agency, validated(_month(form.month.data)))


@bp.route("/charges/statement")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def statement():
    form, found = _statement_args()
    return render_template("funding/statement.html", form=form, statement=found)


@bp.route("/charges/statement.csv")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def statement_csv():
    form, found = _statement_args()
    if found is None:
        abort(400)
    rows = [
        (
            to_local(c.raised_at).date(),
            c.booking.user.name,
            c.booking.session.course.title,
            to_local(c.booking.session.starts_at).date(),
            c.reason.label,
            c.status.label,
            to_pounds(c.amount_pence),
            c.decided_reason or "",
        )
        for c in found.charges
    ]
    downloads.record_download(
        "charges statement",
        by=current_user,
        filters={"agency_id": found.agency.id, "month": f"{found.month:%Y-%m}"},
        rows=len(rows),
    )
    db.session.commit()
    return csv_response(
        f"charges-{found.agency.name}-{found.month:%Y-%m}.csv".replace(" ", "-"),
        ["Raised", "Learner", "Course", "Session date", "Reason", "Status", "Amount (£)", "Waiver reason"],
        rows,
    )
