"""The attendance rules: registers, walk-ins, evaluations, certificates and learner records.

Every call passes a fixed ``now``, so the register's opening and locking, the follow-up and the
refresher dates are tested at exact moments. Who may open which page is in tests/core/test_access.py.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from tests.factories import make_agency, make_course, make_session, make_user
from tests.support import outbox
from trainapp.accounts.models import AgencyKind, PasswordResetToken, Role, User
from trainapp.attendance import services
from trainapp.attendance.forms import RegisterForm
from trainapp.attendance.models import Certificate, Evaluation, EvaluationKind, RegisterSubmission
from trainapp.audit import AuditEvent
from trainapp.bookings import rules
from trainapp.bookings import services as bookings
from trainapp.bookings.capacity import availability
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.errors import DomainError, NotAllowed
from trainapp.notifications.models import OutboxMessage

START = datetime(2030, 3, 18, 9, 30, tzinfo=UTC)  # a Monday morning, GMT (London = UTC in March)
END = START + timedelta(hours=3)  # 180 minutes long
BOOKED_AT = START - timedelta(days=14)
DURING = START + timedelta(hours=1)
AFTER = END + timedelta(hours=1)
LAST_CHANCE = END + timedelta(days=7)  # the trainer's last moment to change the register
LOCKED = LAST_CHANCE + timedelta(seconds=1)

ATTENDED, PARTIAL, TURNED_AWAY, NO_SHOW, UNABLE = (
    AttendanceStatus.ATTENDED,
    AttendanceStatus.PARTIAL,
    AttendanceStatus.TURNED_AWAY,
    AttendanceStatus.NO_SHOW,
    AttendanceStatus.UNABLE,
)


class World:
    """One three-hour session, its trainer, a coordinator, and three people booked from two agencies."""

    def __init__(self, db):
        self.police = make_agency("Wessex Police", kind=AgencyKind.POLICE)
        self.council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
        self.police_lead = make_user(
            Role.AGENCY_LEAD, agency=self.police, name="Pat Lead", email="pat.lead@police.example.org"
        )
        self.council_lead = make_user(
            Role.AGENCY_LEAD, agency=self.council, name="Cy Lead", email="cy.lead@council.example.org"
        )
        self.trainer = make_user(Role.TRAINER, agency=self.police, name="Tess Trainer")
        self.other_trainer = make_user(Role.TRAINER, agency=self.police, name="Otto Trainer")
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.course = make_course(title="Safeguarding Adults", cpd_hours=Decimal("3"), refresher_months=12)
        self.session = make_session(course=self.course, starts_at=START, hours=3, capacity=3, trainers=[self.trainer])
        self.ana = make_user(agency=self.police, name="Ana Ahmed", email="ana@police.example.org")
        self.ben = make_user(agency=self.police, name="Ben Brook", email="ben@police.example.org")
        self.cat = make_user(agency=self.council, name="Cat Cole", email="cat@council.example.org")
        self.bookings = [
            bookings.book_place(self.session.id, person, by=person, now=BOOKED_AT)
            for person in (self.ana, self.ben, self.cat)
        ]
        self.ana_booking, self.ben_booking, self.cat_booking = self.bookings
        db.session.query(OutboxMessage).delete()  # the booking confirmations are not what is tested here
        # Committed, so a refused call can be rolled back as the view does, leaving the world as it was.
        db.session.commit()


@pytest.fixture
def w(db):
    return World(db)


def mark(w, changes, *, by=None, now=DURING, reason=None, session=None):
    """Mark bookings: {booking: status} or {booking: (status, minutes)}."""
    marks = {}
    for booking, value in changes.items():
        status, minutes = value if isinstance(value, tuple) else (value, None)
        marks[booking.id] = services.Mark(status, minutes)
    return services.mark_register((session or w.session).id, marks, by=by or w.trainer, now=now, reason=reason)


def marks_of(w) -> dict[str, tuple]:
    from trainapp.extensions import db

    rows = db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == w.session.id)
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    ).all()
    return {b.user.name: (b.attendance, b.minutes_missed) for b in rows}


def audit_rows(db, action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


UNMARKED = {"Ana Ahmed": (None, None), "Ben Brook": (None, None), "Cat Cole": (None, None)}


# Who may take the register, and when -------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "now", "expected"),
    [
        ("trainer", START - timedelta(seconds=1), (True, False, False, "The register opens when the session starts")),
        ("trainer", START, (True, True, False, "")),
        ("trainer", LAST_CHANCE, (True, True, False, "")),
        ("trainer", LOCKED, (True, False, False, "The register is locked. Ask a coordinator to correct it")),
        ("coordinator", DURING, (True, True, False, "")),
        ("coordinator", LOCKED, (True, True, True, "The register is locked: a correction needs a reason")),
        (
            "other_trainer",
            DURING,
            (False, False, False, "Only the session's trainers and coordinators take its register"),
        ),
        ("ana", DURING, (False, False, False, "Only the session's trainers and coordinators take its register")),
        (
            "police_lead",
            DURING,
            (False, False, False, "Only the session's trainers and coordinators take its register"),
        ),
    ],
    ids=[
        "trainer before start",
        "trainer at start",
        "trainer 7 days after the end",
        "trainer after that",
        "coordinator on the day",
        "coordinator once locked",
        "another trainer",
        "a learner",
        "an agency lead",
    ],
)
def test_who_may_see_and_change_the_register_and_when(w, who, now, expected):
    access = services.register_access(w.session, getattr(w, who), now)
    assert (access.can_view, access.can_edit, access.needs_reason, access.message) == expected


def test_a_cancelled_session_has_no_register_to_change(w):
    w.session.status = SessionStatus.CANCELLED
    access = services.register_access(w.session, w.coordinator, DURING)
    assert (access.can_view, access.can_edit) == (True, False)
    assert "cancelled" in access.message


def test_the_register_lists_confirmed_learners_with_their_agency_by_name(db, w):
    waiting = make_user(agency=w.police, name="Aaron Waiting")
    assert bookings.book_place(w.session.id, waiting, by=waiting, now=BOOKED_AT).status == BookingStatus.WAITING
    db.session.add(
        Booking(
            session=w.session,
            user=make_user(agency=w.police, name="Abe Cancelled"),
            agency_id=w.police.id,
            status=BookingStatus.CANCELLED,
        )
    )
    db.session.flush()

    rows = services.register_rows(w.session)

    assert [(b.user.name, b.agency.name) for b in rows] == [
        ("Ana Ahmed", "Wessex Police"),
        ("Ben Brook", "Wessex Police"),
        ("Cat Cole", "Downs Council"),
    ]


# Marking ----------------------------------------------------------------------------------


def test_the_trainer_marks_each_status_and_the_marks_are_kept(db, w):
    extra = make_user(agency=w.police, name="Dan Dale")
    w.session.capacity = 5
    dan = bookings.book_place(w.session.id, extra, by=extra, now=BOOKED_AT)
    eve_user = make_user(agency=w.council, name="Eve Eden")
    eve = bookings.book_place(w.session.id, eve_user, by=eve_user, now=BOOKED_AT)

    changed = mark(
        w,
        {w.ana_booking: ATTENDED, w.ben_booking: (PARTIAL, 45), w.cat_booking: TURNED_AWAY, dan: NO_SHOW, eve: UNABLE},
    )

    assert changed == 5
    assert marks_of(w) == {
        "Ana Ahmed": (ATTENDED, None),
        "Ben Brook": (PARTIAL, 45),
        "Cat Cole": (TURNED_AWAY, None),
        "Dan Dale": (NO_SHOW, None),
        "Eve Eden": (UNABLE, None),
    }
    assert w.ana_booking.attendance_marked_at == DURING and w.ana_booking.attendance_marked_by == w.trainer


@pytest.mark.parametrize("minutes", [None, 0, -5, 180, 500])
def test_partial_attendance_needs_the_minutes_missed_within_the_session(db, w, minutes):
    with pytest.raises(DomainError, match=r"For Ben Brook, enter the minutes missed: between 1 and 179") as error:
        mark(w, {w.ana_booking: ATTENDED, w.ben_booking: (PARTIAL, minutes)})
    assert error.value.field == f"minutes-{w.ben_booking.id}"
    db.session.rollback()
    assert marks_of(w) == UNMARKED


def test_minutes_are_kept_only_for_partial_attendance(db, w):
    mark(w, {w.ben_booking: (PARTIAL, 30)})
    mark(w, {w.ben_booking: (ATTENDED, 30)})
    assert marks_of(w)["Ben Brook"] == (ATTENDED, None)


def marks_sent(form_data: dict, bookings) -> dict:
    """What the register form reads from a posted register."""
    return RegisterForm(bookings, formdata=MultiDict(form_data), meta={"csrf": False}).marks()


def test_a_status_that_does_not_exist_is_refused_before_anything_is_marked(w):
    form = {f"mark-{w.ana_booking.id}": "attended", f"mark-{w.ben_booking.id}": "asleep"}
    with pytest.raises(ValueError):
        marks_sent(form, w.bookings)
    assert marks_of(w) == UNMARKED


def test_the_register_form_reads_each_row_and_leaves_unchosen_rows_alone(w):
    form = {
        f"mark-{w.ana_booking.id}": "attended",
        f"mark-{w.ben_booking.id}": "partial",
        f"minutes-{w.ben_booking.id}": " 20 ",
        f"mark-{w.cat_booking.id}": "",
        "mark-999999": "no_show",  # not on this register: ignored
    }
    assert marks_sent(form, w.bookings) == {
        w.ana_booking.id: (ATTENDED, None),
        w.ben_booking.id: (PARTIAL, 20),
    }


def test_marking_before_the_session_starts_is_refused(db, w):
    with pytest.raises(DomainError, match="The register opens when the session starts"):
        mark(w, {w.ana_booking: ATTENDED}, now=START - timedelta(minutes=1))
    db.session.rollback()
    assert marks_of(w) == UNMARKED
    assert audit_rows(db, "attendance.marked") == []


def test_marking_someone_elses_session_is_not_allowed(db, w):
    with pytest.raises(NotAllowed):
        mark(w, {w.ana_booking: ATTENDED}, by=w.other_trainer)
    db.session.rollback()
    assert marks_of(w) == UNMARKED


def test_a_booking_from_another_session_or_the_waiting_list_cannot_be_marked_here(db, w):
    other_session = make_session(starts_at=START, trainers=[w.trainer])
    elsewhere = bookings.book_place(other_session.id, w.ana, by=w.ana, now=BOOKED_AT)
    waiting_user = make_user(agency=w.police)
    waiting = bookings.book_place(w.session.id, waiting_user, by=waiting_user, now=BOOKED_AT)
    assert waiting.status == BookingStatus.WAITING
    for stranger in (elsewhere, waiting):
        with pytest.raises(DomainError, match="not booked on this session"):
            mark(w, {w.ana_booking: ATTENDED, stranger: ATTENDED})
    db.session.rollback()
    assert marks_of(w)["Ana Ahmed"] == (None, None)


def test_mark_everyone_attended_then_change_the_exceptions(db, w):
    assert services.mark_everyone_attended(w.session.id, by=w.trainer, now=DURING) == 3
    assert {status for status, _ in marks_of(w).values()} == {ATTENDED}

    assert mark(w, {w.ana_booking: ATTENDED, w.cat_booking: NO_SHOW}) == 1

    assert marks_of(w) == {"Ana Ahmed": (ATTENDED, None), "Ben Brook": (ATTENDED, None), "Cat Cole": (NO_SHOW, None)}


def test_mark_everyone_attended_keeps_the_same_rules(db, w):
    with pytest.raises(DomainError, match="opens when the session starts"):
        services.mark_everyone_attended(w.session.id, by=w.trainer, now=START - timedelta(hours=1))
    with pytest.raises(NotAllowed):
        services.mark_everyone_attended(w.session.id, by=w.other_trainer, now=DURING)
    with pytest.raises(DomainError, match="Ask a coordinator"):
        services.mark_everyone_attended(w.session.id, by=w.trainer, now=LOCKED)
    with pytest.raises(DomainError, match="Enter a reason"):
        services.mark_everyone_attended(w.session.id, by=w.coordinator, now=LOCKED)
    db.session.rollback()
    assert marks_of(w) == UNMARKED


# The audit trail ---------------------------------------------------------------------------


def test_every_change_of_a_mark_is_audited_with_who_old_new_and_no_change_is_not(db, w):
    mark(w, {w.ben_booking: (PARTIAL, 30)})
    mark(w, {w.ben_booking: (PARTIAL, 30), w.ana_booking: ATTENDED})  # Ben unchanged
    mark(w, {w.ben_booking: NO_SHOW}, now=AFTER)

    rows = [r for r in audit_rows(db, "attendance.marked") if r.entity_id == w.ben_booking.id]
    assert [(r.actor_id, r.entity_type, r.before, r.after) for r in rows] == [
        (
            w.trainer.id,
            "bookings",
            {"attendance": None, "minutes_missed": None},
            {"attendance": "partial", "minutes_missed": 30},
        ),
        (
            w.trainer.id,
            "bookings",
            {"attendance": "partial", "minutes_missed": 30},
            {"attendance": "no_show", "minutes_missed": None},
        ),
    ]
    assert all(r.occurred_at is not None for r in rows)
    assert len(audit_rows(db, "attendance.marked")) == 3


# Locking ------------------------------------------------------------------------------------


def test_the_trainer_can_change_marks_until_seven_days_after_the_end(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    assert mark(w, {w.ana_booking: NO_SHOW}, now=LAST_CHANCE) == 1
    assert marks_of(w)["Ana Ahmed"] == (NO_SHOW, None)


def test_after_that_the_trainer_cannot_change_the_register(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    db.session.commit()
    for attempt in (
        lambda: mark(w, {w.ana_booking: NO_SHOW}, now=LOCKED),
        lambda: mark(w, {w.ana_booking: NO_SHOW}, now=LOCKED, reason="I got it wrong"),
        lambda: services.submit_register(w.session.id, by=w.trainer, now=LOCKED),
        lambda: services.add_walk_in(w.session.id, by=w.trainer, person=make_user(agency=w.police), now=LOCKED),
    ):
        with pytest.raises(DomainError, match="The register is locked. Ask a coordinator to correct it"):
            attempt()
        db.session.rollback()
    assert marks_of(w) == {**UNMARKED, "Ana Ahmed": (ATTENDED, None)}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_coordinator_correcting_a_locked_register_must_give_a_reason(db, w, reason):
    mark(w, {w.ana_booking: ATTENDED})
    db.session.commit()
    with pytest.raises(DomainError, match="Enter a reason for correcting a locked register") as error:
        mark(w, {w.ana_booking: (PARTIAL, 60)}, by=w.coordinator, now=LOCKED, reason=reason)
    assert error.value.field == "reason"
    db.session.rollback()
    assert marks_of(w)["Ana Ahmed"] == (ATTENDED, None)


def test_a_coordinators_correction_with_a_reason_is_made_and_audited_with_it(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    mark(
        w,
        {w.ana_booking: (PARTIAL, 60)},
        by=w.coordinator,
        now=LOCKED + timedelta(days=30),
        reason="  Left at 11:30, confirmed by her lead  ",
    )

    assert marks_of(w)["Ana Ahmed"] == (PARTIAL, 60)
    correction = audit_rows(db, "attendance.marked")[-1]
    assert correction.actor_id == w.coordinator.id
    assert correction.reason == "Left at 11:30, confirmed by her lead"
    assert (correction.before, correction.after) == (
        {"attendance": "attended", "minutes_missed": None},
        {"attendance": "partial", "minutes_missed": 60},
    )


# Submitting ---------------------------------------------------------------------------------


def test_submitting_with_someone_unmarked_names_them_and_changes_nothing(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    with pytest.raises(DomainError, match="Mark everyone before submitting. Not marked: Ben Brook, Cat Cole"):
        services.submit_register(w.session.id, by=w.trainer, now=AFTER)
    db.session.rollback()
    assert w.session.status == SessionStatus.SCHEDULED
    assert count(db, RegisterSubmission) == 0


def test_submitting_marks_the_session_delivered_and_is_audited(db, w):
    services.mark_everyone_attended(w.session.id, by=w.trainer, now=DURING)
    services.submit_register(w.session.id, by=w.trainer, now=AFTER)

    assert w.session.status == SessionStatus.DELIVERED
    submission = db.session.scalars(sa.select(RegisterSubmission)).one()
    assert (submission.session_id, submission.submitted_by, submission.submitted_at) == (w.session.id, w.trainer, AFTER)
    event = audit_rows(db, "register.submitted")[0]
    assert (event.actor_id, event.entity_type, event.entity_id) == (w.trainer.id, "training_sessions", w.session.id)


def test_submitting_again_after_a_correction_keeps_one_submission(db, w):
    services.mark_everyone_attended(w.session.id, by=w.trainer, now=DURING)
    services.submit_register(w.session.id, by=w.trainer, now=AFTER)
    mark(w, {w.cat_booking: UNABLE}, by=w.coordinator, now=LOCKED, reason="She phoned in the morning")
    services.submit_register(w.session.id, by=w.coordinator, now=LOCKED, reason="She phoned in the morning")

    submission = db.session.scalars(sa.select(RegisterSubmission)).one()
    assert (submission.submitted_by, submission.submitted_at) == (w.coordinator, LOCKED)
    assert w.session.status == SessionStatus.DELIVERED
    assert [e.reason for e in audit_rows(db, "register.submitted")] == [None, "She phoned in the morning"]


def test_submitting_before_the_start_or_for_another_trainer_is_refused(db, w):
    services.mark_everyone_attended(w.session.id, by=w.trainer, now=DURING)
    db.session.commit()
    with pytest.raises(DomainError, match="opens when the session starts"):
        services.submit_register(w.session.id, by=w.trainer, now=START - timedelta(minutes=5))
    with pytest.raises(NotAllowed):
        services.submit_register(w.session.id, by=w.other_trainer, now=AFTER)
    db.session.rollback()
    assert w.session.status == SessionStatus.SCHEDULED


# Walk-ins ------------------------------------------------------------------------------------


def test_an_existing_person_walks_in_to_a_full_session_without_taking_a_place(db, w):
    walker = make_user(agency=w.council, name="Wal King")
    assert w.session.places_taken == w.session.capacity == 3

    booking = services.add_walk_in(w.session.id, by=w.trainer, person=walker, now=DURING)

    assert (booking.status, booking.is_walk_in, booking.attendance) == (BookingStatus.CONFIRMED, True, ATTENDED)
    assert (booking.agency_id, booking.booked_by, booking.attendance_marked_by) == (w.council.id, w.trainer, w.trainer)
    assert booking.reserved_for_agency_id is None
    assert w.session.places_taken == 3  # a walk-in is not a place
    assert availability(w.session, DURING).general_taken == 3
    rows = services.register_rows(w.session)
    assert [(b.user.name, b.is_walk_in) for b in rows] == [
        ("Ana Ahmed", False),
        ("Ben Brook", False),
        ("Cat Cole", False),
        ("Wal King", True),
    ]
    event = audit_rows(db, "attendance.walk_in")[0]
    assert (event.actor_id, event.entity_id, event.before) == (w.trainer.id, booking.id, None)
    assert event.after["attendance"] == "attended" and event.after["status"] == "confirmed"


def test_a_new_person_walks_in_gets_an_account_and_an_email_to_choose_a_password(db, w):
    booking = services.add_walk_in(
        w.session.id,
        by=w.trainer,
        name="  Nia Newcomer ",
        email="Nia.Newcomer@Council.Example.org",
        agency=w.council,
        now=DURING,
    )

    person = db.session.scalars(sa.select(User).where(User.email == "nia.newcomer@council.example.org")).one()
    assert booking.user == person and booking.is_walk_in and booking.attendance == ATTENDED
    assert (person.name, person.role, person.agency) == ("Nia Newcomer", Role.STAFF, w.council)
    assert person.password_hash.startswith("!")  # no password until they choose one
    assert db.session.scalars(sa.select(PasswordResetToken).where(PasswordResetToken.user_id == person.id)).one()
    [email] = outbox(db, person.email)
    assert email.subject == "Your training account"
    assert "Choose a password within 14 days" in email.body and "/password/reset/" in email.body
    created = audit_rows(db, "user.created")[-1]
    assert (created.actor_id, created.entity_id, created.reason) == (w.trainer.id, person.id, "walk-in at a session")


def test_a_new_walk_in_whose_email_already_has_an_account_uses_that_account(db, w):
    known = make_user(agency=w.police, name="Kim Known", email="kim@police.example.org")
    booking = services.add_walk_in(
        w.session.id, by=w.trainer, name="Kimberley", email="KIM@police.example.org", agency=w.council, now=DURING
    )
    assert booking.user == known and known.name == "Kim Known" and booking.agency_id == w.police.id
    assert outbox(db, known.email) == []


@pytest.mark.parametrize(
    ("name", "email", "agency", "message", "field"),
    [
        ("", "nia@council.example.org", "council", "Enter the walk-in's full name", "name"),
        ("Nia Newcomer", "nia@council.example.org", None, "Choose the walk-in's agency", "agency"),
        ("Nia Newcomer", "not an email", "council", "Enter an email address in the correct format", "email"),
    ],
)
def test_a_new_walk_in_needs_a_name_an_agency_and_a_real_email(db, w, name, email, agency, message, field):
    users_before = count(db, User)
    with pytest.raises(DomainError, match=message) as error:
        services.add_walk_in(
            w.session.id,
            by=w.trainer,
            name=name,
            email=email,
            agency=getattr(w, agency) if agency else None,
            now=DURING,
        )
    assert error.value.field == field
    db.session.rollback()
    assert count(db, User) == users_before
    assert len(services.register_rows(w.session)) == 3


@pytest.mark.parametrize("state", ["confirmed", "waiting"])
def test_someone_already_booked_or_waiting_cannot_be_added_as_a_walk_in(db, w, state):
    if state == "confirmed":
        person = w.ana
    else:
        person = make_user(agency=w.police, name="Wendy Waiting")
        bookings.book_place(w.session.id, person, by=person, now=BOOKED_AT)
    db.session.commit()
    with pytest.raises(DomainError, match=f"{person.name} is already on this session's list") as error:
        services.add_walk_in(w.session.id, by=w.trainer, person=person, now=DURING)
    assert error.value.field == "email"
    db.session.rollback()
    assert not any(b.is_walk_in for b in db.session.scalars(sa.select(Booking)))
    assert audit_rows(db, "attendance.walk_in") == []


def test_someone_who_cancelled_can_walk_in_and_their_booking_is_reused(db, w):
    bookings.cancel_booking(w.cat_booking.id, by=w.cat, now=BOOKED_AT)
    booking = services.add_walk_in(w.session.id, by=w.trainer, person=w.cat, now=DURING)
    assert booking.id == w.cat_booking.id
    assert (booking.status, booking.is_walk_in, booking.attendance) == (BookingStatus.CONFIRMED, True, ATTENDED)
    assert w.session.places_taken == 2
    assert audit_rows(db, "attendance.walk_in")[0].before == {"status": "cancelled", "queue_position": None}


def test_walk_ins_follow_the_register_rules(db, w):
    walker = make_user(agency=w.police)
    with pytest.raises(DomainError, match="opens when the session starts"):
        services.add_walk_in(w.session.id, by=w.trainer, person=walker, now=START - timedelta(minutes=1))
    with pytest.raises(NotAllowed):
        services.add_walk_in(w.session.id, by=w.other_trainer, person=walker, now=DURING)
    with pytest.raises(DomainError, match="Enter a reason"):
        services.add_walk_in(w.session.id, by=w.coordinator, person=walker, now=LOCKED)
    booking = services.add_walk_in(
        w.session.id, by=w.coordinator, person=walker, now=LOCKED, reason="Signed the paper register"
    )
    assert audit_rows(db, "attendance.walk_in")[0].reason == "Signed the paper register"
    assert booking.is_walk_in


# Telling the agency --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [NO_SHOW, TURNED_AWAY])
def test_a_missed_session_emails_the_learners_agency_lead_once(db, w, status):
    inactive_lead = make_user(Role.AGENCY_LEAD, agency=w.police, active=False)
    mark(w, {w.ana_booking: status, w.ben_booking: ATTENDED})
    mark(w, {w.ana_booking: status})  # unchanged: no second email

    [email] = outbox(db, w.police_lead.email)
    assert email.subject == f"{status.label}: Ana Ahmed, Safeguarding Adults"
    assert f'marks Ana Ahmed as "{status.label.lower()}"' in email.body
    assert outbox(db, w.council_lead.email) == []
    assert outbox(db, inactive_lead.email) == []


@pytest.mark.parametrize("status", [ATTENDED, (PARTIAL, 10), UNABLE])
def test_other_marks_email_nobody(db, w, status):
    mark(w, {w.ana_booking: status})
    assert count(db, OutboxMessage) == 0


def test_each_missed_booking_tells_its_own_agency(db, w):
    mark(w, {w.ana_booking: NO_SHOW, w.cat_booking: TURNED_AWAY})
    assert [m.subject for m in outbox(db, w.police_lead.email)] == ["No-show: Ana Ahmed, Safeguarding Adults"]
    assert [m.subject for m in outbox(db, w.council_lead.email)] == [
        "Late and turned away: Cat Cole, Safeguarding Adults"
    ]


# Prerequisites ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "partial_counts", "met"),
    [
        (None, False, False),
        (ATTENDED, False, True),
        ((PARTIAL, 30), False, False),
        ((PARTIAL, 30), True, True),
        (NO_SHOW, True, False),
        (TURNED_AWAY, True, False),
        (UNABLE, True, False),
    ],
    ids=["unmarked", "attended", "partial", "partial where the course allows it", "no-show", "turned away", "unable"],
)
def test_a_prerequisite_is_met_by_what_the_register_says(db, w, status, partial_counts, met):
    w.course.partial_counts_as_completed = partial_counts
    follow_on = make_course(title="Safeguarding Adults: Practice", prerequisite=w.course)
    later = make_session(course=follow_on, starts_at=END + timedelta(days=30))
    if status is not None:
        mark(w, {w.ana_booking: status})

    assert rules.prerequisite_met(w.ana, w.course, AFTER) is met
    if met:
        assert bookings.book_place(later.id, w.ana, by=w.ana, now=AFTER).status == BookingStatus.CONFIRMED
    else:
        with pytest.raises(rules.NotEligible, match="Safeguarding Adults must be completed"):
            bookings.book_place(later.id, w.ana, by=w.ana, now=AFTER)


# Evaluations --------------------------------------------------------------------------------


def evaluate(booking, kind=EvaluationKind.AFTER, before=2, after=4, by=None, now=AFTER, comments="Useful"):
    return services.submit_evaluation(
        booking, kind, by=by or booking.user, before=before, after=after, comments=comments, now=now
    )


@pytest.mark.parametrize("status", [ATTENDED, (PARTIAL, 20)])
def test_after_attending_the_learner_gives_confidence_before_and_after(db, w, status):
    mark(w, {w.ana_booking: status})
    evaluation = evaluate(w.ana_booking, before=1, after=5, comments="  Clear and practical. ")
    assert (evaluation.kind, evaluation.confidence_before, evaluation.confidence_after, evaluation.comments) == (
        EvaluationKind.AFTER,
        1,
        5,
        "Clear and practical.",
    )
    assert evaluation.submitted_at == AFTER


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        (0, 3, "confidence_before"),
        (6, 3, "confidence_before"),
        (3, 0, "confidence_after"),
        (3, 6, "confidence_after"),
        (-1, 9, "confidence_before"),
    ],
)
def test_scores_outside_one_to_five_are_refused_and_nothing_is_saved(db, w, before, after, field):
    mark(w, {w.ana_booking: ATTENDED})
    with pytest.raises(DomainError, match="Choose a score from 1 to 5") as error:
        evaluate(w.ana_booking, before=before, after=after)
    assert error.value.field == field
    assert count(db, Evaluation) == 0


@pytest.mark.parametrize("status", [None, NO_SHOW, TURNED_AWAY, UNABLE])
def test_only_people_who_were_there_evaluate(db, w, status):
    if status:
        mark(w, {w.ana_booking: status})
    with pytest.raises(DomainError, match="You can evaluate a course you attended"):
        evaluate(w.ana_booking)
    assert count(db, Evaluation) == 0


def test_only_the_learner_evaluates_and_only_once_of_each_kind(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    with pytest.raises(NotAllowed):
        evaluate(w.ana_booking, by=w.police_lead)
    evaluate(w.ana_booking)
    with pytest.raises(DomainError, match="already given this evaluation"):
        evaluate(w.ana_booking, before=5, after=5)
    assert db.session.scalars(sa.select(Evaluation.confidence_before)).all() == [2]


def test_the_follow_up_opens_eight_weeks_after_the_course(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    with pytest.raises(DomainError, match="opens eight weeks after"):
        evaluate(w.ana_booking, EvaluationKind.FOLLOW_UP, now=END + timedelta(weeks=8) - timedelta(minutes=1))
    evaluate(w.ana_booking, EvaluationKind.AFTER)
    follow_up = evaluate(w.ana_booking, EvaluationKind.FOLLOW_UP, before=2, after=3, now=END + timedelta(weeks=8))
    assert follow_up.kind == EvaluationKind.FOLLOW_UP
    assert count(db, Evaluation) == 2


def test_follow_ups_are_queued_eight_weeks_on_once_for_each_person_who_was_there(db, w):
    mark(w, {w.ana_booking: ATTENDED, w.ben_booking: (PARTIAL, 30), w.cat_booking: NO_SHOW})
    db.session.query(OutboxMessage).delete()  # the email to the no-show's lead is not what is counted here

    assert services.queue_follow_ups(END + timedelta(weeks=8) - timedelta(minutes=1)) == 0
    assert services.queue_follow_ups(END + timedelta(weeks=8)) == 2
    assert services.queue_follow_ups(END + timedelta(weeks=8, days=1)) == 0  # already asked

    recipients = sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))
    assert recipients == ["ana@police.example.org", "ben@police.example.org"]
    [email] = outbox(db, "ana@police.example.org")
    assert email.subject == "Eight weeks on: Safeguarding Adults"
    assert f"/bookings/{w.ana_booking.id}/evaluation?kind=follow_up" in email.body


def test_follow_ups_are_not_sent_for_courses_long_past_when_the_job_first_runs(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    assert services.queue_follow_ups(END + timedelta(weeks=8, days=14, minutes=1)) == 0
    assert count(db, OutboxMessage) == 0


# Certificates --------------------------------------------------------------------------------

NUMBER = re.compile(r"^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$")


def test_full_attendance_earns_a_certificate_once_with_an_unguessable_number(db, w):
    mark(w, {w.ana_booking: ATTENDED, w.ben_booking: ATTENDED})
    first = services.issue_certificate(w.ana_booking, now=AFTER)
    assert NUMBER.match(first.number) and first.issued_at == AFTER
    assert services.issue_certificate(w.ana_booking, now=AFTER + timedelta(days=3)) is first
    second = services.issue_certificate(w.ben_booking, now=AFTER)
    assert second.number != first.number
    assert count(db, Certificate) == 2
    event = audit_rows(db, "certificate.issued")[0]
    assert event.after == {"booking_id": w.ana_booking.id, "number": first.number}


@pytest.mark.parametrize("status", [None, (PARTIAL, 5), NO_SHOW, TURNED_AWAY, UNABLE])
def test_no_certificate_without_full_attendance(db, w, status):
    if status:
        mark(w, {w.ana_booking: status})
    assert services.certificate_problem(w.ana_booking, AFTER) == "Certificates are given for full attendance only"
    with pytest.raises(DomainError, match="full attendance only"):
        services.issue_certificate(w.ana_booking, now=AFTER)
    assert count(db, Certificate) == 0


def test_no_certificate_for_a_cancelled_booking_or_before_the_session_ends(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    with pytest.raises(DomainError, match="ready when the session has ended"):
        services.issue_certificate(w.ana_booking, now=END - timedelta(minutes=1))
    w.ana_booking.status = BookingStatus.CANCELLED
    with pytest.raises(DomainError, match="full attendance only"):
        services.issue_certificate(w.ana_booking, now=AFTER)
    assert count(db, Certificate) == 0


def test_where_the_course_says_so_the_certificate_waits_for_the_evaluation(db, w):
    w.course.certificate_needs_evaluation = True
    mark(w, {w.ana_booking: ATTENDED})
    with pytest.raises(DomainError, match="Fill in the short evaluation first"):
        services.issue_certificate(w.ana_booking, now=AFTER)
    assert count(db, Certificate) == 0
    evaluate(w.ana_booking)
    assert services.issue_certificate(w.ana_booking, now=AFTER).booking == w.ana_booking


def test_a_correction_that_takes_away_full_attendance_withdraws_the_certificate(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    number = services.issue_certificate(w.ana_booking, now=AFTER).number
    mark(w, {w.ana_booking: (PARTIAL, 90)}, by=w.coordinator, now=LOCKED, reason="Left at the break")

    assert count(db, Certificate) == 0
    assert services.find_certificate(number) is None
    withdrawn = audit_rows(db, "certificate.withdrawn")[0]
    assert (withdrawn.actor_id, withdrawn.before, withdrawn.reason) == (
        w.coordinator.id,
        {"number": number},
        "Left at the break",
    )


def test_a_certificate_is_found_by_its_number_however_it_is_typed(db, w):
    mark(w, {w.ana_booking: ATTENDED})
    number = services.issue_certificate(w.ana_booking, now=AFTER).number
    for typed in (number, number.lower(), number.replace("-", ""), f"  {number[:5]} {number[6:]} "):
        found = services.find_certificate(typed)
        assert found is not None and found.booking.user.name == "Ana Ahmed", typed


@pytest.mark.parametrize("made_up", ["ABCDE-FGHJK", "", "12345", "' OR 1=1 --"])
def test_a_made_up_number_finds_nothing(db, w, made_up):
    mark(w, {w.ana_booking: ATTENDED})
    services.issue_certificate(w.ana_booking, now=AFTER)
    assert services.find_certificate(made_up) is None


# Learner records ----------------------------------------------------------------------------

RECORD_NOW = datetime(2031, 1, 15, 12, 0, tzinfo=UTC)


def attended(person, course, starts_at, status=ATTENDED, minutes=None, **kw):
    """A past session of the course with the person's booking already marked."""
    from trainapp.extensions import db

    session = make_session(course=course, starts_at=starts_at, hours=3)
    booking = Booking(
        session=session,
        user=person,
        agency_id=person.agency_id,
        status=kw.pop("booking_status", BookingStatus.CONFIRMED),
        attendance=status,
        minutes_missed=minutes,
        **kw,
    )
    db.session.add(booking)
    db.session.flush()
    return booking


def at(day: date, hour=9) -> datetime:
    return datetime.combine(day, time(hour, 30), tzinfo=UTC)


def test_the_learner_record_lists_history_cpd_hours_refreshers_and_certificates(db):
    agency = make_agency()
    person = make_user(agency=agency, name="Rae Record")
    yearly = make_course(title="Yearly", cpd_hours=Decimal("3"), refresher_months=12)
    half_yearly = make_course(title="Half-yearly", cpd_hours=Decimal("1.5"), refresher_months=6)
    biennial = make_course(title="Biennial", cpd_hours=Decimal("6"), refresher_months=24)
    once = make_course(title="Once", cpd_hours=Decimal("2"))
    missed = make_course(title="Missed", cpd_hours=Decimal("4"), refresher_months=12)

    old_yearly = attended(person, yearly, at(date(2029, 1, 10)))
    new_yearly = attended(person, yearly, at(date(2030, 3, 18)))
    half = attended(person, half_yearly, at(date(2030, 5, 20)))
    two_years = attended(person, biennial, at(date(2030, 6, 3)))
    partial = attended(person, once, at(date(2030, 9, 1)), PARTIAL, 30)
    no_show = attended(person, missed, at(date(2030, 10, 1)), NO_SHOW)
    attended(person, missed, at(date(2030, 11, 1)), ATTENDED, booking_status=BookingStatus.CANCELLED)
    attended(person, yearly, RECORD_NOW + timedelta(days=10))  # not yet happened
    cancelled = attended(person, once, at(date(2030, 12, 1)), None)
    cancelled.session.status = SessionStatus.CANCELLED  # its bookings stay as they were
    attended(make_user(agency=agency), yearly, at(date(2030, 3, 18)))  # someone else's
    certificate = services.issue_certificate(new_yearly, now=RECORD_NOW)

    record = services.learner_record(person, RECORD_NOW)

    assert record.history == [no_show, partial, two_years, half, new_yearly, old_yearly]
    assert record.cpd_hours == Decimal("3") * 2 + Decimal("1.5") + Decimal("6")  # completed courses only
    assert record.completed == {old_yearly.id, new_yearly.id, half.id, two_years.id}
    assert [(r.course.title, r.completed_on, r.due_on, r.state) for r in record.refreshers] == [
        ("Half-yearly", date(2030, 5, 20), date(2030, 11, 20), "overdue"),
        ("Yearly", date(2030, 3, 18), date(2031, 3, 18), "due soon"),
        ("Biennial", date(2030, 6, 3), date(2032, 6, 3), "in date"),
    ]
    assert record.certificates == {new_yearly.id: certificate}


@pytest.mark.parametrize(
    ("days_before_due", "state"),
    [(91, "in date"), (90, "due soon"), (1, "due soon"), (0, "due soon"), (-1, "overdue")],
)
def test_a_refresher_is_due_soon_within_ninety_days_and_overdue_after_its_date(db, days_before_due, state):
    person = make_user()
    attended(person, make_course(refresher_months=12), at(date(2030, 3, 18)))
    today = date(2031, 3, 18) - timedelta(days=days_before_due)
    [refresher] = services.learner_record(person, at(today, hour=12)).refreshers
    assert (refresher.due_on, refresher.state) == (date(2031, 3, 18), state)


def test_refresher_dates_use_the_local_date_of_the_session(db):
    person = make_user()
    # 23:30 UTC on 14 June is 00:30 on the 15th in London (BST).
    attended(person, make_course(refresher_months=12), datetime(2030, 6, 14, 23, 30, tzinfo=UTC))
    [refresher] = services.learner_record(person, RECORD_NOW).refreshers
    assert (refresher.completed_on, refresher.due_on) == (date(2030, 6, 15), date(2031, 6, 15))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2030, 1, 31), 1, date(2030, 2, 28)),
        (date(2031, 1, 31), 13, date(2032, 2, 29)),
        (date(2030, 11, 30), 3, date(2031, 2, 28)),
        (date(2030, 3, 18), 12, date(2031, 3, 18)),
        (date(2030, 8, 31), 1, date(2030, 9, 30)),
    ],
)
def test_months_are_added_to_the_same_day_or_the_months_last(day, months, expected):
    assert services.add_months(day, months) == expected


def test_agency_leads_see_their_staff_who_are_due_or_overdue_and_coordinators_everyone(db):
    police, council = make_agency("Wessex Police"), make_agency("Downs Council")
    yearly = make_course(title="Yearly", refresher_months=12)
    half = make_course(title="Half-yearly", refresher_months=6)
    no_refresher = make_course(title="Once only")
    ada = make_user(agency=police, name="Ada Overdue")
    bo = make_user(agency=police, name="Bo Soon")
    cy = make_user(agency=police, name="Cy In-date")
    di = make_user(agency=police, name="Di Deactivated", active=False)
    ed = make_user(agency=council, name="Ed Elsewhere")
    fay = make_user(agency=police, name="Fay Partial")
    gus = make_user(agency=police, name="Gus No-show")
    attended(ada, half, at(date(2030, 5, 20)))  # due 20 Nov 2030: overdue
    attended(ada, yearly, at(date(2029, 3, 1)))  # overdue too...
    attended(ada, yearly, at(date(2030, 12, 1)))  # ...but done again since: in date
    attended(bo, yearly, at(date(2030, 3, 18)))  # due 18 Mar 2031: due soon
    attended(cy, yearly, at(date(2030, 9, 1)))  # in date
    attended(cy, no_refresher, at(date(2020, 1, 1)))
    attended(di, half, at(date(2030, 1, 1)))
    attended(ed, half, at(date(2030, 2, 1)))  # overdue, another agency
    attended(fay, half, at(date(2030, 4, 1)), PARTIAL, 20)  # partial does not count here: nothing to refresh
    attended(gus, half, at(date(2030, 4, 1)), NO_SHOW)  # never did it: nothing to refresh

    mine = services.agency_refreshers(police.id, RECORD_NOW).items
    assert [(r.person.name, r.course.title, r.due_on, r.state) for r in mine] == [
        ("Ada Overdue", "Half-yearly", date(2030, 11, 20), "overdue"),
        ("Bo Soon", "Yearly", date(2031, 3, 18), "due soon"),
    ]
    everyone = services.agency_refreshers(None, RECORD_NOW).items
    assert [r.person.name for r in everyone] == ["Ed Elsewhere", "Ada Overdue", "Bo Soon"]


def test_the_refreshers_list_is_sorted_by_the_local_due_date_across_refresher_periods(db):
    police = make_agency("Wessex Police")
    half, yearly = (
        make_course(title="Half-yearly", refresher_months=6),
        make_course(title="Yearly", refresher_months=12),
    )
    ada, bo, cy = (make_user(agency=police, name=name) for name in ("Ada", "Bo", "Cy"))
    attended(ada, half, datetime(2030, 6, 14, 23, 30, tzinfo=UTC))  # 00:30 on 15 June in London: due 15 Dec
    attended(bo, yearly, datetime(2029, 12, 15, 10, 0, tzinfo=UTC))  # due 15 Dec
    attended(cy, half, datetime(2030, 6, 14, 22, 0, tzinfo=UTC))  # 23:00 on 14 June in London: due 14 Dec

    rows = services.agency_refreshers(police.id, RECORD_NOW).items

    assert [(r.person.name, r.due_on) for r in rows] == [
        ("Cy", date(2030, 12, 14)),
        ("Ada", date(2030, 12, 15)),
        ("Bo", date(2030, 12, 15)),
    ]


@pytest.mark.parametrize(
    ("completed", "today", "listed"),
    [
        # One-month refresher: 28 February is due on 28 March, so overdue on 30 March.
        (date(2031, 2, 28), date(2031, 3, 30), "overdue"),
        # 31 January is due on 28 February (the month's last day): 28 February is still in date.
        (date(2031, 1, 31), date(2031, 2, 28), "due soon"),
        (date(2031, 1, 31), date(2031, 3, 1), "overdue"),
    ],
)
def test_refreshers_falling_due_at_a_month_end_are_listed_by_their_real_due_date(db, completed, today, listed):
    person = make_user(agency=make_agency())
    attended(person, make_course(refresher_months=1), at(completed))
    [row] = services.agency_refreshers(None, at(today, hour=12)).items
    assert (row.due_on, row.state) == (services.add_months(completed, 1), listed)
