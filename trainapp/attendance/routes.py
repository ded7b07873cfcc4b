"""Registers, learner records, evaluations, certificates and the public certificate check."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts.access import public, require, roles, signed_in
from trainapp.accounts.models import Agency, Role, User
from trainapp.attendance import history, services
from trainapp.attendance.certificate_pdf import certificate_pdf
from trainapp.attendance.forms import (
    EvaluationForm,
    EveryoneAttendedForm,
    RegisterForm,
    VerifyForm,
    WalkInForm,
    parse_marks,
)
from trainapp.attendance.models import Certificate, Evaluation, EvaluationKind, RegisterSubmission
from trainapp.bookings.models import AttendanceStatus, Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.filters import external_url
from trainapp.forms import ConfirmForm, show_domain_error

bp = Blueprint("attendance", __name__)


def _register_session(session_id: int) -> tuple[TrainingSession, services.RegisterAccess]:
    session = db.get_or_404(TrainingSession, session_id)
    access = services.register_access(session, current_user, utcnow())
    require(access.can_view)
    return session, access


@bp.route("/sessions/<int:session_id>/register", methods=["GET", "POST"])
@roles(Role.TRAINER, Role.COORDINATOR)
def register(session_id: int):
    session, access = _register_session(session_id)
    rows = services.register_rows(session)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            parsed = parse_marks(request.form, [b.id for b in rows])
        except ValueError:
            abort(400)
        marks = {booking_id: services.Mark(status, minutes) for booking_id, (status, minutes) in parsed.items()}
        try:
            services.mark_register(session.id, marks, by=current_user, reason=form.reason.data)
            if form.submit.data:
                services.submit_register(session.id, by=current_user, reason=form.reason.data)
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
            rows = services.register_rows(db.session.get(TrainingSession, session_id))
            return render_template(
                "attendance/register.html",
                session=session,
                rows=rows,
                form=form,
                access=access,
                submitted=None,
                pending=parsed,
                # A row's field is not on the form: its error is shown beside it from here.
                row_errors={error.field: [error.message]} if error.field else {},
                everyone=EveryoneAttendedForm(formdata=None),
                statuses=list(AttendanceStatus),
                corrections=history.register_corrections(session, services.register_locks_at(session)),
            )
        db.session.commit()
        flash(
            "The register has been submitted and the session marked delivered."
            if form.submit.data
            else "The marks have been saved."
        )
        return redirect(url_for("attendance.register", session_id=session.id))
    submitted = db.session.scalar(sa.select(RegisterSubmission).where(RegisterSubmission.session_id == session.id))
    return render_template(
        "attendance/register.html",
        session=session,
        rows=rows,
        form=form,
        access=access,
        submitted=submitted,
        pending={},
        row_errors={},
        everyone=EveryoneAttendedForm(formdata=None),
        statuses=list(AttendanceStatus),
        corrections=history.register_corrections(session, services.register_locks_at(session)),
    )


@bp.route("/sessions/<int:session_id>/register/everyone-attended", methods=["POST"])
@roles(Role.TRAINER, Role.COORDINATOR)
def everyone_attended(session_id: int):
    session, _access = _register_session(session_id)
    form = EveryoneAttendedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark_everyone_attended(session.id, by=current_user, reason=form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("Everyone is marked attended. Change anyone who was not, then submit the register.")
    return redirect(url_for("attendance.register", session_id=session.id))


@bp.route("/sessions/<int:session_id>/register/walk-in", methods=["GET", "POST"])
@roles(Role.TRAINER, Role.COORDINATOR)
def walk_in(session_id: int):
    session, access = _register_session(session_id)
    form = WalkInForm()
    agencies = db.session.scalars(sa.select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)).all()
    form.agency.choices = [(0, "Choose an agency")] + [(a.id, a.name) for a in agencies]
    if form.validate_on_submit():
        from trainapp.accounts.services import find_user_by_email

        person = find_user_by_email(form.email.data)
        agency = next((a for a in agencies if a.id == form.agency.data), None)
        try:
            booking = services.add_walk_in(
                session.id,
                by=current_user,
                person=person,
                name=form.name.data or "",
                email=form.email.data,
                agency=agency,
                reason=form.reason.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{booking.user.name} has been added as a walk-in and marked attended.")
            return redirect(url_for("attendance.register", session_id=session.id))
    return render_template("attendance/walk_in.html", session=session, form=form, access=access)


@bp.route("/my-training")
@signed_in
def my_training():
    record = services.learner_record(current_user, utcnow())
    evaluated = _evaluated(record.history)
    return render_template("attendance/record.html", person=current_user, record=record, evaluated=evaluated, own=True)


def _evaluated(bookings: list[Booking]) -> set[tuple[int, str]]:
    if not bookings:
        return set()
    rows = db.session.execute(
        sa.select(Evaluation.booking_id, Evaluation.kind).where(Evaluation.booking_id.in_([b.id for b in bookings]))
    ).all()
    return {(booking_id, str(kind)) for booking_id, kind in rows}


@bp.route("/people/<int:user_id>/training")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def person_training(user_id: int):
    person = db.get_or_404(User, user_id)
    require(current_user.can_manage_staff_of(person.agency_id))
    record = services.learner_record(person, utcnow())
    return render_template("attendance/record.html", person=person, record=record, evaluated=set(), own=False)


@bp.route("/refreshers")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def refreshers():
    agency_id = None if current_user.is_coordinator else current_user.agency_id
    number = _page_number()
    page = services.agency_refreshers(agency_id, utcnow(), page=number, per_page=current_app.config["PAGE_SIZE"])
    if number > 1 and not page.items:
        abort(404)
    return render_template("attendance/refreshers.html", page=page)


def _page_number() -> int:
    number = request.args.get("page", 1, type=int)
    if number < 1:
        abort(404)
    return number


def _own_booking(booking_id: int) -> Booking:
    booking = db.get_or_404(Booking, booking_id)
    if booking.user_id != current_user.id:
        abort(404)
    return booking


@bp.route("/bookings/<int:booking_id>/evaluation", methods=["GET", "POST"])
@signed_in
def evaluation(booking_id: int):
    booking = _own_booking(booking_id)
    try:
        kind = EvaluationKind(request.args.get("kind", "after"))
    except ValueError:
        abort(400)
    form = EvaluationForm()
    if form.validate_on_submit():
        try:
            services.submit_evaluation(
                booking,
                kind,
                by=current_user,
                before=int(form.confidence_before.data),
                after=int(form.confidence_after.data),
                comments=form.comments.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash("Thank you. Your answers help the partnership improve its training.")
            return redirect(url_for("attendance.my_training"))
    return render_template("attendance/evaluation.html", booking=booking, form=form, kind=kind)


def _certificate_booking(booking_id: int) -> Booking:
    booking = db.get_or_404(Booking, booking_id)
    if not booking.can_be_seen_by(current_user):
        abort(404)
    return booking


def _issued_certificate(booking: Booking):
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.booking_id == booking.id))
    if certificate is None:
        abort(404)
    return certificate


@bp.route("/bookings/<int:booking_id>/certificate/issue", methods=["POST"])
@signed_in
def issue_certificate(booking_id: int):
    booking = _own_booking(booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.issue_certificate(booking)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("attendance.my_training"))
    db.session.commit()
    return redirect(url_for("attendance.certificate", booking_id=booking.id))


@bp.route("/bookings/<int:booking_id>/certificate")
@signed_in
def certificate(booking_id: int):
    issued = _issued_certificate(_certificate_booking(booking_id))
    return render_template(
        "attendance/certificate.html", certificate=issued, verify_url=external_url("attendance.verify")
    )


@bp.route("/bookings/<int:booking_id>/certificate.pdf")
@signed_in
def certificate_download(booking_id: int):
    issued = _issued_certificate(_certificate_booking(booking_id))
    pdf = certificate_pdf(issued, current_app.config["ORGANISATION_NAME"], external_url("attendance.verify"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{issued.number}.pdf"'},
    )


@bp.route("/certificates/verify")
@public
def verify():
    form = VerifyForm(request.args)
    found = None
    checked = bool(request.args)
    if checked and form.validate():
        found = services.find_certificate(form.number.data)
    status = 404 if checked and not form.errors and found is None else 200
    return render_template(
        "attendance/verify.html",
        form=form if checked else VerifyForm(formdata=None),
        found=found,
        checked=checked and not form.errors,
    ), status


# History ------------------------------------------------------------------------------------


def _history_page(query, **context):
    page = db.paginate(query, page=_page_number(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("attendance/history.html", page=page, entries=history.entries(page.items), **context)


@bp.route("/bookings/<int:booking_id>/history")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def booking_history(booking_id: int):
    booking = db.get_or_404(Booking, booking_id)
    if not current_user.can_manage_staff_of(booking.agency_id):
        abort(404)  # another agency's booking: not something this lead can know exists
    return _history_page(
        history.booking_history(booking),
        title=f"History of a booking: {booking.user.name}, {booking.session.course.title}",
        caption=booking.session.starts_at,
        about_column=False,
        back=(
            url_for("bookings.session_bookings", session_id=booking.session_id)
            if current_user.is_coordinator
            else url_for("bookings.agency_bookings")
        ),
    )


@bp.route("/sessions/<int:session_id>/register/history")
@roles(Role.TRAINER, Role.COORDINATOR)
def register_history(session_id: int):
    session, _access = _register_session(session_id)
    return _history_page(
        history.register_history(session),
        title=f"History of the register: {session.course.title}",
        caption=session.starts_at,
        about_column="Learner",
        back=url_for("attendance.register", session_id=session.id),
    )


@bp.route("/people/<int:user_id>/history")
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def person_history(user_id: int):
    person = db.get_or_404(User, user_id)
    require(current_user.can_manage_staff_of(person.agency_id))
    # An agency lead sees the bookings made with their agency, not the person's account.
    agency_id = None if current_user.is_coordinator else current_user.agency_id
    return _history_page(
        history.person_history(person, agency_id=agency_id),
        title=f"History: {person.name}" if agency_id is None else f"Booking history: {person.name}",
        caption=None,
        about_column="Session",
        back=url_for("attendance.person_training", user_id=person.id),
    )
