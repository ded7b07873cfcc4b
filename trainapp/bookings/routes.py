"""Booking pages: book, join the waiting list, cancel, transfer, approve, hold places."""

from datetime import datetime, time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainapp.accounts.access import coordinator_only, require, roles, signed_in
from trainapp.accounts.models import Role
from trainapp.accounts.services import active_agencies
from trainapp.acting import act, act_from_button
from trainapp.bookings import access_needs, queries, rules, services
from trainapp.bookings.forms import (
    AccessNeedsForm,
    BookForm,
    BookForOthersForm,
    BookingAccessNeedsForOthersForm,
    CancelBookingForm,
    ChooseAgencyForm,
    DecisionForm,
    DeclineForm,
    MoveForm,
    ReservationForm,
    SavedAccessNeedsForm,
    TransferForm,
)
from trainapp.bookings.models import AgencyReservation, Booking, BookingStatus
from trainapp.catalogue.models import TrainingSession
from trainapp.catalogue.places import places_left
from trainapp.catalogue.queries import visible_session
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import agency_choices, flash_error, flash_form_errors
from trainapp.inputs import query_page
from trainapp.timezones import format_when, local_to_utc

bp = Blueprint("bookings", __name__)


def _session_page(session_id: int):
    return redirect(url_for("catalogue.show_session", session_id=session_id))


def _visible_booking(booking_id: int) -> Booking:
    """A booking the current person may see: their own, their agency's staff's, or any for coordinators."""
    booking = db.get_or_404(Booking, booking_id)
    if not booking.can_be_seen_by(current_user):
        abort(404)
    return booking


@bp.route("/sessions/<int:session_id>/book", methods=["GET", "POST"])
@signed_in
def book(session_id: int):
    session = visible_session(session_id)
    now = utcnow()
    form = BookForm()
    if not form.is_submitted():
        form.fill_from(access_needs.saved_access_needs(current_user))
    if form.validate_on_submit():
        return act_from_button(
            lambda: services.book_place(session.id, current_user, by=current_user, now=now, needs=form.answer()),
            success=lambda booking: _outcome(booking, "You"),
            redirect_to=url_for("catalogue.show_session", session_id=session.id),
        )
    panel = queries.session_panel(session, current_user, now)
    problem = None
    try:
        rules.check_can_book(session, current_user, now)
    except DomainError as error:
        problem = error.message
    return render_template(
        "bookings/book.html",
        session=session,
        form=form,
        panel=panel,
        problem=problem,
        overlaps=rules.overlapping_bookings(current_user, session),
        same_course=rules.places_on_same_course(current_user, session, now),
        approval_working_days=rules.APPROVAL_WORKING_DAYS,
    ), _status(form)


def _status(form) -> int:
    """400 for a form sent with mistakes, so the refusal is plain to any client."""
    return 400 if form.errors else 200


def _same_course_warning(name: str, other: Booking) -> str:
    return (
        f"{name} already has a place on another session of {other.session.course.title}, "
        f"on {format_when(other.session.starts_at, other.session.ends_at)}."
    )


def _outcome(booking: Booking, who: str) -> str:
    have = "have" if who == "You" else "has"
    are = "are" if who == "You" else "is"
    if booking.status == BookingStatus.CONFIRMED:
        return f"{who} {have} a place on {booking.session.course.title}."
    if booking.status == BookingStatus.AWAITING_APPROVAL:
        holder = "you" if who == "You" else who
        return f"A place is held for {holder}: it needs the agency lead's approval."
    return (
        f"The session is full. {who} {are} number {services.waiting_position(booking)} on the waiting list; "
        "a place that comes free is given automatically."
    )


@bp.route("/sessions/<int:session_id>/book-for", methods=["GET", "POST"])
@roles(Role.COORDINATOR, Role.AGENCY_LEAD)
def book_for_others(session_id: int):
    session = visible_session(session_id)
    now = utcnow()
    if places_left([session], current_user, now)[session.id] is None:
        flash_error("This session takes no more bookings: it has been cancelled or has started.")
        return _session_page(session.id)
    chooser = ChooseAgencyForm(request.args)
    if current_user.is_coordinator:
        chooser.agency.choices = agency_choices(active_agencies())
        agency_id = chooser.agency.data if chooser.validate() else None
    else:
        agency_id = current_user.agency_id
    staff = queries.bookable_staff(agency_id) if agency_id else []
    form = BookForOthersForm()
    form.people.choices = [(p.id, f"{p.name}, {p.job_title}" if p.job_title else p.name) for p in staff]
    if form.validate_on_submit():
        chosen = {p.id: p for p in staff}
        learners = [chosen[i] for i in form.people.data if i in chosen]
        if len(learners) != len(form.people.data):
            abort(400)
        response = act(
            form,
            lambda: services.book_group(session.id, learners, by=current_user, now=now, needs=form.answer()),
            then=lambda result: _flash_group_outcome(result, session, now),
            redirect_to=(
                url_for("bookings.session_bookings", session_id=session.id)
                if current_user.is_coordinator
                else url_for("bookings.agency_bookings")
            ),
        )
        if response is not None:
            return response
    return render_template(
        "bookings/book_for.html",
        session=session,
        form=form,
        chooser=chooser,
        agency_id=agency_id,
        staff=staff,
    ), _status(form)


def _flash_group_outcome(result: services.GroupResult, session: TrainingSession, now: datetime) -> None:
    """One line per person: booked, waiting or refused, with a warning for a second place."""
    for booking in result.booked:
        flash(_outcome(booking, booking.user.name))
        for other in rules.places_on_same_course(booking.user, session, now):
            flash(_same_course_warning(booking.user.name, other), "info")
    for learner, message in result.refused:
        flash_error(f"{learner.name}: {message}")


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@signed_in
def cancel(booking_id: int):
    booking = _visible_booking(booking_id)
    form = CancelBookingForm()
    now = utcnow()
    if form.validate_on_submit():
        return act_from_button(
            lambda: services.cancel_booking(booking.id, by=current_user, reason=form.reason.data or "", now=now),
            success=lambda cancelled: (
                "The booking has been cancelled."
                + (
                    " It was after the notice period, so it is recorded as a late cancellation."
                    if cancelled.is_late_cancellation
                    else ""
                )
            ),
            redirect_to=(
                url_for("bookings.my_bookings") if booking.user_id == current_user.id else _back_for_manager(booking)
            ),
        )
    late = booking.status.holds_place and rules.is_late(booking.session, now)
    return render_template(
        "bookings/cancel.html",
        booking=booking,
        form=form,
        late=late,
        last_day=rules.last_day_to_cancel(booking.session),
    )


def _back_for_manager(booking: Booking) -> str:
    if current_user.is_coordinator:
        return url_for("bookings.session_bookings", session_id=booking.session_id)
    return url_for("bookings.agency_bookings")


@bp.route("/bookings/<int:booking_id>/transfer", methods=["GET", "POST"])
@signed_in
def transfer(booking_id: int):
    booking = _visible_booking(booking_id)
    colleagues = (
        [p for p in queries.bookable_staff(booking.agency_id) if p.id != booking.user_id] if booking.agency_id else []
    )
    form = TransferForm()
    form.colleague.choices = [(p.id, p.name) for p in colleagues]
    if form.validate_on_submit():
        colleague = next((p for p in colleagues if p.id == form.colleague.data), None)
        if colleague is None:
            abort(400)
        response = act(
            form,
            lambda: services.transfer_booking(booking.id, colleague, by=current_user),
            success=f"The place now belongs to {colleague.name}. We have emailed you both.",
            redirect_to=(
                url_for("bookings.my_bookings") if booking.user_id == current_user.id else _back_for_manager(booking)
            ),
        )
        if response is not None:
            return response
    return render_template("bookings/transfer.html", booking=booking, form=form, colleagues=colleagues)


@bp.route("/my-bookings")
@signed_in
def my_bookings():
    tab = request.args.get("tab", "upcoming")
    if tab not in {"upcoming", "waiting", "past", "cancelled"}:
        abort(400)
    page = db.paginate(
        queries.my_bookings_query(current_user, tab, utcnow()),
        page=query_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "bookings/my_bookings.html",
        page=page,
        tab=tab,
        needs=access_needs.visible_access_needs(current_user, page.items),
    )


@bp.route("/sessions/<int:session_id>/bookings")
@roles(Role.COORDINATOR, Role.TRAINER)
def session_bookings(session_id: int):
    session = db.get_or_404(TrainingSession, session_id)
    require(current_user.is_coordinator or current_user in session.trainers)
    groups = queries.session_bookings(session)
    return render_template(
        "bookings/session_bookings.html",
        session=session,
        groups=groups,
        needs=access_needs.visible_access_needs(current_user, [b for rows in groups.values() for b in rows]),
        move_form=MoveForm(),
        panel=queries.session_panel(session, current_user, utcnow()),
    )


@bp.route("/bookings/<int:booking_id>/move", methods=["POST"])
@coordinator_only
def move(booking_id: int):
    booking = db.get_or_404(Booking, booking_id)
    form = MoveForm()
    back = url_for("bookings.session_bookings", session_id=booking.session_id)
    if not form.validate_on_submit():
        # Each row has its own move form: link the summary to the boxes of the row it came from.
        flash_form_errors(form, lambda field: f"{field.name}-{booking.id}")
        return redirect(back)
    return act_from_button(
        lambda: services.move_on_waiting_list(
            booking.id, by=current_user, position=form.position.data, reason=form.reason.data
        ),
        success=f"{booking.user.name} is now number {form.position.data} on the waiting list.",
        redirect_to=back,
    )


@bp.route("/approvals")
@roles(Role.AGENCY_LEAD, Role.COORDINATOR)
def approvals():
    page = db.paginate(
        queries.approvals_query(current_user), page=query_page(), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template("bookings/approvals.html", page=page, form=DecisionForm())


def _decidable(booking_id: int) -> Booking:
    booking = db.get_or_404(Booking, booking_id)
    require(booking.can_be_approved_by(current_user))
    return booking


@bp.route("/bookings/<int:booking_id>/approve", methods=["POST"])
@roles(Role.AGENCY_LEAD, Role.COORDINATOR)
def approve(booking_id: int):
    booking = _decidable(booking_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    return act_from_button(
        lambda: services.approve_booking(booking.id, by=current_user),
        success=f"{booking.user.name}'s place is approved.",
        redirect_to=url_for("bookings.approvals"),
    )


@bp.route("/bookings/<int:booking_id>/decline", methods=["GET", "POST"])
@roles(Role.AGENCY_LEAD, Role.COORDINATOR)
def decline(booking_id: int):
    booking = _decidable(booking_id)
    form = DeclineForm()
    if form.validate_on_submit():
        response = act(
            form,
            lambda: services.decline_booking(booking.id, by=current_user, reason=form.reason.data),
            success=f"{booking.user.name}'s request has been declined and they have been told why.",
            redirect_to=url_for("bookings.approvals"),
        )
        if response is not None:
            return response
    return render_template("bookings/decline.html", booking=booking, form=form)


@bp.route("/agency/bookings")
@roles(Role.AGENCY_LEAD)
def agency_bookings():
    page = db.paginate(
        queries.agency_bookings_query(current_user.agency_id, utcnow()),
        page=query_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "bookings/agency_bookings.html",
        page=page,
        needs=access_needs.visible_access_needs(current_user, page.items),
    )


@bp.route("/sessions/<int:session_id>/reservations", methods=["GET", "POST"])
@coordinator_only
def reservations(session_id: int):
    session = db.get_or_404(TrainingSession, session_id)
    form = ReservationForm()
    agencies = active_agencies()
    form.agency.choices = agency_choices(agencies)
    if form.validate_on_submit():
        agency = next((a for a in agencies if a.id == form.agency.data), None)
        if agency is None:
            abort(400)
        release_at = (
            local_to_utc(form.release_on.data, time(0)) if form.release_on.data else rules.default_release_at(session)
        )
        response = act(
            form,
            lambda: services.reserve_places(
                session.id, agency, places=form.places.data, release_at=release_at, by=current_user
            ),
            success=f"{form.places.data} places are held for {agency.name}.",
            redirect_to=url_for("bookings.reservations", session_id=session.id),
        )
        if response is not None:
            return response
    return render_template(
        "bookings/reservations.html",
        session=session,
        form=form,
        reservations=queries.reservations(session),
        now=utcnow(),
    )


@bp.route("/reservations/<int:reservation_id>/release", methods=["POST"])
@coordinator_only
def release(reservation_id: int):
    reservation = db.get_or_404(AgencyReservation, reservation_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    return act_from_button(
        lambda: services.release_reservation(reservation.id, by=current_user),
        success=lambda promoted: (
            f"The held places are now open to everyone. {len(promoted)} "
            f"{'person' if len(promoted) == 1 else 'people'} came off the waiting list."
        ),
        redirect_to=url_for("bookings.reservations", session_id=reservation.session_id),
    )


@bp.route("/bookings/<int:booking_id>/access-needs", methods=["GET", "POST"])
@signed_in
def booking_access_needs(booking_id: int):
    booking = db.get_or_404(Booking, booking_id)
    if not access_needs.can_change_access_needs(current_user, booking):
        abort(404)
    own = booking.user_id == current_user.id
    form = AccessNeedsForm() if own else BookingAccessNeedsForOthersForm()
    if not form.is_submitted():
        form.fill_from(access_needs.visible_access_needs(current_user, [booking]).get(booking.id))
    if form.validate_on_submit():
        response = act(
            form,
            lambda: access_needs.change_booking_needs(booking.id, form.answer(), by=current_user, now=utcnow()),
            success="Your access needs have been saved."
            if own
            else f"{booking.user.name}'s access needs have been saved.",
            redirect_to=url_for("bookings.my_bookings") if own else _back_for_manager(booking),
        )
        if response is not None:
            return response
    return render_template("bookings/booking_access_needs.html", booking=booking, form=form, own=own), _status(form)


@bp.route("/account/access-needs", methods=["GET", "POST"])
@signed_in
def saved_access_needs():
    form = SavedAccessNeedsForm()
    if not form.is_submitted():
        form.fill_from(access_needs.saved_access_needs(current_user))
    if form.validate_on_submit():
        clearing = bool(form.clear.data)
        answer = access_needs.NeedsAnswer() if clearing else form.answer()
        response = act(
            form,
            lambda: access_needs.save_profile_needs(current_user, answer),
            success=(
                "Your saved access needs have been cleared."
                if clearing or answer.is_empty
                else "Your access needs have been saved for your next booking."
            ),
            redirect_to=url_for("auth.account"),
        )
        if response is not None:
            return response
    return render_template("bookings/saved_access_needs.html", form=form), _status(form)
