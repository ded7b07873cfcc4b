"""Registers, learner records, evaluations, certificates and the public certificate check."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from trainapp import downloads
from trainapp.accounts.access import public, require, roles, signed_in
from trainapp.accounts.models import Role, User
from trainapp.accounts.services import active_agencies, find_user_by_email
from trainapp.acting import act, act_from_button
from trainapp.attendance import history, services
from trainapp.attendance.certificate_pdf import certificate_pdf
from trainapp.attendance.forms import (
    EvaluationForm,
    EveryoneAttendedForm,
    RegisterForm,
    VerifyForm,
    WalkInForm,
)
from trainapp.attendance.models import Certificate, Evaluation, EvaluationKind, RegisterSubmission
from trainapp.bookings.access_needs import visible_access_needs
from trainapp.bookings.models import AttendanceStatus, Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.filters import external_url
from trainapp.forms import ConfirmForm, agency_choices
from trainapp.inputs import query_page
from trainapp.text import content_disposition

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
    form = RegisterForm(services.register_rows(session))
    if not form.validate_on_submit():
        return _register_page(session, access, form, submitted=_submission(session))
    marks = _marks_sent(form)
    row_errors: dict[str, list[str]] = {}
    done = act(
        form,
        lambda: _save_register(session, form, marks),
        redirect_to=url_for("attendance.register", session_id=session.id),
        success=(
            "The register has been submitted and the session marked delivered."
            if form.submit.data
            else "The marks have been saved."
        ),
        # A row's field is not on the form: its error is shown beside it from here.
        on_error=lambda error: row_errors.update({error.field: [error.message]} if error.field else {}),
    )
    if done is not None:
        return done
    # The rollback expired the rows: load them again, still showing what was sent.
    form.show_rows(services.register_rows(session))
    return _register_page(session, access, form, submitted=None, row_errors=row_errors)


def _marks_sent(form: RegisterForm) -> dict[int, services.Mark]:
    """The marks chosen on the register, by booking; a status that does not exist is a forged form."""
    try:
        chosen = form.marks()
    except ValueError:
        abort(400)
    return {booking_id: services.Mark(status, minutes) for booking_id, (status, minutes) in chosen.items()}


def _save_register(session: TrainingSession, form: RegisterForm, marks: dict[int, services.Mark]) -> None:
    """Record the marks, then submit the register when that was the button pressed."""
    services.mark_register(session.id, marks, by=current_user, reason=form.reason.data)
    if form.submit.data:
        services.submit_register(session.id, by=current_user, reason=form.reason.data)


def _submission(session: TrainingSession) -> RegisterSubmission | None:
    """Who submitted the register and when, if it has been."""
    return db.session.scalar(sa.select(RegisterSubmission).where(RegisterSubmission.session_id == session.id))


def _register_page(
    session: TrainingSession,
    access: services.RegisterAccess,
    form: RegisterForm,
    *,
    submitted: RegisterSubmission | None,
    row_errors: dict[str, list[str]] | None = None,
) -> str:
    """The register with a row for each booking, the buttons this person may use, and any corrections."""
    return render_template(
        "attendance/register.html",
        session=session,
        rows=form.bookings,
        needs=visible_access_needs(current_user, form.bookings),
        form=form,
        access=access,
        submitted=submitted,
        row_errors=row_errors or {},
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
    return act_from_button(
        lambda: services.mark_everyone_attended(session.id, by=current_user, reason=form.reason.data),
        success="Everyone is marked attended. Change anyone who was not, then submit the register.",
        redirect_to=url_for("attendance.register", session_id=session.id),
    )


@bp.route("/sessions/<int:session_id>/register/walk-in", methods=["GET", "POST"])
@roles(Role.TRAINER, Role.COORDINATOR)
def walk_in(session_id: int):
    session, access = _register_session(session_id)
    form = WalkInForm()
    agencies = active_agencies()
    form.agency.choices = agency_choices(agencies)
    if form.validate_on_submit():
        person = find_user_by_email(form.email.data)
        agency = next((a for a in agencies if a.id == form.agency.data), None)
        response = act(
            form,
            lambda: services.add_walk_in(
                session.id,
                by=current_user,
                person=person,
                name=form.name.data or "",
                email=form.email.data,
                agency=agency,
                reason=form.reason.data,
            ),
            success=lambda booking: f"{booking.user.name} has been added as a walk-in and marked attended.",
            redirect_to=url_for("attendance.register", session_id=session.id),
        )
        if response is not None:
            return response
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
    number = query_page()
    page = services.agency_refreshers(agency_id, utcnow(), page=number, per_page=current_app.config["PAGE_SIZE"])
    if number > 1 and not page.items:
        abort(404)
    return render_template("attendance/refreshers.html", page=page)


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
        response = act(
            form,
            lambda: services.submit_evaluation(
                booking,
                kind,
                by=current_user,
                before=int(form.confidence_before.data),
                after=int(form.confidence_after.data),
                comments=form.comments.data or "",
            ),
            success="Thank you. Your answers help the partnership improve its training.",
            redirect_to=url_for("attendance.my_training"),
        )
        if response is not None:
            return response
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
    return act_from_button(
        lambda: services.issue_certificate(booking),
        redirect_to=url_for("attendance.certificate", booking_id=booking.id),
        back_to=url_for("attendance.my_training"),
    )


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
    downloads.record_download("certificate", by=current_user, filters={}, entity=issued)
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": content_disposition(f"certificate-{issued.number}.pdf")},
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
    page = db.paginate(query, page=query_page(), per_page=current_app.config["PAGE_SIZE"])
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
