"""Coordinators and agency leads bring in staff lists and leavers from a spreadsheet: upload,
check the preview, then apply it."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from trainapp.accounts.access import roles
from trainapp.accounts.models import Agency, Role
from trainapp.acting import act
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import agency_choices, flash_error
from trainapp.inputs import accepts_upload, query_page
from trainapp.paging import ListPage
from trainapp.people import reading, services
from trainapp.people.forms import ApplyForm, UploadForm
from trainapp.people.models import ImportKind, StaffImport
from trainapp.text import content_disposition

bp = Blueprint("people", __name__)

USE_THE_FILE = "Use the agency column in the file"
# Room in the request for the form's other fields and the multipart boundaries around the file.
_FORM_ALLOWANCE = 64 * 1024

# What each outcome in a plan is called on the preview, in the order the counts are shown.
OUTCOME_LABELS = {
    ImportKind.STAFF: {"create": "To add", "update": "To update", "unchanged": "Unchanged", "error": "With errors"},
    ImportKind.LEAVERS: {"leave": "To deactivate", "unchanged": "Already left", "error": "With errors"},
}
ERROR = services.ERROR
# A row's own tag: a reactivation is counted, and filtered, with the updates.
ROW_LABELS = {kind: {**labels, "reactivate": "To reactivate"} for kind, labels in OUTCOME_LABELS.items()}
UPLOADERS = (Role.COORDINATOR, Role.AGENCY_LEAD)


def _upload_form(**kwargs) -> UploadForm:
    form = UploadForm(**kwargs)
    if current_user.is_coordinator:
        agencies = db.session.scalars(sa.select(Agency).where(Agency.active.is_(True)).order_by(Agency.name))
        form.agency.choices = agency_choices(agencies, USE_THE_FILE)
    else:
        del form.agency
    return form


def _render_upload(form: UploadForm, status: int = 200):
    return render_template("people/upload.html", form=form, max_rows=reading.MAX_ROWS), status


def _where_people_are_listed() -> str:
    return url_for("users.list_users") if current_user.is_coordinator else url_for("users.agency_staff")


@bp.route("/people/import", methods=["GET", "POST"])
@roles(*UPLOADERS)
@accepts_upload(reading.MAX_BYTES + _FORM_ALLOWANCE)
def upload():
    form = _upload_form()
    if request.method == "GET":
        return _render_upload(form)
    if form.validate_on_submit():
        # A coordinator chooses the agency, or none to use the file's column (a lead's is always
        # their own: the service decides that).
        agency = None
        if current_user.is_coordinator and form.agency.data:
            agency = db.session.get(Agency, form.agency.data)
            if agency is None:
                abort(400)
        upload = form.file.data
        response = act(
            form,
            lambda: services.preview_import(
                by=current_user,
                filename=upload.filename or "",
                data=upload.read(),
                kind=ImportKind(form.kind.data),
                agency=agency,
            ),
            redirect_to=lambda staff_import: url_for("people.preview", import_id=staff_import.id),
        )
        if response is not None:
            return response
    return _render_upload(form, 400)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    # A file larger than the upload allows is refused before the view runs: say so beside the
    # file field, rather than on a page of its own.
    if request.endpoint == "people.upload" and current_user.is_authenticated and current_user.role in UPLOADERS:
        form = _upload_form(formdata=None)
        form.file.errors = [reading.TOO_LARGE]
        return _render_upload(form, 413)
    return render_template(
        "errors/error.html", code=413, title="What you sent is too large", detail="Go back, send less and try again."
    ), 413


@bp.route("/people/import/template.csv")
@roles(*UPLOADERS)
def template():
    response = Response(services.template_csv(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition("staff-list-template.csv")
    return response


def _find_import(import_id: int) -> StaffImport | None:
    """The signed-in person's preview; None (with the reason flashed) when it has expired."""
    try:
        return services.find_import(import_id, by=current_user)
    except DomainError as error:
        flash_error(error.message, "file")
        return None


def _confirm_label(kind: ImportKind, counts: dict[str, int]) -> str:
    if kind == ImportKind.LEAVERS:
        people = counts.get("leave", 0)
        what = f"Deactivate {people} {'person' if people == 1 else 'people'}"
        bookings = counts["bookings"]
        if bookings == 0:
            return what
        return f"{what} and cancel their {bookings} future booking{'s' if bookings != 1 else ''}"
    parts = []
    if counts.get("create"):
        parts.append(f"Add {counts['create']} {'person' if counts['create'] == 1 else 'people'}")
    if counts.get("update"):
        parts.append(f"update {counts['update']}" if parts else f"Update {counts['update']}")
    return " and ".join(parts) or "Apply"


def _render_preview(staff_import: StaffImport, form: ApplyForm, status: int = 200):
    labels = OUTCOME_LABELS[staff_import.kind]
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in labels:
        abort(400)
    counts = services.plan_counts(staff_import)
    per_page = current_app.config["PAGE_SIZE"]
    errors = services.plan_rows(staff_import, outcome=ERROR) if counts.get(ERROR) else []
    rows = services.plan_rows(staff_import, outcome=outcome)
    page_number = query_page()
    page = ListPage(rows[(page_number - 1) * per_page : page_number * per_page], page_number, per_page, len(rows))
    if page_number > page.pages:
        abort(404)
    changes = sum(count for name, count in counts.items() if name in labels and name not in (ERROR, "unchanged"))
    form.submit.label.text = _confirm_label(staff_import.kind, counts)
    return render_template(
        "people/preview.html",
        staff_import=staff_import,
        labels=labels,
        row_labels=ROW_LABELS[staff_import.kind],
        counts=counts,
        errors=errors[:per_page],
        more_errors=max(len(errors) - per_page, 0),
        outcome=outcome,
        page=page,
        changes=changes,
        form=form,
    ), status


@bp.route("/people/import/<int:import_id>")
@roles(*UPLOADERS)
def preview(import_id: int):
    staff_import = _find_import(import_id)
    if staff_import is None:
        return redirect(url_for("people.upload"))
    return _render_preview(staff_import, ApplyForm(formdata=None))


@bp.route("/people/import/<int:import_id>/apply", methods=["POST"])
@roles(*UPLOADERS)
def apply(import_id: int):
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    refusals: list[DomainError] = []
    response = act(
        form,
        lambda: services.apply_import(import_id, by=current_user, apply_valid=bool(form.apply_valid.data)),
        success=lambda result: result.sentence(),
        redirect_to=_where_people_are_listed(),
        on_error=refusals.append,
    )
    if response is not None:
        return response
    try:
        staff_import = _find_import(import_id)
    except NotFound:
        # Applied already, by this same form sent twice: say so where the people are listed.
        flash_error(refusals[0].message if refusals else "This list has already been applied")
        return redirect(_where_people_are_listed())
    if staff_import is None:
        return redirect(url_for("people.upload"))
    return _render_preview(staff_import, form, 400)
