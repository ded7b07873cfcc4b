"""A person's own data, for them and for coordinators; the audit trail, for coordinators."""

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts.access import coordinator_only, signed_in
from trainapp.accounts.models import User
from trainapp.csv_export import csv_response
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import choices, show_domain_error
from trainapp.governance import audit_trail, personal_data
from trainapp.governance.forms import AuditSearchForm
from trainapp.inputs import query_page
from trainapp.text import content_disposition

bp = Blueprint("governance", __name__)


# A person's own data ------------------------------------------------------------------------


def _produce(person: User, format: str) -> dict:
    data = personal_data.produce_personal_data(person, by=current_user, format=format, now=utcnow())
    db.session.commit()  # the copy's audit row, before the copy leaves
    return data


def _page(person: User, own: bool):
    return render_template("governance/personal_data.html", person=person, data=_produce(person, "page"), own=own)


def _download(person: User) -> Response:
    return Response(
        personal_data.as_json(_produce(person, "json")),
        mimetype="application/json",
        headers={"Content-Disposition": content_disposition(personal_data.download_name(person))},
    )


@bp.route("/account/your-data")
@signed_in
def your_data():
    return _page(current_user._get_current_object(), own=True)


@bp.route("/account/your-data.json")
@signed_in
def your_data_json():
    return _download(current_user._get_current_object())


@bp.route("/users/<int:user_id>/data")
@coordinator_only
def person_data(user_id: int):
    return _page(db.get_or_404(User, user_id), own=False)


@bp.route("/users/<int:user_id>/data.json")
@coordinator_only
def person_data_json(user_id: int):
    return _download(db.get_or_404(User, user_id))


# The audit trail ----------------------------------------------------------------------------


def _search_form() -> tuple[AuditSearchForm, audit_trail.AuditFilters | None]:
    """The form as sent, and the filters it gives, or None when something in it needs fixing."""
    form = AuditSearchForm(request.args)
    form.action.choices = choices([("", "Any action"), *audit_trail.actions()])
    if request.args and not form.validate():
        if form.action.errors:
            abort(400)  # not one of the list's actions: a forged address, not a typing mistake
        return form, None
    filters = audit_trail.AuditFilters(
        person=(form.person.data or "").strip() or None,
        session_id=form.session.data,
        action=form.action.data or None,
        start=form.start.data,
        end=form.end.data,
    )
    try:
        return form, audit_trail.check_filters(filters)
    except DomainError as error:
        show_domain_error(form, error)
        return form, None


@bp.route("/audit")
@coordinator_only
def audit_events():
    form, filters = _search_form()
    if filters is None:
        return render_template("governance/audit.html", form=form, page=None, rows=[]), 400
    page = db.paginate(audit_trail.search(filters), page=query_page(), per_page=current_app.config["PAGE_SIZE"])
    # The download holds every page of the same search.
    query = urlencode([(name, value) for name, value in request.args.items(multi=True) if name != "page"])
    return render_template(
        "governance/audit.html",
        form=form,
        page=page,
        rows=audit_trail.describe(list(page.items)),
        csv_url=url_for("governance.audit_events_csv") + (f"?{query}" if query else ""),
    )


@bp.route("/audit.csv")
@coordinator_only
def audit_events_csv():
    form, filters = _search_form()
    if filters is None:
        abort(400)
    rows = audit_trail.csv_rows(filters)
    audit_trail.record_export(filters, len(rows), by=current_user)
    db.session.commit()
    return csv_response("audit-trail.csv", audit_trail.CSV_HEADER, rows)
