"""Report pages: the board report, coverage, charts beside their tables, CSV exports."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from trainapp import downloads
from trainapp.accounts.access import roles
from trainapp.accounts.models import Agency, Role
from trainapp.acting import act
from trainapp.catalogue.models import Course, Programme
from trainapp.charts import bar_chart
from trainapp.csv_export import csv_response
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import agency_choices, show_domain_error
from trainapp.inputs import query_int
from trainapp.money import to_pounds
from trainapp.reports import queries, services
from trainapp.reports.forms import CoverageTargetForm, ReportForm
from trainapp.text import format_number
from trainapp.timezones import format_month, to_local

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = roles(Role.COORDINATOR, Role.AGENCY_LEAD)
TABLES = ("summary", "agencies", "programmes", "months", "absence")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{format_number(round(value * 100, 1))}%"


def _report_form():
    """The filter form, with agency leads held to their own agency."""
    form = ReportForm(request.args)
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.name)).all()
    form.programme.choices = [(0, "All programmes")] + [(p.id, p.name) for p in programmes]
    if current_user.is_agency_lead:
        form.agency.choices = [(current_user.agency_id, current_user.agency.name)]
    else:
        agencies = db.session.scalars(sa.select(Agency).order_by(Agency.name)).all()
        form.agency.choices = agency_choices(agencies, "All agencies")
    return form


def _shown(value: str | None) -> tuple[date, date] | None:
    """The period the page last showed, from its hidden field ("2025-04-01/2026-03-31")."""
    try:
        start, end = (date.fromisoformat(part) for part in (value or "").split("/"))
    except ValueError:
        return None
    return start, end


def _filters(form: ReportForm) -> tuple[queries.ReportFilters, str]:
    """The filters the figures use, and the preset that names their period ("" for typed dates)."""
    preset = request.args.get("preset") if "preset" in request.args else None
    start, end, preset = services.report_period(
        preset, form.start.data, form.end.data, _shown(form.shown.data), to_local(utcnow()).date()
    )
    agency_id = form.agency.data or None
    if current_user.is_agency_lead:
        if agency_id not in (None, current_user.agency_id):
            abort(403)
        agency_id = current_user.agency_id
    return queries.ReportFilters(start, end, form.programme.data or None, agency_id), preset


def _load_report():
    form = _report_form()
    if request.args and not form.validate():
        # An unknown programme or agency is a forged address, not a typing mistake.
        if form.programme.errors or form.agency.errors:
            abort(400)
        return form, None
    try:
        filters, preset = _filters(form)
    except DomainError as error:
        show_domain_error(form, error)
        return form, None
    # The form shows the period the figures cover, never boxes left as they were sent.
    form.preset.data = preset
    form.start.data, form.end.data = filters.start, filters.end
    form.start.raw_data = form.end.raw_data = None
    form.shown.data = f"{filters.start.isoformat()}/{filters.end.isoformat()}"
    return form, queries.board_report(filters, utcnow())


def _filter_args(report: queries.BoardReport | None) -> dict[str, list[str]]:
    """The period as dates, with the programme and agency, for the CSV and printable links.

    Dates rather than the preset, so a download holds exactly the figures on the page.
    """
    if report is None:
        return {}
    filters = report.filters
    args = {
        name: [str(day.day), str(day.month), str(day.year)]
        for name, day in (("start", filters.start), ("end", filters.end))
    }
    if filters.programme_id:
        args["programme"] = [str(filters.programme_id)]
    if filters.agency_id:
        args["agency"] = [str(filters.agency_id)]
    return args


def _summary(report: queries.BoardReport) -> list[tuple[str, object, str]]:
    """The summary's measures as (label, value, kind), shared by the page and its CSV.

    Each rate's label says what it divides by; with an agency chosen, both rates are that
    agency's own, and the partnership's places are shown only as places offered.
    """
    s, agency = report.summary, report.agency_name
    if agency:
        places = [
            ("Places offered (all agencies)", s.places_offered, "count"),
            (f"Places held for {agency}", s.places_held, "count"),
            (f"Places booked by {agency}", s.booked, "count"),
            (f"Attended (in full or in part), {agency}", s.attended, "count"),
            (f"Fill rate (places held for {agency} that it booked ÷ places held for it)", s.fill_rate, "percent"),
            (f"Show rate ({agency}'s people who attended ÷ places it booked)", s.show_rate, "percent"),
        ]
    else:
        places = [
            ("Places offered", s.places_offered, "count"),
            ("Places booked", s.booked, "count"),
            ("Attended (in full or in part)", s.attended, "count"),
            ("Fill rate (places booked ÷ places offered)", s.fill_rate, "percent"),
            ("Show rate (people who attended ÷ places booked)", s.show_rate, "percent"),
        ]
    return [
        ("Sessions run", s.sessions_run, "count"),
        ("Sessions cancelled", s.sessions_cancelled, "count"),
        *places,
        ("Partial attendance", s.partial, "count"),
        ("Walk-ins", s.walk_ins, "count"),
        ("Late cancellations", s.late_cancellations, "count"),
        ("No-shows", s.no_shows, "count"),
        ("Access needs requested (places booked with adjustments asked for)", s.needs_requested, "count"),
        ("Access needs arranged", s.needs_arranged, "count"),
        ("Confidence before, average of 1–5", report.confidence_before if report.responses else None, "average"),
        ("Confidence after, average of 1–5", report.confidence_after if report.responses else None, "average"),
        ("Evaluation responses", report.responses, "count"),
    ]


def _shown_value(value, kind: str) -> str:
    if kind == "percent":
        return _percent(value)
    if kind == "average":
        return "–" if value is None else f"{value:.2f}"
    return str(value)


@bp.route("/board")
@READERS
def board():
    form, report = _load_report()
    charts = _charts(report) if report else {}
    template = "reports/board_print.html" if request.args.get("print") == "1" else "reports/board.html"
    summary = [(label, _shown_value(value, kind)) for label, value, kind in _summary(report)] if report else []
    return render_template(
        template,
        form=form,
        report=report,
        charts=charts,
        percent=_percent,
        summary=summary,
        filter_args=_filter_args(report),
    ), (200 if report or not request.args else 400)


def _charts(report: queries.BoardReport) -> dict:
    months = report.by_month
    return {
        "months": bar_chart(
            "Places offered, booked and attended by month",
            [format_month(m) for m, *_ in months],
            [
                ("Offered", [o for _, o, _, _ in months]),
                ("Booked", [b for _, _, b, _ in months]),
                ("Attended", [a for _, _, _, a in months]),
            ],
            value_label=lambda v: f"{v:.0f}",
        ),
        "agencies": bar_chart(
            "Attendance by agency",
            [row.name for row in report.by_agency],
            [
                ("Booked", [row.booked for row in report.by_agency]),
                ("Attended", [row.attended for row in report.by_agency]),
            ],
            value_label=lambda v: f"{v:.0f}",
        ),
        "programmes": bar_chart(
            "Show rate by programme",
            [row.name for row in report.by_programme],
            [("Show rate", [round((row.show_rate or 0) * 100, 1) for row in report.by_programme])],
            value_label=lambda v: f"{format_number(v)}%",
        ),
    }


@bp.route("/board.csv")
@READERS
def board_csv():
    table = request.args.get("table", "summary")
    if table not in TABLES:
        abort(400)
    form, report = _load_report()
    if report is None:
        abort(400)
    header, rows = _board_table(table, report)
    filters = report.filters
    downloads.record_download(
        "board report",
        by=current_user,
        filters={
            "table": table,
            "start": filters.start,
            "end": filters.end,
            "programme_id": filters.programme_id,
            "agency_id": filters.agency_id,
        },
        rows=len(rows),
    )
    db.session.commit()
    return csv_response(f"board-{table}-{filters.start}-{filters.end}.csv", header, rows)


def _board_table(table: str, report: queries.BoardReport) -> tuple[list[str], list[tuple]]:
    """One table of the board report as a CSV's header and rows."""
    if table == "summary":
        rows = [(label, _csv_value(value, kind)) for label, value, kind in _summary(report)]
        # The partnership's costs are not one agency's business; its own charges are.
        if current_user.is_coordinator:
            rows += [
                ("Costs committed (£)", to_pounds(report.costs_committed)),
                ("Costs paid (£)", to_pounds(report.costs_paid)),
            ]
        rows += [
            ("Charges raised", report.charges_raised),
            ("Charges raised (£)", to_pounds(report.charges_raised_pence)),
            ("Charges waived", report.charges_waived),
            ("Charges waived (£)", to_pounds(report.charges_waived_pence)),
        ]
        return ["Measure", "Value"], rows
    if table == "agencies":
        return (
            [
                "Agency",
                "Booked",
                "Attended",
                "Show rate",
                "No-shows",
                "Walk-ins",
                "Access needs requested",
                "Access needs arranged",
            ],
            [
                (
                    r.name,
                    r.booked,
                    r.attended,
                    _percent(r.show_rate),
                    r.no_shows,
                    r.walk_ins,
                    r.needs_requested,
                    r.needs_arranged,
                )
                for r in report.by_agency
            ],
        )
    if table == "programmes":
        return (
            ["Programme", "Sessions run", "Places offered", "Booked", "Attended", "Show rate"],
            [(r.name, r.sessions, r.offered, r.booked, r.attended, _percent(r.show_rate)) for r in report.by_programme],
        )
    if table == "months":
        return (
            ["Month", "Offered", "Booked", "Attended"],
            [(f"{m:%Y-%m}", o, b, a) for m, o, b, a in report.by_month],
        )
    return ["Reason for absence", "Number"], list(report.absence.items())


def _csv_value(value, kind: str):
    if kind == "percent":
        return _percent(value)
    if kind == "average":
        return "" if value is None else round(value, 2)
    return value


def _coverage_agency() -> int | None:
    if current_user.is_agency_lead:
        return current_user.agency_id
    agency_id = query_int("agency")
    if agency_id is not None and db.session.get(Agency, agency_id) is None:
        abort(400)
    return agency_id


SORTS = {
    "agency": lambda r: (r.agency.name, r.course.title),
    "course": lambda r: (r.course.title, r.agency.name),
    "gap": lambda r: (-r.gap, r.agency.name),
    "overdue": lambda r: (-r.overdue, r.agency.name),
}


@bp.route("/coverage", methods=["GET", "POST"])
@READERS
def coverage():
    sort = request.args.get("sort", "agency")
    if sort not in SORTS:
        abort(400)
    form = CoverageTargetForm()
    if form.is_submitted() and current_user.is_agency_lead and form.agency.data not in (None, current_user.agency_id):
        abort(403)  # another agency's target: a forged form, not a choice the page offered
    agencies = (
        db.session.scalars(sa.select(Agency).order_by(Agency.name)).all()
        if current_user.is_coordinator
        else [current_user.agency]
    )
    courses = db.session.scalars(sa.select(Course).order_by(Course.title)).all()
    form.agency.choices = agency_choices(agencies, None)
    form.course.choices = [(c.id, c.title) for c in courses]
    if form.validate_on_submit():
        agency = next((a for a in agencies if a.id == form.agency.data), None)
        course = next((c for c in courses if c.id == form.course.data), None)
        if agency is None or course is None:
            abort(403 if current_user.is_agency_lead else 400)
        response = act(
            form,
            lambda: services.save_target(
                by=current_user, agency=agency, course=course, staff_needed=form.staff_needed.data
            ),
            success=f"{agency.name} needs {form.staff_needed.data} staff trained in {course.title}.",
            redirect_to=url_for("reports.coverage"),
        )
        if response is not None:
            return response
    rows = sorted(queries.coverage(to_local(utcnow()).date(), _coverage_agency()), key=SORTS[sort])
    return render_template("reports/coverage.html", rows=rows, form=form, sort=sort)


@bp.route("/coverage.csv")
@READERS
def coverage_csv():
    agency_id = _coverage_agency()
    rows = queries.coverage(to_local(utcnow()).date(), agency_id)
    header = [
        "Agency",
        "Course",
        "Staff needed",
        "Trained and in date",
        "Due within 90 days",
        "Overdue",
        "Still to train",
    ]
    downloads.record_download("training coverage", by=current_user, filters={"agency_id": agency_id}, rows=len(rows))
    db.session.commit()
    return csv_response(
        "coverage.csv",
        header,
        [(r.agency.name, r.course.title, r.needed, r.in_date, r.due_soon, r.overdue, r.gap) for r in rows],
    )
