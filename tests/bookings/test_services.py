from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_session, make_user
from tests.support import counting_queries, outbox_subjects
from trainapp.accounts.models import AgencyKind, Role
from trainapp.audit import AuditEvent
from trainapp.bookings import reminders, rules, services, session_lifecycle
from trainapp.bookings.capacity import availability
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import DeliveryMode, SessionStatus
from trainapp.errors import DomainError, InvalidTransition, NotAllowed
from trainapp.notifications.models import OutboxMessage

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
START = datetime(2030, 3, 18, 10, 0, tzinfo=UTC)  # two weeks later, 10:00 GMT


@pytest.fixture
def agency(db):
    return make_agency("Wessex Police", kind=AgencyKind.POLICE)


def people(agency, n):
    return [make_user(Role.STAFF, agency=agency) for _ in range(n)]


def book(session, person, by=None, now=NOW):
    return services.book_place(session.id, person, by=by or person, now=now)


def statuses(session):
    return [b.status for b in sorted_bookings(session)]


def sorted_bookings(session):
    from trainapp.extensions import db

    return db.session.scalars(sa.select(Booking).where(Booking.session_id == session.id).order_by(Booking.id)).all()


def test_booking_takes_a_place_and_records_agency_and_booker(db, agency):
    session = make_session(starts_at=START, capacity=2)
    person = make_user(Role.STAFF, agency=agency)
    booking = book(session, person)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.agency_id == agency.id and booking.booked_by == person
    assert session.places_taken == 1
    assert outbox_subjects(db, person.email)[0].startswith("Booked:")


def test_the_session_fills_then_people_join_the_waiting_list_in_order(db, agency):
    session = make_session(starts_at=START, capacity=2)
    a, b, c, d = people(agency, 4)
    for person in (a, b, c, d):
        book(session, person)
    assert statuses(session) == [BookingStatus.CONFIRMED] * 2 + [BookingStatus.WAITING] * 2
    assert session.places_taken == 2
    waiting = sorted_bookings(session)[2:]
    assert [services.waiting_position(w) for w in waiting] == [1, 2]
    assert (
        "number 2 on the waiting list"
        in db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == d.email)).one()
    )


def test_booking_twice_is_refused_and_changes_nothing(db, agency):
    session = make_session(starts_at=START, capacity=2)
    person = make_user(Role.STAFF, agency=agency)
    book(session, person)
    with pytest.raises(rules.AlreadyBooked):
        book(session, person)
    assert session.places_taken == 1 and len(sorted_bookings(session)) == 1


def test_a_freed_place_goes_to_the_first_waiting_person_in_the_same_transaction(db, agency):
    session = make_session(starts_at=START, capacity=1)
    first, second, third = people(agency, 3)
    taken = book(session, first)
    book(session, second)
    book(session, third)
    services.cancel_booking(taken.id, by=first, now=NOW)
    assert statuses(session) == [BookingStatus.CANCELLED, BookingStatus.CONFIRMED, BookingStatus.WAITING]
    assert session.places_taken == 1
    assert outbox_subjects(db, second.email)[-1].startswith("A place has come free")
    promoted = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "booking.promoted")).one()
    assert promoted.before["status"] == "waiting" and promoted.after["status"] == "confirmed"


def test_freeing_a_place_promotes_with_the_same_statements_however_long_the_waiting_list(db, agency):
    # While the session row is locked, availability is counted once per freed place, not per waiting person.
    def cancel_with(waiting_count):
        session = make_session(starts_at=START, capacity=1)
        first, *rest = people(agency, 1 + waiting_count)
        taken = book(session, first)
        for person in rest:
            book(session, person)
        db.session.commit()
        with counting_queries(db.engine) as statements:
            services.cancel_booking(taken.id, by=first, now=NOW)
            db.session.flush()
        return session, statements

    _, one = cancel_with(1)
    session, many = cancel_with(50)
    assert statuses(session) == [BookingStatus.CANCELLED, BookingStatus.CONFIRMED] + [BookingStatus.WAITING] * 49
    assert session.places_taken == 1
    assert len(many) == len(one), "\n".join(["1 waiting:", *one, "", "50 waiting:", *many])


def test_raising_capacity_promotes_the_waiting_list(db, agency):
    from trainapp.catalogue.services import SessionDetails

    coordinator = make_user(Role.COORDINATOR)
    session = make_session(starts_at=START, capacity=1)
    for person in people(agency, 3):
        book(session, person)
    details = SessionDetails(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        delivery_mode=session.delivery_mode,
        venue=session.venue,
        joining_link="",
        capacity=3,
        trainers=list(session.trainers),
    )
    session_lifecycle.change_session(session.id, details, by=coordinator, now=NOW)
    assert statuses(session) == [BookingStatus.CONFIRMED] * 3
    assert session.places_taken == 3


def test_leaving_the_waiting_list_frees_no_place_and_is_never_late(db, agency):
    session = make_session(starts_at=START, capacity=1)
    first, second = people(agency, 2)
    book(session, first)
    waiting = book(session, second)
    services.cancel_booking(waiting.id, by=second, now=START - timedelta(hours=1))
    assert waiting.status == BookingStatus.CANCELLED and not waiting.is_late_cancellation
    assert session.places_taken == 1


def test_people_can_book_again_after_cancelling(db, agency):
    session = make_session(starts_at=START, capacity=1)
    person = make_user(Role.STAFF, agency=agency)
    booking = book(session, person)
    services.cancel_booking(booking.id, by=person, now=NOW)
    again = book(session, person)
    assert again.id == booking.id and again.status == BookingStatus.CONFIRMED
    assert session.places_taken == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda s: setattr(s, "status", SessionStatus.CANCELLED), "cancelled"),
        (lambda s: setattr(s.course, "status", "draft"), "not open for booking"),
        (lambda s: setattr(s, "booking_opens_at", NOW + timedelta(days=1)), "Booking opens"),
        (lambda s: setattr(s, "booking_closes_at", NOW - timedelta(minutes=1)), "closed"),
        (lambda s: setattr(s, "starts_at", NOW - timedelta(minutes=1)), "already started"),
        (lambda s: setattr(s.course, "eligible_kinds", ["nhs", "fire"]), "only for staff of"),
    ],
)
def test_sessions_that_cannot_be_booked_are_refused(db, agency, setup, message):
    from trainapp.catalogue.models import CourseStatus

    session = make_session(starts_at=START, capacity=5)
    setup(session)
    if session.course.status == "draft":
        session.course.status = CourseStatus.DRAFT
    if session.starts_at < NOW:
        session.ends_at = NOW + timedelta(hours=1)
    person = make_user(Role.STAFF, agency=agency)
    with pytest.raises(rules.NotEligible, match=message):
        book(session, person)
    assert sorted_bookings(session) == [] and session.places_taken == 0


def test_a_prerequisite_must_have_been_completed(db, agency):
    level1 = make_course(title="Awareness", level=1)
    level2 = make_course(title="Practice", level=2, prerequisite=level1)
    person = make_user(Role.STAFF, agency=agency)
    later = make_session(course=level2, starts_at=START)
    with pytest.raises(rules.NotEligible, match="Awareness must be completed"):
        book(later, person)
    earlier = make_session(course=level1, starts_at=NOW - timedelta(days=30))
    record = Booking(session=earlier, user=person, agency_id=agency.id, status=BookingStatus.CONFIRMED)
    db.session.add(record)
    db.session.flush()
    with pytest.raises(rules.NotEligible):  # booked, but the register does not say attended
        book(later, person)
    record.attendance = AttendanceStatus.PARTIAL
    with pytest.raises(rules.NotEligible):  # partial attendance counts only where the course allows it
        book(later, person)
    level1.partial_counts_as_completed = True
    assert book(later, person).status == BookingStatus.CONFIRMED


def test_an_overlapping_booking_is_a_warning_not_a_refusal(db, agency):
    person = make_user(Role.STAFF, agency=agency)
    first = make_session(starts_at=START)
    second = make_session(starts_at=START + timedelta(hours=1))
    book(first, person)
    assert [b.session_id for b in rules.overlapping_bookings(person, second)] == [first.id]
    assert book(second, person).status == BookingStatus.CONFIRMED


def test_agency_leads_book_their_own_staff_only_and_coordinators_anyone(db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    mine, theirs = make_user(agency=agency), make_user(agency=make_agency())
    session = make_session(starts_at=START, capacity=5)
    assert book(session, mine, by=lead).booked_by == lead
    with pytest.raises(NotAllowed):
        book(session, theirs, by=lead)
    with pytest.raises(NotAllowed):
        book(session, theirs, by=mine)
    assert book(session, theirs, by=make_user(Role.COORDINATOR)).status == BookingStatus.CONFIRMED


def test_booking_a_group_books_each_and_reports_refusals(db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    team = people(agency, 3)
    session = make_session(starts_at=START, capacity=2)
    book(session, team[0])
    result = services.book_group(session.id, team, by=lead, now=NOW)
    assert [b.user for b in result.booked] == team[1:]
    assert result.refused[0][0] == team[0] and "already" in result.refused[0][1]
    assert statuses(session) == [BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.WAITING]


# Approval -------------------------------------------------------------------------------


def test_a_self_booking_on_an_approval_course_holds_a_place_until_the_lead_decides(db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    course = make_course(requires_approval=True)
    session = make_session(course=course, starts_at=START, capacity=1)
    person = make_user(agency=agency)
    booking = book(session, person)
    assert booking.status == BookingStatus.AWAITING_APPROVAL and session.places_taken == 1
    assert booking.approval_due_at.date() == date(2030, 3, 11)  # five working days after Monday 4 March
    assert outbox_subjects(db, lead.email)[0].startswith("Please approve")
    services.approve_booking(booking.id, by=lead, now=NOW)
    assert booking.status == BookingStatus.CONFIRMED
    with pytest.raises(DomainError, match="already been decided"):
        services.approve_booking(booking.id, by=lead, now=NOW)


def test_booking_by_the_lead_counts_as_approval(db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    session = make_session(course=make_course(requires_approval=True), starts_at=START)
    assert book(session, make_user(agency=agency), by=lead).status == BookingStatus.CONFIRMED


def test_declining_needs_a_reason_frees_the_place_and_tells_the_learner(db, agency):
    lead = make_user(Role.AGENCY_LEAD, agency=agency)
    session = make_session(course=make_course(requires_approval=True), starts_at=START, capacity=1)
    person, waiting = make_user(agency=agency), make_user(agency=agency)
    booking = book(session, person)
    book(session, waiting, by=lead)
    with pytest.raises(DomainError, match="reason"):
        services.decline_booking(booking.id, by=lead, reason=" ", now=NOW)
    services.decline_booking(booking.id, by=lead, reason="Not needed for your role", now=NOW)
    assert booking.status == BookingStatus.DECLINED
    assert statuses(session)[1] == BookingStatus.CONFIRMED  # booked by the lead, so approved already
    assert (
        "Not needed for your role"
        in db.session.scalars(
            sa.select(OutboxMessage.body)
            .where(OutboxMessage.recipient == person.email)
            .order_by(OutboxMessage.id.desc())
        ).first()
    )


def test_another_agencys_lead_cannot_decide(db, agency):
    session = make_session(course=make_course(requires_approval=True), starts_at=START)
    booking = book(session, make_user(agency=agency))
    with pytest.raises(NotAllowed):
        services.approve_booking(booking.id, by=make_user(Role.AGENCY_LEAD, agency=make_agency()), now=NOW)


def test_undecided_requests_expire_and_free_their_place_once(db, agency):
    session = make_session(course=make_course(requires_approval=True), starts_at=START, capacity=1)
    person, waiting = make_user(agency=agency), make_user(agency=agency)
    booking = book(session, person)
    book(session, waiting)
    assert services.expire_requests(NOW + timedelta(days=3)) == 0
    assert services.expire_requests(NOW + timedelta(days=8)) == 1
    assert booking.status == BookingStatus.EXPIRED
    assert statuses(session)[1] == BookingStatus.AWAITING_APPROVAL  # the promoted person needs approval too
    assert services.expire_requests(NOW + timedelta(days=8)) == 0


# Cancelling and cut-offs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cancelled_at", "late"),
    [
        # Session Monday 18 March 2030; 5 working days' notice: last day Monday 11 March.
        (datetime(2030, 3, 11, 23, 0, tzinfo=UTC), False),
        (datetime(2030, 3, 12, 0, 1, tzinfo=UTC), True),
    ],
)
def test_cancelling_after_the_working_day_cut_off_is_late(db, agency, cancelled_at, late):
    session = make_session(course=make_course(cancellation_notice_days=5), starts_at=START)
    person = make_user(agency=agency)
    booking = book(session, person)
    services.cancel_booking(booking.id, by=person, now=cancelled_at)
    assert booking.is_late_cancellation is late


def test_bank_holidays_do_not_count_as_working_days_of_notice(db):
    # Tuesday 30 March 2027 session, 3 working days' notice: Easter Monday 29 March and
    # Good Friday 26 March are skipped, so the last day is Tuesday 23 March.
    course = type("C", (), {"cancellation_notice_days": 3})()
    session = type("S", (), {"starts_at": datetime(2027, 3, 30, 9, 0, tzinfo=UTC), "course": course})()
    assert rules.last_day_to_cancel(session) == date(2027, 3, 23)


def test_someone_elses_booking_cannot_be_cancelled(db, agency):
    session = make_session(starts_at=START)
    booking = book(session, make_user(agency=agency))
    with pytest.raises(NotAllowed):
        services.cancel_booking(booking.id, by=make_user(agency=agency), now=NOW)
    with pytest.raises(NotAllowed):
        services.cancel_booking(booking.id, by=make_user(Role.AGENCY_LEAD, agency=make_agency()), now=NOW)
    services.cancel_booking(booking.id, by=make_user(Role.AGENCY_LEAD, agency=agency), now=NOW)
    assert booking.status == BookingStatus.CANCELLED


def test_cancelling_after_the_start_or_twice_is_refused(db, agency):
    session = make_session(starts_at=START)
    person = make_user(agency=agency)
    booking = book(session, person)
    with pytest.raises(DomainError, match="already started"):
        services.cancel_booking(booking.id, by=person, now=START + timedelta(minutes=1))
    services.cancel_booking(booking.id, by=person, now=NOW)
    with pytest.raises(DomainError, match="already cancelled"):
        services.cancel_booking(booking.id, by=person, now=NOW)


# Transfers ------------------------------------------------------------------------------


def test_a_place_transfers_to_a_colleague_for_free_and_keeps_the_count(db, agency):
    session = make_session(starts_at=START, capacity=1)
    person, colleague = make_user(agency=agency), make_user(agency=agency)
    booking = book(session, person)
    theirs = services.transfer_booking(booking.id, colleague, by=person, now=START - timedelta(hours=1))
    assert theirs.status == BookingStatus.CONFIRMED and theirs.user == colleague
    assert booking.status == BookingStatus.CANCELLED and not booking.is_late_cancellation
    assert booking.transferred_to == colleague
    assert session.places_taken == 1


def test_transfers_to_other_agencies_or_people_already_booked_are_refused(db, agency):
    session = make_session(starts_at=START, capacity=3)
    person, booked_colleague = make_user(agency=agency), make_user(agency=agency)
    booking = book(session, person)
    book(session, booked_colleague)
    with pytest.raises(DomainError, match="same agency"):
        services.transfer_booking(booking.id, make_user(agency=make_agency()), by=person, now=NOW)
    with pytest.raises(rules.AlreadyBooked):
        services.transfer_booking(booking.id, booked_colleague, by=person, now=NOW)
    assert booking.status == BookingStatus.CONFIRMED and session.places_taken == 2


# Waiting-list order ----------------------------------------------------------------------


def test_a_coordinator_moves_someone_up_the_list_with_a_recorded_reason(db, agency):
    coordinator = make_user(Role.COORDINATOR)
    session = make_session(starts_at=START, capacity=1)
    everyone = people(agency, 4)
    bookings = [book(session, p) for p in everyone]
    last = bookings[-1]
    with pytest.raises(DomainError, match="reason"):
        services.move_on_waiting_list(last.id, by=coordinator, position=1, reason="")
    services.move_on_waiting_list(last.id, by=coordinator, position=1, reason="Safeguarding lead for the area")
    assert [services.waiting_position(b) for b in bookings[1:]] == [2, 3, 1]
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "booking.moved_on_waiting_list")).one()
    assert event.reason == "Safeguarding lead for the area" and event.before == {"position": 3}
    services.cancel_booking(bookings[0].id, by=everyone[0], now=NOW)
    assert last.status == BookingStatus.CONFIRMED
    with pytest.raises(NotAllowed):
        services.move_on_waiting_list(bookings[1].id, by=everyone[1], position=1, reason="me first")


# Agency reservations --------------------------------------------------------------------


def test_held_places_are_only_for_that_agency_until_released(db, agency):
    coordinator = make_user(Role.COORDINATOR)
    other = make_agency("Council")
    session = make_session(starts_at=START, capacity=3)
    services.reserve_places(session.id, agency, places=2, release_at=NOW + timedelta(days=7), by=coordinator, now=NOW)
    outsiders = [make_user(agency=other) for _ in range(2)]
    assert book(session, outsiders[0]).status == BookingStatus.CONFIRMED
    assert book(session, outsiders[1]).status == BookingStatus.WAITING
    insider = make_user(agency=agency)
    mine = book(session, insider)
    assert mine.status == BookingStatus.CONFIRMED and mine.reserved_for_agency_id == agency.id
    avail = availability(session, NOW)
    assert (avail.general_left, avail.reserved_left(agency.id)) == (0, 1)
    assert services.release_due_reservations(NOW + timedelta(days=6)) == 0
    assert services.release_due_reservations(NOW + timedelta(days=7)) == 1
    assert statuses(session)[1] == BookingStatus.CONFIRMED  # the outsider waiting got the released place
    assert services.release_due_reservations(NOW + timedelta(days=8)) == 0


def test_holding_more_places_than_are_free_is_refused(db, agency):
    coordinator = make_user(Role.COORDINATOR)
    session = make_session(starts_at=START, capacity=3)
    book(session, make_user(agency=make_agency()))
    with pytest.raises(DomainError, match="Only 2 places"):
        services.reserve_places(
            session.id, agency, places=3, release_at=NOW + timedelta(days=1), by=coordinator, now=NOW
        )
    with pytest.raises(NotAllowed):
        services.reserve_places(
            session.id,
            agency,
            places=1,
            release_at=NOW + timedelta(days=1),
            by=make_user(Role.AGENCY_LEAD, agency=agency),
            now=NOW,
        )


# Session changes and reminders -----------------------------------------------------------


def test_cancelling_a_session_tells_everyone_booked_or_waiting(db, agency):
    coordinator = make_user(Role.COORDINATOR)
    session = make_session(starts_at=START, capacity=1)
    booked_person, waiting_person, cancelled_person = people(agency, 3)
    book(session, booked_person)
    book(session, waiting_person)
    gone = services.book_place(session.id, cancelled_person, by=cancelled_person, now=NOW)
    services.cancel_booking(gone.id, by=cancelled_person, now=NOW)
    session_lifecycle.cancel_session(session.id, by=coordinator, reason="Trainer unwell")
    told = db.session.scalars(
        sa.select(OutboxMessage.recipient).where(OutboxMessage.subject.like("Session cancelled%"))
    ).all()
    assert sorted(told) == sorted([booked_person.email, waiting_person.email])


def test_reminders_are_queued_once_at_10_and_3_working_days(db, agency):
    session = make_session(starts_at=START, capacity=2)  # Monday 18 March 2030
    person = make_user(agency=agency)
    book(session, person)
    assert reminders.queue_reminders(datetime(2030, 3, 1, 12, tzinfo=UTC)) == 0  # 11 working days before
    assert reminders.queue_reminders(datetime(2030, 3, 4, 12, tzinfo=UTC)) == 1  # 10 working days before
    assert reminders.queue_reminders(datetime(2030, 3, 5, 12, tzinfo=UTC)) == 0  # already sent
    assert reminders.queue_reminders(datetime(2030, 3, 13, 12, tzinfo=UTC)) == 1  # 3 working days before
    assert reminders.queue_reminders(datetime(2030, 3, 14, 12, tzinfo=UTC)) == 0
    assert [s for s in outbox_subjects(db, person.email) if s.startswith("Reminder")] == [
        f"Reminder: {session.course.title}, 18 March 2030"
    ] * 2


def test_online_sessions_send_the_joining_link_two_days_before(db, agency):
    session = make_session(
        starts_at=START, delivery_mode=DeliveryMode.ONLINE, venue=None, joining_link="https://meet.example.org/abc"
    )
    person = make_user(agency=agency)
    book(session, person)
    assert reminders.queue_reminders(START - timedelta(hours=49)) == 1  # only the 3-day reminder
    assert reminders.queue_reminders(START - timedelta(hours=47)) == 1  # the link
    link = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.subject.like("Joining link%"))).one()
    assert "https://meet.example.org/abc" in link.body


def test_statuses_only_change_along_allowed_transitions():
    with pytest.raises(InvalidTransition):
        BookingStatus.CONFIRMED.check_transition(BookingStatus.WAITING)
    with pytest.raises(InvalidTransition):
        BookingStatus.DECLINED.check_transition(BookingStatus.EXPIRED)
    BookingStatus.CANCELLED.check_transition(BookingStatus.CONFIRMED)


def test_places_taken_always_matches_the_holding_bookings(db, agency):
    session = make_session(starts_at=START, capacity=3)
    everyone = people(agency, 6)
    bookings = [book(session, p) for p in everyone]
    for booking, person in list(zip(bookings, everyone, strict=True))[:4]:
        services.cancel_booking(booking.id, by=person, now=NOW)
    holding = sum(1 for b in sorted_bookings(session) if b.status.holds_place)
    assert session.places_taken == holding == 2


def test_places_left_on_pages_matches_what_the_locked_section_would_sell(db, agency):
    """The SQL count pages and filters use agrees with capacity.availability for every viewer."""
    import sqlalchemy as sa

    from trainapp.bookings.places import places_left_column
    from trainapp.catalogue.models import TrainingSession

    coordinator = make_user(Role.COORDINATOR)
    council, health = make_agency(kind=AgencyKind.COUNCIL), make_agency(kind=AgencyKind.NHS)
    session = make_session(starts_at=START, capacity=7)
    services.reserve_places(session.id, agency, places=3, release_at=NOW + timedelta(days=7), by=coordinator, now=NOW)
    services.reserve_places(session.id, health, places=1, release_at=NOW + timedelta(days=1), by=coordinator, now=NOW)
    book(session, make_user(agency=agency))  # takes one of the police's held places
    book(session, make_user(agency=council))  # from the general pool
    book(session, make_user(agency=health))  # health's held place, released two days later

    def on_page(agency_id, now):
        return db.session.scalar(sa.select(places_left_column(agency_id, now)).where(TrainingSession.id == session.id))

    for now in (NOW, NOW + timedelta(days=2)):
        avail = availability(session, now)
        for viewer in (agency.id, council.id, health.id, None):
            assert on_page(viewer, now) == avail.general_left + avail.reserved_left(viewer), (now, viewer)
    assert [on_page(a, NOW) for a in (agency.id, council.id, health.id)] == [2 + 2, 2, 2]
    assert [on_page(a, NOW + timedelta(days=2)) for a in (agency.id, council.id)] == [2 + 2, 2]
    assert on_page(agency.id, START) is None  # started: no places to offer
