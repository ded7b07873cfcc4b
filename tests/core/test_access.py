"""Who may open which page: every route, for a visitor and for each role.

ACCESS is written out by hand on purpose: a new route must be added here, with a
decision for every role, before the suite passes again.
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.factories import (
    csrf_token,
    fresh_client,
    make_access_request,
    make_agency,
    make_course,
    make_session,
    make_user,
    make_venue,
    queue_plain_email,
    sign_in,
)
from trainapp.accounts.access import PUBLIC, SIGNED_IN
from trainapp.accounts.models import Role
from trainapp.attendance.models import Certificate
from trainapp.audit import AuditEvent
from trainapp.bookings.models import (
    AccessNeed,
    AgencyReservation,
    AttendanceStatus,
    Booking,
    BookingAccessNeeds,
    BookingStatus,
)
from trainapp.calendars.links import token_for
from trainapp.catalogue.models import SessionSeries
from trainapp.db import utcnow
from trainapp.funding.models import (
    Allocation,
    Charge,
    ChargeReason,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)
from trainapp.notifications.models import OutboxStatus
from trainapp.people.models import ImportKind
from trainapp.people.services import preview_import

WHO = ["anonymous", "coordinator", "trainer", "agency_lead", "staff"]
SIGNED_IN_ROLES = WHO[1:]

OK = 200
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
BAD_REQUEST = 400
SIGN_IN = "sign-in page, coming back afterwards"
HOME = "/"


@dataclass(frozen=True)
class Redirect:
    """A 302 to exactly this path (formatted with the world, like the case's path)."""

    to: str


@dataclass
class Case:
    endpoint: str
    method: str
    path: str  # formatted with the world: "/users/{w.colleague.id}"
    expected: dict
    data: dict = field(default_factory=dict)
    note: str = ""


def everyone(outcome):
    return dict.fromkeys(WHO, outcome)


def signed_in_only(outcome_for_signed_in):
    return {"anonymous": SIGN_IN, **dict.fromkeys(SIGNED_IN_ROLES, outcome_for_signed_in)}


def only(allowed_outcome, *roles):
    """Signed-in people with these roles get allowed_outcome; other roles 403."""
    expected = {"anonymous": SIGN_IN}
    for role in SIGNED_IN_ROLES:
        expected[role] = allowed_outcome if role in roles else FORBIDDEN
    return expected


def anonymous_only(outcome_for_anonymous, outcome_for_signed_in):
    return {"anonymous": outcome_for_anonymous, **dict.fromkeys(SIGNED_IN_ROLES, outcome_for_signed_in)}


# A POST with no data is enough to show whether the door opens: an allowed person
# gets the form back with its errors (200), everyone else is stopped before it.
ACCESS = [
    # core
    Case("core.home", "GET", "/", everyone(OK)),
    Case("core.healthz", "GET", "/healthz", everyone(OK)),
    Case("core.accessibility", "GET", "/accessibility", everyone(OK)),
    Case("core.privacy", "GET", "/privacy", everyone(OK)),
    Case("core.cookies", "GET", "/cookies", everyone(OK)),
    Case("core.contact", "GET", "/contact", everyone(OK)),
    # signing in and out
    Case("auth.sign_in", "GET", "/sign-in", anonymous_only(OK, HOME)),
    Case("auth.sign_in", "POST", "/sign-in", anonymous_only(OK, HOME)),
    Case("auth.sign_out", "GET", "/sign-out", everyone(NOT_ALLOWED)),
    Case("auth.sign_out", "POST", "/sign-out", everyone(Redirect("/sign-in"))),
    # registering
    Case("auth.register", "GET", "/register", anonymous_only(OK, HOME)),
    Case("auth.register", "POST", "/register", anonymous_only(OK, HOME)),
    # The page saying an email was sent needs the first step done; a link that is not one is 404.
    Case("auth.registration_sent", "GET", "/register/check-email", everyone(Redirect("/register"))),
    Case("auth.continue_registration", "GET", "/register/continue/not-a-real-token", everyone(NOT_FOUND)),
    # Without an email chosen at the first step, the later steps send people back to it.
    Case("auth.register_details", "GET", "/register/details", everyone(Redirect("/register"))),
    Case("auth.register_details", "POST", "/register/details", everyone(Redirect("/register"))),
    Case("auth.request_access", "GET", "/register/request-access", everyone(Redirect("/register"))),
    Case("auth.request_access", "POST", "/register/request-access", everyone(Redirect("/register"))),
    Case("auth.access_requested", "GET", "/register/requested", everyone(OK)),
    # passwords
    Case("auth.forgot_password", "GET", "/password/forgot", everyone(OK)),
    Case("auth.forgot_password", "POST", "/password/forgot", everyone(OK)),
    Case("auth.reset_password", "GET", "/password/reset/not-a-real-token", everyone(NOT_FOUND)),
    Case("auth.reset_password", "POST", "/password/reset/not-a-real-token", everyone(NOT_FOUND)),
    Case("auth.account", "GET", "/account", signed_in_only(OK)),
    # Saved access needs: each person's own. An empty answer clears them.
    Case("bookings.saved_access_needs", "GET", "/account/access-needs", signed_in_only(OK)),
    Case("bookings.saved_access_needs", "POST", "/account/access-needs", signed_in_only(Redirect("/account"))),
    Case("auth.change_password", "GET", "/account/password", signed_in_only(OK)),
    Case("auth.change_password", "POST", "/account/password", signed_in_only(OK)),
    # the second factor: the code step needs a right password first in this browser
    Case("auth.second_step", "GET", "/sign-in/security-code", anonymous_only(Redirect("/sign-in"), HOME)),
    Case("auth.second_step", "POST", "/sign-in/security-code", anonymous_only(Redirect("/sign-in"), HOME)),
    Case("auth.set_up_second_factor", "GET", "/account/authenticator-app", signed_in_only(OK)),
    Case("auth.set_up_second_factor", "POST", "/account/authenticator-app", signed_in_only(OK)),
    # people
    Case("users.list_users", "GET", "/users", only(OK, "coordinator")),
    Case("users.agency_staff", "GET", "/agency/staff", only(OK, "agency_lead")),
    Case(
        "users.show_user",
        "GET",
        "/users/{w.colleague.id}",
        only(OK, "coordinator", "agency_lead"),
        note="someone in the agency lead's own agency",
    ),
    Case(
        "users.show_user",
        "GET",
        "/users/{w.outsider.id}",
        only(OK, "coordinator"),
        note="someone in another agency",
    ),
    Case(
        "users.show_user",
        "GET",
        "/users/{w.people.coordinator.id}",
        only(OK, "coordinator"),
        note="someone in no agency",
    ),
    Case(
        "users.show_user",
        "GET",
        "/users/999999",
        only(NOT_FOUND, "coordinator", "agency_lead"),
        note="no such person",
    ),
    Case("users.edit_user", "GET", "/users/{w.colleague.id}/edit", only(OK, "coordinator")),
    Case("users.edit_user", "POST", "/users/{w.colleague.id}/edit", only(OK, "coordinator")),
    Case("users.deactivate_user", "GET", "/users/{w.colleague.id}/deactivate", everyone(NOT_ALLOWED)),
    Case(
        "users.deactivate_user",
        "POST",
        "/users/{w.colleague.id}/deactivate",
        only(Redirect("/users/{w.colleague.id}"), "coordinator"),
    ),
    Case("users.reactivate_user", "GET", "/users/{w.inactive.id}/reactivate", everyone(NOT_ALLOWED)),
    Case(
        "users.reactivate_user",
        "POST",
        "/users/{w.inactive.id}/reactivate",
        only(Redirect("/users/{w.inactive.id}"), "coordinator"),
    ),
    Case("users.reset_second_factor", "GET", "/users/{w.colleague.id}/authenticator-app/reset", everyone(NOT_ALLOWED)),
    Case(
        "users.reset_second_factor",
        "POST",
        "/users/{w.colleague.id}/authenticator-app/reset",
        only(Redirect("/users/{w.colleague.id}"), "coordinator"),
        note="someone with no authenticator app: refused with a message on their page",
    ),
    # staff lists and leavers from a spreadsheet
    Case("people.upload", "GET", "/people/import", only(OK, "coordinator", "agency_lead")),
    Case("people.upload", "POST", "/people/import", only(BAD_REQUEST, "coordinator", "agency_lead")),
    Case("people.template", "GET", "/people/import/template.csv", only(OK, "coordinator", "agency_lead")),
    Case(
        "people.preview",
        "GET",
        "/people/import/{w.staff_import.id}",
        {"anonymous": SIGN_IN, "coordinator": NOT_FOUND, "trainer": FORBIDDEN, "agency_lead": OK, "staff": FORBIDDEN},
        note="the agency lead's own preview: no one else's",
    ),
    Case(
        "people.preview",
        "GET",
        "/people/import/999999",
        only(NOT_FOUND, "coordinator", "agency_lead"),
        note="no such preview",
    ),
    Case("people.apply", "GET", "/people/import/{w.staff_import.id}/apply", everyone(NOT_ALLOWED)),
    Case(
        "people.apply",
        "POST",
        "/people/import/{w.staff_import.id}/apply",
        {
            "anonymous": SIGN_IN,
            "coordinator": NOT_FOUND,
            "trainer": FORBIDDEN,
            "agency_lead": Redirect("/agency/staff"),
            "staff": FORBIDDEN,
        },
        note="the agency lead's own preview",
    ),
    # access requests
    Case("users.list_access_requests", "GET", "/access-requests", only(OK, "coordinator")),
    Case(
        "users.review_access_request",
        "GET",
        "/access-requests/{w.access_request.id}",
        only(OK, "coordinator"),
    ),
    Case(
        "users.review_access_request",
        "POST",
        "/access-requests/{w.access_request.id}",
        only(OK, "coordinator"),
    ),
    Case(
        "users.reject_access_request",
        "GET",
        "/access-requests/{w.access_request.id}/reject",
        everyone(NOT_ALLOWED),
    ),
    Case(
        "users.reject_access_request",
        "POST",
        "/access-requests/{w.access_request.id}/reject",
        only(Redirect("/access-requests"), "coordinator"),
        data={"reject-reason": "We only train partner agency staff."},
    ),
    # agencies
    Case("agencies.list_agencies", "GET", "/agencies", only(OK, "coordinator")),
    Case("agencies.new_agency", "GET", "/agencies/new", only(OK, "coordinator")),
    Case("agencies.new_agency", "POST", "/agencies/new", only(OK, "coordinator")),
    Case("agencies.edit_agency", "GET", "/agencies/{w.other_agency.id}/edit", only(OK, "coordinator")),
    Case("agencies.edit_agency", "POST", "/agencies/{w.other_agency.id}/edit", only(OK, "coordinator")),
    Case(
        "agencies.deactivate_agency",
        "GET",
        "/agencies/{w.other_agency.id}/deactivate",
        everyone(NOT_ALLOWED),
    ),
    Case(
        "agencies.deactivate_agency",
        "POST",
        "/agencies/{w.other_agency.id}/deactivate",
        only(Redirect("/agencies"), "coordinator"),
    ),
    Case(
        "agencies.reactivate_agency",
        "GET",
        "/agencies/{w.closed_agency.id}/reactivate",
        everyone(NOT_ALLOWED),
    ),
    Case(
        "agencies.reactivate_agency",
        "POST",
        "/agencies/{w.closed_agency.id}/reactivate",
        only(Redirect("/agencies"), "coordinator"),
    ),
    # finding training
    Case("catalogue.browse", "GET", "/sessions", signed_in_only(OK)),
    Case("catalogue.show_session", "GET", "/sessions/{w.session.id}", signed_in_only(OK)),
    Case(
        "catalogue.show_session",
        "GET",
        "/sessions/{w.draft_session.id}",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": OK, "agency_lead": NOT_FOUND, "staff": NOT_FOUND},
        note="a session of a draft course, delivered by the trainer",
    ),
    Case("catalogue.show_course", "GET", "/courses/{w.course.id}", signed_in_only(OK)),
    Case(
        "catalogue.show_course",
        "GET",
        "/courses/{w.draft_course.id}",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": NOT_FOUND, "staff": NOT_FOUND},
        note="a draft course",
    ),
    Case("catalogue.my_sessions", "GET", "/my-sessions", only(OK, "coordinator", "trainer")),
    # building the catalogue
    Case("catalogue_admin.list_programmes", "GET", "/programmes", only(OK, "coordinator")),
    Case("catalogue_admin.new_programme", "GET", "/programmes/new", only(OK, "coordinator")),
    Case("catalogue_admin.new_programme", "POST", "/programmes/new", only(OK, "coordinator")),
    Case("catalogue_admin.edit_programme", "GET", "/programmes/{w.programme.id}/edit", only(OK, "coordinator")),
    Case(
        "catalogue_admin.edit_programme",
        "POST",
        "/programmes/{w.programme.id}/edit",
        only(OK, "coordinator"),
        data={"name": ""},
    ),
    Case("catalogue_admin.list_venues", "GET", "/venues", only(OK, "coordinator")),
    Case("catalogue_admin.new_venue", "GET", "/venues/new", only(OK, "coordinator")),
    Case("catalogue_admin.new_venue", "POST", "/venues/new", only(OK, "coordinator")),
    Case("catalogue_admin.edit_venue", "GET", "/venues/{w.venue.id}/edit", only(OK, "coordinator")),
    Case("catalogue_admin.edit_venue", "POST", "/venues/{w.venue.id}/edit", only(OK, "coordinator"), data={"name": ""}),
    Case("catalogue_admin.list_courses", "GET", "/courses", only(OK, "coordinator")),
    Case("catalogue_admin.new_course", "GET", "/courses/new", only(OK, "coordinator")),
    Case("catalogue_admin.new_course", "POST", "/courses/new", only(OK, "coordinator")),
    Case("catalogue_admin.edit_course", "GET", "/courses/{w.course.id}/edit", only(OK, "coordinator")),
    Case(
        "catalogue_admin.edit_course",
        "POST",
        "/courses/{w.course.id}/edit",
        only(OK, "coordinator"),
        data={"title": ""},
    ),
    Case("catalogue_admin.new_session", "GET", "/sessions/new", only(OK, "coordinator")),
    Case("catalogue_admin.new_session", "POST", "/sessions/new", only(OK, "coordinator")),
    Case("session_admin.edit_session", "GET", "/sessions/{w.session.id}/edit", only(OK, "coordinator")),
    Case("session_admin.edit_session", "POST", "/sessions/{w.session.id}/edit", only(OK, "coordinator")),
    Case("session_admin.cancel_session", "GET", "/sessions/{w.session.id}/cancel", only(OK, "coordinator")),
    Case("session_admin.cancel_session", "POST", "/sessions/{w.session.id}/cancel", only(OK, "coordinator")),
    Case("catalogue_admin.new_series", "GET", "/series/new", only(OK, "coordinator")),
    Case("catalogue_admin.new_series", "POST", "/series/new", only(OK, "coordinator")),
    Case("session_admin.show_series", "GET", "/series/{w.series.id}", only(OK, "coordinator")),
    Case("session_admin.cancel_series", "GET", "/series/{w.series.id}/cancel", everyone(NOT_ALLOWED)),
    Case("session_admin.cancel_series", "POST", "/series/{w.series.id}/cancel", only(BAD_REQUEST, "coordinator")),
    # booking
    Case("bookings.book", "GET", "/sessions/{w.session.id}/book", signed_in_only(OK)),
    Case(
        "bookings.book", "POST", "/sessions/{w.session.id}/book", signed_in_only(Redirect("/sessions/{w.session.id}"))
    ),
    Case(
        "bookings.book",
        "GET",
        "/sessions/{w.draft_session.id}/book",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": OK, "agency_lead": NOT_FOUND, "staff": NOT_FOUND},
        note="a session of a draft course",
    ),
    Case(
        "bookings.book_for_others", "GET", "/sessions/{w.session.id}/book-for", only(OK, "coordinator", "agency_lead")
    ),
    Case(
        "bookings.book_for_others",
        "POST",
        "/sessions/{w.session.id}/book-for",
        only(BAD_REQUEST, "coordinator", "agency_lead"),
        note="nobody chosen: the form comes back with its errors",
    ),
    Case("bookings.my_bookings", "GET", "/my-bookings", signed_in_only(OK)),
    Case(
        "bookings.cancel",
        "GET",
        "/bookings/{w.staff_booking.id}/cancel",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": OK, "staff": OK},
        note="the staff member's own booking, in the lead's agency",
    ),
    Case(
        "bookings.cancel",
        "POST",
        "/bookings/{w.staff_booking.id}/cancel",
        {
            "anonymous": SIGN_IN,
            "coordinator": Redirect("/sessions/{w.session.id}/bookings"),
            "trainer": NOT_FOUND,
            "agency_lead": Redirect("/agency/bookings"),
            "staff": Redirect("/my-bookings"),
        },
    ),
    Case(
        "bookings.cancel",
        "GET",
        "/bookings/{w.outsider_booking.id}/cancel",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": NOT_FOUND, "staff": NOT_FOUND},
        note="someone in another agency",
    ),
    Case(
        "bookings.booking_access_needs",
        "GET",
        "/bookings/{w.staff_booking.id}/access-needs",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": OK, "staff": OK},
        note="the person, or whoever may book for them",
    ),
    Case(
        "bookings.booking_access_needs",
        "POST",
        "/bookings/{w.staff_booking.id}/access-needs",
        {
            "anonymous": SIGN_IN,
            "coordinator": Redirect("/sessions/{w.session.id}/bookings"),
            "trainer": NOT_FOUND,
            "agency_lead": Redirect("/agency/bookings"),
            "staff": Redirect("/my-bookings"),
        },
    ),
    Case(
        "bookings.booking_access_needs",
        "GET",
        "/bookings/{w.outsider_booking.id}/access-needs",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": NOT_FOUND, "staff": NOT_FOUND},
        note="someone in another agency",
    ),
    Case(
        "bookings.transfer",
        "GET",
        "/bookings/{w.staff_booking.id}/transfer",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": OK, "staff": OK},
    ),
    Case(
        "bookings.transfer",
        "POST",
        "/bookings/{w.staff_booking.id}/transfer",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": OK, "staff": OK},
    ),
    Case(
        "bookings.session_bookings",
        "GET",
        "/sessions/{w.session.id}/bookings",
        only(OK, "coordinator", "trainer"),
        note="the trainer delivers this session",
    ),
    Case("bookings.move", "GET", "/bookings/{w.staff_booking.id}/move", everyone(NOT_ALLOWED)),
    Case(
        "bookings.move",
        "POST",
        "/bookings/{w.staff_booking.id}/move",
        only(Redirect("/sessions/{w.session.id}/bookings"), "coordinator"),
    ),
    Case("bookings.approvals", "GET", "/approvals", only(OK, "coordinator", "agency_lead")),
    Case("bookings.approve", "GET", "/bookings/{w.request.id}/approve", everyone(NOT_ALLOWED)),
    Case(
        "bookings.approve",
        "POST",
        "/bookings/{w.request.id}/approve",
        only(Redirect("/approvals"), "coordinator", "agency_lead"),
    ),
    Case("bookings.decline", "GET", "/bookings/{w.request.id}/decline", only(OK, "coordinator", "agency_lead")),
    Case("bookings.decline", "POST", "/bookings/{w.request.id}/decline", only(OK, "coordinator", "agency_lead")),
    Case(
        "bookings.decline",
        "GET",
        "/bookings/{w.outsider_booking.id}/decline",
        only(OK, "coordinator"),
        note="a booking in another agency",
    ),
    Case("bookings.agency_bookings", "GET", "/agency/bookings", only(OK, "agency_lead")),
    Case("bookings.reservations", "GET", "/sessions/{w.session.id}/reservations", only(OK, "coordinator")),
    Case("bookings.reservations", "POST", "/sessions/{w.session.id}/reservations", only(OK, "coordinator")),
    Case("bookings.release", "GET", "/reservations/{w.reservation.id}/release", everyone(NOT_ALLOWED)),
    Case(
        "bookings.release",
        "POST",
        "/reservations/{w.reservation.id}/release",
        only(Redirect("/sessions/{w.session.id}/reservations"), "coordinator"),
    ),
    # access needs: coordinators arrange what people asked for
    Case("access_needs.overview", "GET", "/access-needs", only(OK, "coordinator")),
    Case("access_needs.overview", "GET", "/access-needs?show=all", only(OK, "coordinator")),
    Case("access_needs.mark_arranged", "GET", "/access-needs/{w.staff_needs.id}/arranged", everyone(NOT_ALLOWED)),
    Case(
        "access_needs.mark_arranged",
        "POST",
        "/access-needs/{w.staff_needs.id}/arranged",
        only(Redirect("/access-needs?show=to-arrange"), "coordinator"),
    ),
    Case(
        "access_needs.mark_not_arranged", "GET", "/access-needs/{w.staff_needs.id}/not-arranged", everyone(NOT_ALLOWED)
    ),
    Case(
        "access_needs.mark_not_arranged",
        "POST",
        "/access-needs/{w.staff_needs.id}/not-arranged?show=all",
        only(Redirect("/access-needs?show=all"), "coordinator"),
    ),
    # registers and records
    Case(
        "attendance.register",
        "GET",
        "/sessions/{w.past_session.id}/register",
        only(OK, "coordinator", "trainer"),
        note="a session the trainer delivered",
    ),
    Case(
        "attendance.register",
        "POST",
        "/sessions/{w.past_session.id}/register",
        only(Redirect("/sessions/{w.past_session.id}/register"), "coordinator", "trainer"),
    ),
    Case(
        "attendance.register",
        "GET",
        "/sessions/{w.session.id}/register",
        only(OK, "coordinator", "trainer"),
        note="not started yet: shown, not editable",
    ),
    Case(
        "attendance.register",
        "GET",
        "/sessions/{w.other_trainers_session.id}/register",
        only(OK, "coordinator"),
        note="someone else's session",
    ),
    Case(
        "attendance.everyone_attended",
        "GET",
        "/sessions/{w.past_session.id}/register/everyone-attended",
        everyone(NOT_ALLOWED),
    ),
    Case(
        "attendance.everyone_attended",
        "POST",
        "/sessions/{w.past_session.id}/register/everyone-attended",
        only(Redirect("/sessions/{w.past_session.id}/register"), "coordinator", "trainer"),
    ),
    Case(
        "attendance.walk_in",
        "GET",
        "/sessions/{w.past_session.id}/register/walk-in",
        only(OK, "coordinator", "trainer"),
    ),
    Case(
        "attendance.walk_in",
        "POST",
        "/sessions/{w.past_session.id}/register/walk-in",
        only(OK, "coordinator", "trainer"),
    ),
    Case("attendance.my_training", "GET", "/my-training", signed_in_only(OK)),
    Case(
        "attendance.person_training",
        "GET",
        "/people/{w.people.staff.id}/training",
        only(OK, "coordinator", "agency_lead"),
    ),
    Case(
        "attendance.person_training",
        "GET",
        "/people/{w.outsider.id}/training",
        only(OK, "coordinator"),
        note="someone in another agency",
    ),
    Case("attendance.refreshers", "GET", "/refreshers", only(OK, "coordinator", "agency_lead")),
    # the audit trail
    Case(
        "attendance.booking_history",
        "GET",
        "/bookings/{w.staff_booking.id}/history",
        only(OK, "coordinator", "agency_lead"),
        note="a booking in the lead's agency",
    ),
    Case(
        "attendance.booking_history",
        "GET",
        "/bookings/{w.outsider_booking.id}/history",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": FORBIDDEN, "agency_lead": NOT_FOUND, "staff": FORBIDDEN},
        note="a booking in another agency",
    ),
    Case(
        "attendance.register_history",
        "GET",
        "/sessions/{w.past_session.id}/register/history",
        only(OK, "coordinator", "trainer"),
        note="a session the trainer delivered",
    ),
    Case(
        "attendance.register_history",
        "GET",
        "/sessions/{w.other_trainers_session.id}/register/history",
        only(OK, "coordinator"),
        note="someone else's session",
    ),
    Case(
        "attendance.person_history",
        "GET",
        "/people/{w.people.staff.id}/history",
        only(OK, "coordinator", "agency_lead"),
    ),
    Case(
        "attendance.person_history",
        "GET",
        "/people/{w.outsider.id}/history",
        only(OK, "coordinator"),
        note="someone in another agency",
    ),
    Case(
        "attendance.evaluation",
        "GET",
        "/bookings/{w.attended.id}/evaluation",
        {"anonymous": SIGN_IN, "coordinator": NOT_FOUND, "trainer": NOT_FOUND, "agency_lead": NOT_FOUND, "staff": OK},
        note="only the learner answers",
    ),
    Case(
        "attendance.evaluation",
        "POST",
        "/bookings/{w.attended.id}/evaluation",
        {"anonymous": SIGN_IN, "coordinator": NOT_FOUND, "trainer": NOT_FOUND, "agency_lead": NOT_FOUND, "staff": OK},
    ),
    Case("attendance.issue_certificate", "GET", "/bookings/{w.attended.id}/certificate/issue", everyone(NOT_ALLOWED)),
    Case(
        "attendance.issue_certificate",
        "POST",
        "/bookings/{w.attended.id}/certificate/issue",
        {
            "anonymous": SIGN_IN,
            "coordinator": NOT_FOUND,
            "trainer": NOT_FOUND,
            "agency_lead": NOT_FOUND,
            "staff": Redirect("/bookings/{w.attended.id}/certificate"),
        },
    ),
    Case(
        "attendance.certificate",
        "GET",
        "/bookings/{w.attended.id}/certificate",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": OK, "staff": OK},
    ),
    Case(
        "attendance.certificate_download",
        "GET",
        "/bookings/{w.attended.id}/certificate.pdf",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": NOT_FOUND, "agency_lead": OK, "staff": OK},
    ),
    Case("attendance.verify", "GET", "/certificates/verify", everyone(OK)),
    # calendars: feeds are opened by calendar programs with a secret link, never a sign-in
    Case("calendars.personal_feed", "GET", "/calendars/{w.staff_token}/personal.ics", everyone(OK)),
    Case("calendars.personal_feed", "POST", "/calendars/{w.staff_token}/personal.ics", everyone(NOT_ALLOWED)),
    Case(
        "calendars.personal_feed",
        "GET",
        "/calendars/" + "0" * 64 + "/personal.ics",
        everyone(NOT_FOUND),
        note="an unknown link",
    ),
    Case("calendars.trainer_feed", "GET", "/calendars/{w.trainer_token}/trainer.ics", everyone(OK)),
    Case(
        "calendars.trainer_feed",
        "GET",
        "/calendars/{w.staff_token}/trainer.ics",
        everyone(NOT_FOUND),
        note="a staff member's link has no trainer feed",
    ),
    Case("calendars.public_feed", "GET", "/calendars/public.ics", everyone(OK)),
    Case("calendars.public_feed", "POST", "/calendars/public.ics", everyone(NOT_ALLOWED)),
    Case("calendars.session_download", "GET", "/sessions/{w.session.id}/calendar.ics", signed_in_only(OK)),
    Case(
        "calendars.session_download",
        "GET",
        "/sessions/{w.draft_session.id}/calendar.ics",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": OK, "agency_lead": NOT_FOUND, "staff": NOT_FOUND},
        note="a session of a draft course",
    ),
    Case("calendars.help_page", "GET", "/calendar", signed_in_only(OK)),
    Case("calendars.new_link", "GET", "/calendar/new-link", everyone(NOT_ALLOWED)),
    Case("calendars.new_link", "POST", "/calendar/new-link", signed_in_only(Redirect("/calendar"))),
    # money: coordinators; agency leads see their own agency's charges; nobody else sees money
    Case("funding.overview", "GET", "/funding", only(OK, "coordinator")),
    Case("funding.new_grant", "GET", "/grants/new", only(OK, "coordinator")),
    Case("funding.new_grant", "POST", "/grants/new", only(OK, "coordinator")),
    Case("funding.show_grant", "GET", "/grants/{w.grant.id}", only(OK, "coordinator")),
    Case("funding.edit_grant", "GET", "/grants/{w.grant.id}/edit", only(OK, "coordinator")),
    Case("funding.edit_grant", "POST", "/grants/{w.grant.id}/edit", only(OK, "coordinator")),
    Case("funding.new_allocation", "GET", "/grants/{w.grant.id}/allocations/new", only(OK, "coordinator")),
    Case("funding.new_allocation", "POST", "/grants/{w.grant.id}/allocations/new", only(OK, "coordinator")),
    Case("funding.edit_allocation", "GET", "/allocations/{w.allocation.id}/edit", only(OK, "coordinator")),
    Case("funding.edit_allocation", "POST", "/allocations/{w.allocation.id}/edit", only(OK, "coordinator")),
    Case("funding.new_cost", "GET", "/costs/new?session_id={w.past_session.id}", only(OK, "coordinator")),
    Case("funding.new_cost", "POST", "/costs/new?session_id={w.past_session.id}", only(OK, "coordinator")),
    Case("funding.programme_funding", "GET", "/funding/programmes/{w.programme.id}", only(OK, "coordinator")),
    Case("funding.programme_funding", "POST", "/funding/programmes/{w.programme.id}", only(OK, "coordinator")),
    Case("funding.mark_paid", "GET", "/costs/{w.cost.id}/paid", everyone(NOT_ALLOWED)),
    Case("funding.mark_paid", "POST", "/costs/{w.cost.id}/paid", only(Redirect("/grants/{w.grant.id}"), "coordinator")),
    Case("funding.charging", "GET", "/charging", only(OK, "coordinator")),
    Case("funding.charging", "POST", "/charging", only(OK, "coordinator")),
    Case("funding.exemption", "GET", "/charging/exemptions", everyone(NOT_ALLOWED)),
    Case("funding.exemption", "POST", "/charging/exemptions", only(OK, "coordinator")),
    Case("funding.list_charges", "GET", "/charges", only(OK, "coordinator", "agency_lead")),
    Case("funding.waive", "GET", "/charges/{w.charge.id}/waive", only(OK, "coordinator")),
    Case("funding.waive", "POST", "/charges/{w.charge.id}/waive", only(OK, "coordinator")),
    Case("funding.statement", "GET", "/charges/statement", only(OK, "coordinator", "agency_lead")),
    Case(
        "funding.statement_csv",
        "GET",
        "/charges/statement.csv?agency={w.home_agency.id}&month=2030-01",
        only(OK, "coordinator", "agency_lead"),
    ),
    Case(
        "funding.statement_csv",
        "GET",
        "/charges/statement.csv?agency={w.other_agency.id}&month=2030-01",
        only(OK, "coordinator"),
        note="another agency's statement",
    ),
    # reports: coordinators and agency leads (their own agency); staff and trainers get none
    Case("reports.board", "GET", "/reports/board", only(OK, "coordinator", "agency_lead")),
    Case(
        "reports.board",
        "GET",
        "/reports/board?agency={w.other_agency.id}&start=1&start=1&start=2030&end=31&end=12&end=2030",
        {"anonymous": SIGN_IN, "coordinator": OK, "trainer": FORBIDDEN, "agency_lead": BAD_REQUEST, "staff": FORBIDDEN},
        note="another agency's figures",
    ),
    Case("reports.board_csv", "GET", "/reports/board.csv?table=agencies", only(OK, "coordinator", "agency_lead")),
    Case("reports.coverage", "GET", "/reports/coverage", only(OK, "coordinator", "agency_lead")),
    Case("reports.coverage", "POST", "/reports/coverage", only(OK, "coordinator", "agency_lead")),
    Case("reports.coverage_csv", "GET", "/reports/coverage.csv", only(OK, "coordinator", "agency_lead")),
    # the outbox: coordinators see failed mail and queue it again
    Case("outbox.overview", "GET", "/outbox", only(OK, "coordinator")),
    Case("outbox.requeue", "GET", "/outbox/{w.failed_message.id}/requeue", everyone(NOT_ALLOWED)),
    Case("outbox.requeue", "POST", "/outbox/{w.failed_message.id}/requeue", only(Redirect("/outbox"), "coordinator")),
    # personal data: a person's own, and anyone's for a coordinator (audited)
    Case("governance.your_data", "GET", "/account/your-data", signed_in_only(OK)),
    Case("governance.your_data_json", "GET", "/account/your-data.json", signed_in_only(OK)),
    Case("governance.person_data", "GET", "/users/{w.colleague.id}/data", only(OK, "coordinator")),
    Case("governance.person_data", "GET", "/users/999999/data", only(NOT_FOUND, "coordinator"), note="no such person"),
    Case("governance.person_data_json", "GET", "/users/{w.colleague.id}/data.json", only(OK, "coordinator")),
    # the audit trail: coordinators only
    Case("governance.audit_events", "GET", "/audit", only(OK, "coordinator")),
    Case("governance.audit_events_csv", "GET", "/audit.csv", only(OK, "coordinator")),
]


def _case_id(case: Case, who: str) -> str:
    return f"{case.method} {case.path} as {who}" + (f", {case.note}" if case.note else "")


MATRIX = [pytest.param(case, who, id=_case_id(case, who)) for case in ACCESS for who in WHO]


@pytest.fixture
def client(app, db):
    return fresh_client(app)


@pytest.fixture
def world(db):
    return build_world(db)


def build_world(db) -> SimpleNamespace:
    """One of every kind of row a route can name, with a person of each role."""
    home_agency = make_agency("Home Agency")
    other_agency = make_agency("Other Agency")
    closed_agency = make_agency("Closed Agency", active=False)
    people = SimpleNamespace(
        coordinator=make_user(Role.COORDINATOR, name="Cora Ordinator"),
        trainer=make_user(Role.TRAINER, agency=home_agency),
        agency_lead=make_user(Role.AGENCY_LEAD, agency=home_agency),
        staff=make_user(Role.STAFF, agency=home_agency),
    )
    access_request = make_access_request(name="Sam Someone")
    course = make_course()
    draft_course = make_course(status="draft")
    session = make_session(course=course, trainers=[people.trainer])
    series = SessionSeries(
        course=course,
        weekday=0,
        starts_at_local=time(10),
        ends_at_local=time(12),
        first_on=date(2030, 1, 7),
        last_on=date(2030, 1, 14),
        sessions=[session],
    )
    db.session.add(series)
    world = SimpleNamespace(
        home_agency=home_agency,
        other_agency=other_agency,
        closed_agency=closed_agency,
        people=people,
        colleague=make_user(Role.STAFF, agency=home_agency, name="Colin Colleague"),
        outsider=make_user(Role.STAFF, agency=other_agency, name="Olive Outsider"),
        inactive=make_user(Role.STAFF, agency=home_agency, active=False),
        access_request=access_request,
        course=course,
        draft_course=draft_course,
        programme=course.programme,
        venue=make_venue(),
        session=session,
        draft_session=make_session(course=draft_course, trainers=[people.trainer]),
        series=series,
        staff_booking=Booking(
            session=session, user=people.staff, agency_id=home_agency.id, status=BookingStatus.CONFIRMED
        ),
        request=Booking(
            session=make_session(course=make_course(requires_approval=True)),
            user=make_user(Role.STAFF, agency=home_agency),
            agency_id=home_agency.id,
            status=BookingStatus.AWAITING_APPROVAL,
        ),
        reservation=AgencyReservation(
            session=session, agency=other_agency, places=1, release_at=session.starts_at - timedelta(days=1)
        ),
    )
    world.staff_import = preview_import(
        by=people.agency_lead,
        filename="staff.csv",
        data=f"Full name,Email address,Job title\r\nNew Starter,new.starter@{home_agency.domain_names[0]},\r\n".encode(),
        kind=ImportKind.STAFF,
        agency=None,
    )
    world.past_session = make_session(
        course=course, trainers=[people.trainer], starts_at=(utcnow() - timedelta(days=2)).replace(microsecond=0)
    )
    world.other_trainers_session = make_session(
        course=course, starts_at=(utcnow() - timedelta(days=3)).replace(microsecond=0)
    )
    world.attended = Booking(
        session=world.past_session,
        user=people.staff,
        agency_id=home_agency.id,
        status=BookingStatus.CONFIRMED,
        attendance=AttendanceStatus.ATTENDED,
    )
    db.session.add_all([world.attended, Certificate(booking=world.attended, number="ABCDE-FGHJK")])
    world.grant = Grant(
        name="Test grant",
        funder="Funder",
        amount_pence=100_00,
        starts_on=date(2020, 1, 1),
        ends_on=date(2040, 1, 1),
        status=GrantStatus.AWARDED,
    )
    world.allocation = Allocation(grant=world.grant, programme=course.programme, amount_pence=50_00)
    world.cost = CostLine(
        allocation=world.allocation,
        session=world.past_session,
        category=CostCategory.VENUE,
        amount_pence=10_00,
        state=CostState.COMMITTED,
        incurred_on=date(2030, 1, 1),
    )
    world.charge = Charge(
        booking=world.attended, agency_id=home_agency.id, reason=ChargeReason.NO_SHOW, amount_pence=50_00
    )
    db.session.add_all([world.grant, world.allocation, world.cost, world.charge])
    world.failed_message = queue_plain_email()
    world.failed_message.status, world.failed_message.failed_at = OutboxStatus.FAILED, utcnow()
    world.staff_token = token_for(people.staff)
    world.trainer_token = token_for(people.trainer)
    world.outsider_booking = Booking(
        session=session, user=world.outsider, agency_id=other_agency.id, status=BookingStatus.CONFIRMED
    )
    db.session.add_all([world.staff_booking, world.request, world.reservation, world.outsider_booking])
    world.staff_needs = BookingAccessNeeds(booking=world.staff_booking, details="Needs a ramp")
    world.staff_needs.needs = [AccessNeed.STEP_FREE]
    db.session.add(world.staff_needs)
    session.places_taken = 2
    world.request.session.places_taken = 1
    db.session.commit()
    return world


def _audit_rows(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


@pytest.mark.parametrize(("case", "who"), MATRIX)
def test_access(app, db, client, world, case, who):
    if who != "anonymous":
        assert sign_in(client, getattr(world.people, who)).location == "/"
    path = case.path.format(w=world)
    data = dict(case.data)
    if case.method == "POST":
        # A real token, as a browser would hold: the refusals below are about who is
        # asking, not about a missing token.
        data["csrf_token"] = csrf_token(client.get("/sign-in" if who == "anonymous" else "/"))
    audit_before = _audit_rows(db)

    response = client.open(path, method=case.method, data=data)

    expected = case.expected[who]
    if expected == SIGN_IN:
        assert response.status_code == 302
        location = urlsplit(response.location)
        assert location.path == "/sign-in"
        if case.method == "GET":
            assert parse_qs(location.query)["next"] == [path]
    elif isinstance(expected, Redirect):
        assert response.status_code == 302
        assert response.location == expected.to.format(w=world)
    elif expected == HOME:
        assert response.status_code == 302
        assert response.location == "/"
    else:
        assert response.status_code == expected
    if expected in (SIGN_IN, FORBIDDEN, NOT_ALLOWED, NOT_FOUND):
        db.session.expire_all()
        assert _audit_rows(db) == audit_before, "a refused request changed something"


def test_every_route_is_in_the_access_table(app):
    covered = {(case.endpoint, case.method) for case in ACCESS}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
        if "GET" not in rule.methods and (rule.endpoint, "GET") not in covered:
            missing.append(f"GET {rule.rule} ({rule.endpoint}): a POST-only route should refuse GET")
    assert not missing, "routes with no access decision in tests/core/test_access.py: " + ", ".join(missing)


def test_the_access_table_names_only_real_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {case.endpoint for case in ACCESS} <= endpoints


def test_every_case_decides_for_everyone():
    for case in ACCESS:
        assert set(case.expected) == set(WHO), f"{case.method} {case.path} misses someone"


def test_every_view_declares_an_access_rule(app):
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "access_rule")
    ]
    assert undeclared == []


def test_declared_access_rules_agree_with_the_table(app):
    """A view's decorator and the table must tell the same story about who gets in."""
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        rule = view.access_rule
        for case in (c for c in ACCESS if c.endpoint == endpoint):
            if rule == PUBLIC:
                assert case.expected["anonymous"] != SIGN_IN, endpoint
            else:
                assert case.expected["anonymous"] in (SIGN_IN, NOT_ALLOWED), endpoint
            if isinstance(rule, frozenset):
                # A role outside the rule is always refused; one inside it may still be
                # refused for a particular object (an agency lead and another agency's staff).
                for role in SIGNED_IN_ROLES:
                    if Role(role) not in rule:
                        assert case.expected[role] in (FORBIDDEN, NOT_ALLOWED), (endpoint, role)
                assert any(case.expected[r] != FORBIDDEN for r in SIGNED_IN_ROLES), endpoint
            elif rule == SIGNED_IN:
                assert FORBIDDEN not in [case.expected[r] for r in SIGNED_IN_ROLES], endpoint


def test_an_agency_lead_sees_only_their_own_agencys_people(client, db, world):
    lead = world.people.agency_lead
    sign_in(client, lead)

    assert client.get(f"/users/{world.colleague.id}").status_code == 200
    assert client.get(f"/users/{lead.id}").status_code == 200
    refused = client.get(f"/users/{world.outsider.id}")
    assert refused.status_code == 403
    assert "Olive Outsider" not in refused.get_data(as_text=True)
    assert client.get(f"/users/{world.people.coordinator.id}").status_code == 403


def test_a_lead_moved_to_another_agency_loses_sight_of_the_old_one(client, db, world):
    lead = world.people.agency_lead
    sign_in(client, lead)
    assert client.get(f"/users/{world.colleague.id}").status_code == 200

    lead.agency = world.other_agency
    db.session.commit()

    assert client.get(f"/users/{world.colleague.id}").status_code == 403
    assert client.get(f"/users/{world.outsider.id}").status_code == 200


def test_a_post_without_a_csrf_token_is_refused_before_the_role_check(client, db, world):
    """With CSRF on (the real setting), a forged cross-site POST changes nothing."""
    sign_in(client, world.people.coordinator)
    response = client.post(f"/users/{world.colleague.id}/deactivate")
    assert response.status_code == 400
    db.session.expire_all()
    assert world.colleague.active is True
