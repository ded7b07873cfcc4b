"""The money rules: grants, allocations, costs, the charging policy and charges.

Every date is fixed, so windows, cut-offs and months are tested at exact moments. Who may open
which page is in tests/core/test_access.py; the pages themselves in test_routes.py.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_agency, make_course, make_programme, make_session, make_user
from trainapp.accounts.models import AgencyKind, Role
from trainapp.attendance import services as attendance
from trainapp.audit import AuditEvent
from trainapp.bookings import services as bookings
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.errors import DomainError, InvalidTransition, NotAllowed
from trainapp.funding import charges, services
from trainapp.funding.models import (
    Allocation,
    Charge,
    ChargeExemption,
    ChargeReason,
    ChargeStatus,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)

WINDOW_START, WINDOW_END = date(2030, 1, 1), date(2030, 12, 31)
START = datetime(2030, 3, 18, 9, 30, tzinfo=UTC)  # a Monday, GMT (London = UTC in March)
BOOKED_AT = START - timedelta(days=14)
DURING = START + timedelta(hours=1)
# The course gives 5 working days' notice: the last free day is Monday 11 March, so a
# cancellation from midnight into Tuesday 12 March on is late.
CUT_OFF = datetime(2030, 3, 12, 0, 0, tzinfo=UTC)

ATTENDED, PARTIAL, TURNED_AWAY, NO_SHOW, UNABLE = (
    AttendanceStatus.ATTENDED,
    AttendanceStatus.PARTIAL,
    AttendanceStatus.TURNED_AWAY,
    AttendanceStatus.NO_SHOW,
    AttendanceStatus.UNABLE,
)
# The policy's rates when nobody has changed them.
PARTNER_DAY, PARTNER_HALF_DAY, NON_PARTNER_DAY, NON_PARTNER_HALF_DAY = 50_00, 35_00, 90_00, 50_00


class World:
    """A coordinator, an awarded grant for 2030, a programme with a course, and two agencies:
    a partner (police) and a non-partner (a charity)."""

    def __init__(self, db):
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.police = make_agency("Wessex Police", kind=AgencyKind.POLICE, is_partner=True)
        self.charity = make_agency("Harbour Trust", kind=AgencyKind.POLICE, is_partner=False)
        self.police_lead = make_user(Role.AGENCY_LEAD, agency=self.police, name="Pat Lead")
        self.trainer = make_user(Role.TRAINER, agency=self.police, name="Tess Trainer")
        self.staff = make_user(Role.STAFF, agency=self.police, name="Sam Staff")
        self.programme = make_programme("Family Practice")
        self.course = make_course(programme=self.programme, title="Safety Planning", cancellation_notice_days=5)
        self.grant = Grant(
            name="Lottery 2030",
            funder="Lottery",
            reference="L-1",
            amount_pence=10_000_00,
            starts_on=WINDOW_START,
            ends_on=WINDOW_END,
            status=GrantStatus.AWARDED,
        )
        db.session.add(self.grant)
        self.session = make_session(course=self.course, starts_at=START, hours=3, capacity=10, trainers=[self.trainer])
        db.session.commit()


@pytest.fixture
def w(db):
    return World(db)


def audit_rows(db, action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def allocate(w, amount, *, programme=None, course=None, grant=None):
    return services.save_allocation(
        None,
        grant_id=(grant or w.grant).id,
        by=w.coordinator,
        amount_pence=amount,
        programme=programme or (None if course else w.programme),
        course=course,
    )


def cost_details(
    w, amount, *, on=date(2030, 3, 18), state=CostState.COMMITTED, reason="", session=None, programme=None
):
    return services.CostDetails(
        category=CostCategory.TRAINER,
        amount_pence=amount,
        state=state,
        incurred_on=on,
        supplier=" Ann Trainer ",
        reference=" INV-1 ",
        session=session if session is not None or programme is not None else w.session,
        programme=programme,
        override_reason=reason,
    )


def details(**changes):
    fields = dict(
        name="Lottery 2031",
        funder="Lottery",
        reference="",
        amount_pence=5_000_00,
        match_funding_pence=0,
        starts_on=date(2031, 1, 1),
        ends_on=date(2031, 12, 31),
        notes="",
        status=GrantStatus.EXPECTED,
    )
    fields.update(changes)
    return services.GrantDetails(**fields)


def refused(db, call, message, field=None, error=DomainError):
    """The call is refused with this message, and the view's rollback leaves nothing behind."""
    audit_before = count(db, AuditEvent)
    with pytest.raises(error) as raised:
        call()
    assert raised.value.message == message
    if field is not None:
        assert raised.value.field == field
    db.session.rollback()
    assert count(db, AuditEvent) == audit_before
    return raised.value


# Grants ------------------------------------------------------------------------------------


def test_a_grant_is_created_with_every_detail_and_audited(db, w):
    grant = services.save_grant(
        None,
        details(name="  Council Fund ", reference="CF/9", match_funding_pence=250_00, notes="For 2031"),
        by=w.coordinator,
    )
    db.session.commit()
    assert (grant.name, grant.reference, grant.amount_pence, grant.match_funding_pence) == (
        "Council Fund",
        "CF/9",
        5_000_00,
        250_00,
    )
    assert (grant.starts_on, grant.ends_on, grant.status) == (
        date(2031, 1, 1),
        date(2031, 12, 31),
        GrantStatus.EXPECTED,
    )
    [event] = audit_rows(db, "grant.created")
    assert event.actor_id == w.coordinator.id and event.entity_id == grant.id
    assert event.after["amount_pence"] == 5_000_00 and event.after["status"] == "expected"


def test_a_change_to_a_grant_records_only_what_changed(db, w):
    services.save_grant(
        w.grant,
        details(
            name="Lottery 2030",
            funder="Lottery",
            reference="L-1",
            amount_pence=12_000_00,
            starts_on=WINDOW_START,
            ends_on=WINDOW_END,
            status=GrantStatus.AWARDED,
        ),
        by=w.coordinator,
    )
    db.session.commit()
    [event] = audit_rows(db, "grant.updated")
    assert event.before == {"amount_pence": 10_000_00} and event.after == {"amount_pence": 12_000_00}


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        (
            dict(starts_on=date(2031, 6, 1), ends_on=date(2031, 5, 31)),
            "The delivery window must end on or after its start",
            "ends_on",
        ),
        (dict(name="lottery 2030 "), "A grant with this name already exists", "name"),
    ],
)
def test_bad_grants_are_refused(db, w, changes, message, field):
    refused(db, lambda: services.save_grant(None, details(**changes), by=w.coordinator), message, field)
    assert count(db, Grant) == 1


@pytest.mark.parametrize("role", [Role.STAFF, Role.TRAINER, Role.AGENCY_LEAD])
def test_only_coordinators_change_money(db, w, role):
    person = make_user(role, agency=w.police)
    allocation = allocate(w, 100_00)
    db.session.commit()
    message = "Only a coordinator can change money"
    refused(db, lambda: services.save_grant(None, details(), by=person), message, error=NotAllowed)
    refused(
        db,
        lambda: services.save_allocation(None, grant_id=w.grant.id, by=person, amount_pence=1, programme=w.programme),
        message,
        error=NotAllowed,
    )
    refused(db, lambda: services.add_cost(allocation.id, cost_details(w, 1), by=person), message, error=NotAllowed)
    refused(
        db,
        lambda: services.save_policy(
            by=person,
            partner_day=0,
            partner_half_day=0,
            non_partner_day=0,
            non_partner_half_day=0,
            half_day_max_minutes=240,
            credit_grant=None,
        ),
        message,
        error=NotAllowed,
    )
    refused(
        db, lambda: services.set_exemption(w.police, by=person, exempt=True, reason="Ours"), message, error=NotAllowed
    )
    assert (count(db, Grant), count(db, Allocation), count(db, CostLine), count(db, ChargeExemption)) == (1, 1, 0, 0)


def test_a_grant_cannot_drop_below_what_is_allocated_from_it(db, w):
    allocate(w, 6_000_00)
    db.session.commit()
    change = details(
        name="Lottery 2030",
        amount_pence=5_999_99,
        starts_on=WINDOW_START,
        ends_on=WINDOW_END,
        status=GrantStatus.AWARDED,
    )
    refused(
        db,
        lambda: services.save_grant(w.grant, change, by=w.coordinator),
        "£6,000 is already allocated from this grant: the amount cannot be less",
        "amount",
    )
    assert db.session.get(Grant, w.grant.id).amount_pence == 10_000_00
    change.amount_pence = 6_000_00
    assert services.save_grant(w.grant, change, by=w.coordinator).amount_pence == 6_000_00


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (GrantStatus.EXPECTED, GrantStatus.AWARDED, True),
        (GrantStatus.EXPECTED, GrantStatus.CLOSED, True),
        (GrantStatus.AWARDED, GrantStatus.CLOSED, True),
        (GrantStatus.CLOSED, GrantStatus.AWARDED, True),
        (GrantStatus.AWARDED, GrantStatus.EXPECTED, False),
        (GrantStatus.CLOSED, GrantStatus.EXPECTED, False),
    ],
)
def test_grant_statuses_move_only_as_written_down(db, w, start, target, allowed):
    w.grant.status = start
    db.session.commit()
    change = details(
        name="Lottery 2030", amount_pence=10_000_00, starts_on=WINDOW_START, ends_on=WINDOW_END, status=target
    )
    if allowed:
        assert services.save_grant(w.grant, change, by=w.coordinator).status == target
    else:
        refused(
            db,
            lambda: services.save_grant(w.grant, change, by=w.coordinator),
            f"A {start.value} grant cannot become {target.value}",
            error=InvalidTransition,
        )
        assert db.session.get(Grant, w.grant.id).status == start


# Allocations --------------------------------------------------------------------------------


def test_allocations_go_to_a_programme_or_one_course_and_are_audited(db, w):
    to_programme = allocate(w, 4_000_00)
    to_course = allocate(w, 1_000_00, course=w.course)
    db.session.commit()
    assert (to_programme.programme, to_programme.course) == (w.programme, None)
    assert (to_course.programme, to_course.course) == (None, w.course)
    assert to_course.target_name == "Safety Planning" and to_programme.target_name == "Family Practice"
    created = audit_rows(db, "allocation.created")
    assert [e.after for e in created] == [
        {"grant_id": w.grant.id, "amount_pence": 4_000_00, "programme_id": w.programme.id, "course_id": None},
        {"grant_id": w.grant.id, "amount_pence": 1_000_00, "programme_id": None, "course_id": w.course.id},
    ]


@pytest.mark.parametrize("both", [True, False])
def test_an_allocation_has_exactly_one_target(db, w, both):
    target = dict(programme=w.programme, course=w.course) if both else {}
    refused(
        db,
        lambda: services.save_allocation(None, grant_id=w.grant.id, by=w.coordinator, amount_pence=1, **target),
        "Allocate to a programme or to one course",
        "target",
    )
    assert count(db, Allocation) == 0


def test_allocations_never_add_up_to_more_than_the_grant(db, w):
    allocate(w, 7_000_00)
    db.session.commit()
    refused(
        db, lambda: allocate(w, 3_000_01, course=w.course), "Only £3,000 of this grant is left to allocate", "amount"
    )
    assert count(db, Allocation) == 1
    assert allocate(w, 3_000_00, course=w.course).amount_pence == 3_000_00  # exactly the rest is fine


def test_changing_an_allocation_counts_the_others_not_itself(db, w):
    first = allocate(w, 6_000_00)
    allocate(w, 4_000_00, course=w.course)
    db.session.commit()
    services.save_allocation(first, grant_id=w.grant.id, by=w.coordinator, amount_pence=5_000_00, programme=w.programme)
    db.session.commit()
    refused(
        db,
        lambda: services.save_allocation(
            first, grant_id=w.grant.id, by=w.coordinator, amount_pence=6_000_01, programme=w.programme
        ),
        "Only £6,000 of this grant is left to allocate",
        "amount",
    )
    assert db.session.get(Allocation, first.id).amount_pence == 5_000_00
    [event] = audit_rows(db, "allocation.updated")
    assert event.before == {"amount_pence": 6_000_00} and event.after["amount_pence"] == 5_000_00


def test_an_allocation_cannot_drop_below_the_costs_charged_to_it(db, w):
    allocation = allocate(w, 1_000_00)
    services.add_cost(allocation.id, cost_details(w, 800_00), by=w.coordinator)
    db.session.commit()
    refused(
        db,
        lambda: services.save_allocation(
            allocation, grant_id=w.grant.id, by=w.coordinator, amount_pence=799_99, programme=w.programme
        ),
        "£800 of costs are already charged to this allocation",
        "amount",
    )
    assert db.session.get(Allocation, allocation.id).amount_pence == 1_000_00


def test_a_closed_grant_takes_no_more_allocations(db, w):
    w.grant.status = GrantStatus.CLOSED
    db.session.commit()
    refused(db, lambda: allocate(w, 1_00), "This grant is closed: nothing more can be allocated from it")
    assert count(db, Allocation) == 0


# Costs --------------------------------------------------------------------------------------


def test_a_cost_is_charged_to_an_allocation_and_audited(db, w):
    allocation = allocate(w, 1_000_00)
    cost = services.add_cost(allocation.id, cost_details(w, 400_00, state=CostState.PAID), by=w.coordinator)
    db.session.commit()
    assert (cost.allocation, cost.session, cost.programme) == (allocation, w.session, None)
    assert (cost.amount_pence, cost.state, cost.supplier, cost.reference) == (
        400_00,
        CostState.PAID,
        "Ann Trainer",
        "INV-1",
    )
    assert cost.override_reason is None and cost.created_by_id == w.coordinator.id
    [event] = audit_rows(db, "cost.created")
    assert event.after == {
        "allocation_id": allocation.id,
        "amount_pence": 400_00,
        "state": "paid",
        "category": "trainer",
        "session_id": w.session.id,
        "programme_id": None,
    }
    assert event.reason is None


def test_a_cost_can_be_on_a_programme(db, w):
    allocation = allocate(w, 1_000_00)
    cost = services.add_cost(allocation.id, cost_details(w, 50_00, programme=w.programme), by=w.coordinator)
    assert (cost.session, cost.programme) == (None, w.programme)


@pytest.mark.parametrize(
    ("allocated_to", "cost_on", "message"),
    [
        (
            "other programme",
            "session",
            "Choose an allocation for Safety Planning or its programme, Family Practice: this one is for Youth Work",
        ),
        (
            "other course",
            "session",
            "Choose an allocation for Safety Planning or its programme, Family Practice: this one is for Risk Assessment",
        ),
        (
            "other programme",
            "programme",
            "Choose an allocation for the programme Family Practice: this one is for Youth Work",
        ),
        (
            "course",
            "programme",
            "Choose an allocation for the programme Family Practice: this one is for Safety Planning",
        ),
    ],
)
def test_a_cost_is_paid_only_from_its_own_programmes_or_courses_allocation(db, w, allocated_to, cost_on, message):
    target = {
        "other programme": dict(programme=make_programme("Youth Work")),
        "other course": dict(course=make_course(programme=w.programme, title="Risk Assessment")),
        "course": dict(course=w.course),
    }[allocated_to]
    allocation = allocate(w, 1_000_00, **target)
    db.session.commit()
    cost = cost_details(w, 50_00, programme=w.programme if cost_on == "programme" else None)
    refused(db, lambda: services.add_cost(allocation.id, cost, by=w.coordinator), message, "allocation")
    assert count(db, CostLine) == 0


def test_a_course_allocation_pays_for_that_courses_sessions(db, w):
    allocation = allocate(w, 1_000_00, course=w.course)
    cost = services.add_cost(allocation.id, cost_details(w, 50_00), by=w.coordinator)
    assert (cost.allocation, cost.session) == (allocation, w.session)


@pytest.mark.parametrize("target", ["both", "neither"])
def test_a_cost_belongs_to_a_session_or_a_programme(db, w, target):
    allocation = allocate(w, 1_000_00)
    db.session.commit()
    cost = cost_details(w, 50_00)
    cost.session, cost.programme = (w.session, w.programme) if target == "both" else (None, None)
    refused(
        db,
        lambda: services.add_cost(allocation.id, cost, by=w.coordinator),
        "A cost belongs to a session or a programme",
    )
    assert count(db, CostLine) == 0


def test_a_cost_taking_an_allocation_over_is_refused_without_a_reason(db, w):
    allocation = allocate(w, 1_000_00)
    services.add_cost(allocation.id, cost_details(w, 600_00, state=CostState.PAID), by=w.coordinator)
    db.session.commit()
    # Committed and paid costs both use up the allocation: 600 + 400.01 is 1p over.
    for reason in ("", "   "):
        refused(
            db,
            lambda reason=reason: services.add_cost(
                allocation.id, cost_details(w, 400_01, reason=reason), by=w.coordinator
            ),
            "This takes the allocation £0.01 over its £1,000. Give a reason to record the overspend, "
            "or charge it elsewhere",
            "override_reason",
        )
    assert count(db, CostLine) == 1


def test_an_overspend_is_accepted_with_its_reason_recorded(db, w):
    allocation = allocate(w, 1_000_00)
    services.add_cost(allocation.id, cost_details(w, 900_00), by=w.coordinator)
    cost = services.add_cost(allocation.id, cost_details(w, 300_00, reason=" Venue price rose "), by=w.coordinator)
    db.session.commit()
    assert cost.override_reason == "Venue price rose"
    assert audit_rows(db, "cost.created")[-1].reason == "Venue price rose"
    assert services.spent_pence(allocation.id) == 1_200_00


def test_a_reason_given_for_a_cost_within_the_allocation_is_not_kept_as_an_override(db, w):
    allocation = allocate(w, 1_000_00)
    cost = services.add_cost(allocation.id, cost_details(w, 1_000_00, reason="Just in case"), by=w.coordinator)
    assert cost.override_reason is None  # exactly the allocation is not over it


def test_a_closed_grant_takes_no_costs(db, w):
    allocation = allocate(w, 1_000_00)
    w.grant.status = GrantStatus.CLOSED
    db.session.commit()
    refused(
        db,
        lambda: services.add_cost(allocation.id, cost_details(w, 10_00), by=w.coordinator),
        "This grant is closed: no costs can be charged to it",
        "allocation",
    )
    assert count(db, CostLine) == 0


@pytest.mark.parametrize(
    ("on", "allowed"),
    [
        (date(2029, 12, 31), False),
        (WINDOW_START, True),
        (WINDOW_END, True),
        (date(2031, 1, 1), False),
    ],
)
def test_costs_fall_inside_the_grants_delivery_window(db, w, on, allowed):
    allocation = allocate(w, 1_000_00)
    db.session.commit()
    if allowed:
        assert services.add_cost(allocation.id, cost_details(w, 10_00, on=on), by=w.coordinator).incurred_on == on
    else:
        refused(
            db,
            lambda: services.add_cost(allocation.id, cost_details(w, 10_00, on=on), by=w.coordinator),
            "The date is outside the grant's delivery window (1 January 2030 to 31 December 2030)",
            "incurred_on",
        )
        assert count(db, CostLine) == 0


def test_a_cost_of_nothing_is_refused(db, w):
    allocation = allocate(w, 1_000_00)
    db.session.commit()
    refused(
        db,
        lambda: services.add_cost(allocation.id, cost_details(w, 0), by=w.coordinator),
        "Enter an amount more than zero",
        "amount",
    )
    assert count(db, CostLine) == 0


def test_a_cost_to_an_allocation_that_does_not_exist_is_refused(db, w):
    refused(
        db,
        lambda: services.add_cost(999_999, cost_details(w, 10_00), by=w.coordinator),
        "That allocation does not exist",
        "allocation",
    )


def test_a_committed_cost_is_marked_paid_once_and_audited(db, w):
    allocation = allocate(w, 1_000_00)
    cost = services.add_cost(allocation.id, cost_details(w, 10_00), by=w.coordinator)
    services.mark_cost_paid(cost, by=w.coordinator)
    db.session.commit()
    assert cost.state == CostState.PAID
    [event] = audit_rows(db, "cost.paid")
    assert (event.before, event.after) == ({"state": "committed"}, {"state": "paid"})
    refused(
        db,
        lambda: services.mark_cost_paid(db.session.get(CostLine, cost.id), by=w.coordinator),
        "This cost is already paid",
    )
    refused(
        db,
        lambda: services.mark_cost_paid(db.session.get(CostLine, cost.id), by=w.staff),
        "Only a coordinator can change money",
        error=NotAllowed,
    )


# The charging policy ------------------------------------------------------------------------


def test_the_policy_starts_with_usual_rates_and_changes_are_audited(db, w):
    current = services.policy()
    assert (
        current.partner_day_pence,
        current.partner_half_day_pence,
        current.non_partner_day_pence,
        current.non_partner_half_day_pence,
        current.half_day_max_minutes,
    ) == (PARTNER_DAY, PARTNER_HALF_DAY, NON_PARTNER_DAY, NON_PARTNER_HALF_DAY, 240)
    services.save_policy(
        by=w.coordinator,
        partner_day=60_00,
        partner_half_day=PARTNER_HALF_DAY,
        non_partner_day=NON_PARTNER_DAY,
        non_partner_half_day=NON_PARTNER_HALF_DAY,
        half_day_max_minutes=180,
        credit_grant=w.grant,
    )
    db.session.commit()
    [event] = audit_rows(db, "charging_policy.updated")
    assert event.before == {"partner_day_pence": PARTNER_DAY, "half_day_max_minutes": 240, "credit_grant_id": None}
    assert event.after == {"partner_day_pence": 60_00, "half_day_max_minutes": 180, "credit_grant_id": w.grant.id}
    # Saving the same rates again changes nothing, so records nothing.
    services.save_policy(
        by=w.coordinator,
        partner_day=60_00,
        partner_half_day=PARTNER_HALF_DAY,
        non_partner_day=NON_PARTNER_DAY,
        non_partner_half_day=NON_PARTNER_HALF_DAY,
        half_day_max_minutes=180,
        credit_grant=w.grant,
    )
    assert len(audit_rows(db, "charging_policy.updated")) == 1


@pytest.mark.parametrize("minutes", [59, 12 * 60 + 1])
def test_a_half_day_is_between_one_and_twelve_hours(db, w, minutes):
    services.policy()
    db.session.commit()
    refused(
        db,
        lambda: services.save_policy(
            by=w.coordinator,
            partner_day=1,
            partner_half_day=1,
            non_partner_day=1,
            non_partner_half_day=1,
            half_day_max_minutes=minutes,
            credit_grant=None,
        ),
        "A half day must be between 1 and 12 hours",
        "half_day_hours",
    )
    assert services.policy().half_day_max_minutes == 240


def test_exempting_an_agency_needs_a_reason_and_is_audited(db, w):
    refused(
        db,
        lambda: services.set_exemption(w.charity, by=w.coordinator, exempt=True, reason="  "),
        "Enter the reason this agency is not charged",
        "reason",
    )
    assert not services.is_exempt(w.charity.id)
    services.set_exemption(w.charity, by=w.coordinator, exempt=True, reason="Hosts the venue")
    db.session.commit()
    assert services.is_exempt(w.charity.id) and not services.is_exempt(w.police.id)
    [event] = audit_rows(db, "charge_exemption.set")
    assert event.entity_id == w.charity.id and event.reason == "Hosts the venue"
    services.set_exemption(w.charity, by=w.coordinator, exempt=False)
    db.session.commit()
    assert not services.is_exempt(w.charity.id)
    assert len(audit_rows(db, "charge_exemption.removed")) == 1


# Charges from the register ----------------------------------------------------------------


def booked(session, person):
    """A confirmed place, as booking made it (the session's count included)."""
    from trainapp.extensions import db

    booking = Booking(session=session, user=person, agency_id=person.agency_id, status=BookingStatus.CONFIRMED)
    db.session.add(booking)
    session.places_taken += 1
    db.session.flush()
    return booking


def mark(w, booking, status, *, session=None, now=DURING):
    return attendance.mark_register(
        (session or w.session).id,
        {booking.id: attendance.Mark(status, 30 if status == PARTIAL else None)},
        by=w.trainer,
        now=now,
    )


def charge_for(db, booking) -> Charge | None:
    return db.session.scalar(
        sa.select(Charge).where(Charge.booking_id == booking.id).execution_options(populate_existing=True)
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [(NO_SHOW, ChargeReason.NO_SHOW), (TURNED_AWAY, ChargeReason.TURNED_AWAY)],
)
def test_a_wasted_place_on_the_register_is_charged_to_the_agency(db, w, status, reason):
    booking = booked(w.session, w.staff)
    mark(w, booking, status)
    db.session.commit()
    charge = charge_for(db, booking)
    assert (charge.agency_id, charge.reason, charge.status) == (w.police.id, reason, ChargeStatus.RAISED)
    assert charge.amount_pence == PARTNER_HALF_DAY  # a three-hour session, a partner agency
    [event] = audit_rows(db, "charge.raised")
    assert event.actor_id == w.trainer.id and event.entity_id == charge.id
    assert event.after == {"reason": reason.value, "amount_pence": PARTNER_HALF_DAY, "agency_id": w.police.id}


@pytest.mark.parametrize("status", [ATTENDED, PARTIAL, UNABLE])
def test_attending_or_giving_notice_is_free(db, w, status):
    booking = booked(w.session, w.staff)
    mark(w, booking, status)
    db.session.commit()
    assert charge_for(db, booking) is None and audit_rows(db, "charge.raised") == []


@pytest.mark.parametrize("correction", [ATTENDED, PARTIAL, UNABLE, None])
def test_correcting_a_no_show_withdraws_the_charge(db, w, correction):
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    mark(w, booking, correction)
    db.session.commit()
    charge = charge_for(db, booking)
    assert charge.status == ChargeStatus.WITHDRAWN
    assert charge.decided_reason == "The register was corrected"
    [event] = audit_rows(db, "charge.withdrawn")
    assert (event.before, event.after) == ({"status": "raised"}, {"status": "withdrawn"})
    # A withdrawn charge is on no list and no statement.
    assert db.session.scalars(charges.charges_query(agency_id=w.police.id)).unique().all() == []
    assert charges.statement(w.police, date(2030, 3, 1)).charges == []


def test_marking_a_no_show_again_raises_the_same_charge_again(db, w):
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    first = charge_for(db, booking).id
    mark(w, booking, ATTENDED)
    mark(w, booking, NO_SHOW)
    db.session.commit()
    charge = charge_for(db, booking)
    assert (charge.id, charge.status) == (first, ChargeStatus.RAISED)
    assert count(db, Charge) == 1
    assert [e.after["status"] for e in audit_rows(db, "charge.raised")[1:]] == ["raised"]


def test_a_register_saved_twice_charges_once(db, w):
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    mark(w, booking, NO_SHOW)
    db.session.commit()
    assert count(db, Charge) == 1 and len(audit_rows(db, "charge.raised")) == 1


def test_a_no_show_corrected_to_turned_away_is_charged_for_being_turned_away(db, w):
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    mark(w, booking, TURNED_AWAY)
    db.session.commit()
    charge = charge_for(db, booking)
    assert (charge.reason, charge.status, charge.amount_pence) == (
        ChargeReason.TURNED_AWAY,
        ChargeStatus.RAISED,
        PARTNER_HALF_DAY,
    )
    assert count(db, Charge) == 1
    [event] = audit_rows(db, "charge.updated")
    assert (event.before, event.after) == ({"reason": "no_show"}, {"reason": "turned_away"})


@pytest.mark.parametrize(
    ("hours", "is_partner", "rate"),
    [
        (3, True, PARTNER_HALF_DAY),
        (4, True, PARTNER_HALF_DAY),  # exactly the half-day limit (240 minutes) is still a half day
        (4.25, True, PARTNER_DAY),
        (7, True, PARTNER_DAY),
        (3, False, NON_PARTNER_HALF_DAY),
        (4, False, NON_PARTNER_HALF_DAY),
        (7, False, NON_PARTNER_DAY),
    ],
)
def test_the_rate_depends_on_the_sessions_length_and_the_agency(db, w, hours, is_partner, rate):
    session = make_session(course=w.course, starts_at=START, hours=hours, trainers=[w.trainer])
    agency = w.police if is_partner else w.charity
    booking = booked(session, make_user(agency=agency))
    mark(w, booking, NO_SHOW, session=session)
    assert charge_for(db, booking).amount_pence == rate


def test_the_rates_in_force_when_the_charge_is_raised_are_used(db, w):
    services.save_policy(
        by=w.coordinator,
        partner_day=PARTNER_DAY,
        partner_half_day=12_34,
        non_partner_day=NON_PARTNER_DAY,
        non_partner_half_day=NON_PARTNER_HALF_DAY,
        half_day_max_minutes=240,
        credit_grant=None,
    )
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    assert charge_for(db, booking).amount_pence == 12_34


def test_an_exempt_agency_is_not_charged(db, w):
    services.set_exemption(w.police, by=w.coordinator, exempt=True, reason="Hosts the venue")
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    db.session.commit()
    assert charge_for(db, booking) is None and audit_rows(db, "charge.raised") == []
    # Charged again once the exemption ends.
    services.set_exemption(w.police, by=w.coordinator, exempt=False)
    mark(w, booking, ATTENDED)
    mark(w, booking, TURNED_AWAY)
    assert charge_for(db, booking).status == ChargeStatus.RAISED


def test_someone_with_no_agency_is_not_charged(db, w):
    booking = booked(w.session, make_user(Role.COORDINATOR))
    mark(w, booking, NO_SHOW)
    assert charge_for(db, booking) is None


def test_charge_income_is_credited_to_the_grant_named_in_the_policy(db, w):
    services.save_policy(
        by=w.coordinator,
        partner_day=PARTNER_DAY,
        partner_half_day=PARTNER_HALF_DAY,
        non_partner_day=NON_PARTNER_DAY,
        non_partner_half_day=NON_PARTNER_HALF_DAY,
        half_day_max_minutes=240,
        credit_grant=w.grant,
    )
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    db.session.commit()
    assert charge_for(db, booking).credit_grant == w.grant


def test_each_agency_is_charged_for_its_own_people(db, w):
    police_booking = booked(w.session, w.staff)
    charity_booking = booked(w.session, make_user(agency=w.charity))
    attendance.mark_register(
        w.session.id,
        {police_booking.id: attendance.Mark(NO_SHOW), charity_booking.id: attendance.Mark(TURNED_AWAY)},
        by=w.trainer,
        now=DURING,
    )
    db.session.commit()
    assert (charge_for(db, police_booking).agency_id, charge_for(db, police_booking).amount_pence) == (
        w.police.id,
        PARTNER_HALF_DAY,
    )
    assert (charge_for(db, charity_booking).agency_id, charge_for(db, charity_booking).amount_pence) == (
        w.charity.id,
        NON_PARTNER_HALF_DAY,
    )


def test_a_register_refused_for_a_bad_mark_raises_no_charge(db, w):
    booking = booked(w.session, w.staff)
    other = booked(w.session, make_user(agency=w.police))
    db.session.commit()
    with pytest.raises(DomainError):
        attendance.mark_register(
            w.session.id,
            {booking.id: attendance.Mark(NO_SHOW), other.id: attendance.Mark(PARTIAL, 999)},
            by=w.trainer,
            now=DURING,
        )
    db.session.rollback()
    assert count(db, Charge) == 0 and audit_rows(db, "charge.raised") == []


def test_a_charge_for_an_attended_learner_is_refused(db, w):
    booking = booked(w.session, w.staff)
    mark(w, booking, ATTENDED)
    db.session.commit()
    refused(
        db,
        lambda: charges.raise_charge(db.session.get(Booking, booking.id), ChargeReason.NO_SHOW, by=w.coordinator),
        "Sam Staff attended: there is nothing to charge",
    )
    assert count(db, Charge) == 0


# Charges from late cancellations -------------------------------------------------------------


def booked_through_the_service(w, person=None):
    person = person or w.staff
    return bookings.book_place(w.session.id, person, by=person, now=BOOKED_AT)


def test_a_cancellation_after_the_cut_off_is_charged(db, w):
    booking = booked_through_the_service(w)
    bookings.cancel_booking(booking.id, by=w.staff, now=CUT_OFF)
    db.session.commit()
    charge = charge_for(db, booking)
    assert (charge.reason, charge.amount_pence, charge.agency_id, charge.status) == (
        ChargeReason.LATE_CANCELLATION,
        PARTNER_HALF_DAY,
        w.police.id,
        ChargeStatus.RAISED,
    )
    [event] = audit_rows(db, "charge.raised")
    assert event.actor_id == w.staff.id and event.after["reason"] == "late_cancellation"


def test_a_cancellation_before_the_cut_off_is_free(db, w):
    booking = booked_through_the_service(w)
    bookings.cancel_booking(booking.id, by=w.staff, now=CUT_OFF - timedelta(seconds=1))
    db.session.commit()
    assert charge_for(db, booking) is None


def test_leaving_the_waiting_list_late_is_free(db, w):
    w.session.capacity = 1
    booked_through_the_service(w)
    waiting = booked_through_the_service(w, make_user(agency=w.police))
    assert waiting.status == BookingStatus.WAITING
    bookings.cancel_booking(waiting.id, by=waiting.user, now=CUT_OFF + timedelta(days=1))
    assert charge_for(db, waiting) is None


def test_a_late_cancellation_by_an_exempt_agency_is_free(db, w):
    services.set_exemption(w.police, by=w.coordinator, exempt=True, reason="Hosts the venue")
    booking = booked_through_the_service(w)
    bookings.cancel_booking(booking.id, by=w.staff, now=CUT_OFF)
    assert charge_for(db, booking) is None


def test_sending_a_colleague_instead_is_free_even_after_the_cut_off(db, w):
    booking = booked_through_the_service(w)
    colleague = make_user(agency=w.police, name="Cleo Colleague")
    theirs = bookings.transfer_booking(booking.id, colleague, by=w.staff, now=CUT_OFF + timedelta(days=2))
    db.session.commit()
    assert count(db, Charge) == 0
    assert booking.status == BookingStatus.CANCELLED and not booking.is_late_cancellation
    # The colleague who came is not charged either.
    mark(w, theirs, ATTENDED)
    assert count(db, Charge) == 0


def test_rebooking_after_a_late_cancellation_and_attending_withdraws_the_charge(db, w):
    booking = booked_through_the_service(w)
    bookings.cancel_booking(booking.id, by=w.staff, now=CUT_OFF)
    again = bookings.book_place(w.session.id, w.staff, by=w.staff, now=CUT_OFF + timedelta(hours=1))
    assert again.id == booking.id and again.status == BookingStatus.CONFIRMED
    mark(w, again, ATTENDED)
    db.session.commit()
    assert charge_for(db, booking).status == ChargeStatus.WITHDRAWN


# Waiving -----------------------------------------------------------------------------------


@pytest.fixture
def charge(db, w):
    booking = booked(w.session, w.staff)
    mark(w, booking, NO_SHOW)
    db.session.commit()
    return charge_for(db, booking)


def test_a_charge_is_waived_with_the_reason_recorded(db, w, charge):
    charges.waive(charge.id, by=w.coordinator, reason="  Snow closed the roads ")
    db.session.commit()
    charge = charge_for(db, charge.booking)
    assert (charge.status, charge.decided_reason, charge.decided_by) == (
        ChargeStatus.WAIVED,
        "Snow closed the roads",
        w.coordinator,
    )
    [event] = audit_rows(db, "charge.waived")
    assert (event.before, event.after, event.reason) == (
        {"status": "raised"},
        {"status": "waived"},
        "Snow closed the roads",
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_waiving_needs_a_reason(db, w, charge, reason):
    refused(
        db,
        lambda: charges.waive(charge.id, by=w.coordinator, reason=reason),
        "Enter the reason for waiving this charge",
        "reason",
    )
    assert charge_for(db, charge.booking).status == ChargeStatus.RAISED


@pytest.mark.parametrize("role", [Role.AGENCY_LEAD, Role.TRAINER, Role.STAFF])
def test_only_a_coordinator_waives(db, w, charge, role):
    person = w.police_lead if role == Role.AGENCY_LEAD else make_user(role, agency=w.police)
    refused(
        db,
        lambda: charges.waive(charge.id, by=person, reason="Please"),
        "Only a coordinator can change money",
        error=NotAllowed,
    )
    assert charge_for(db, charge.booking).status == ChargeStatus.RAISED


def test_a_charge_is_waived_once_and_a_withdrawn_charge_not_at_all(db, w, charge):
    charges.waive(charge.id, by=w.coordinator, reason="Snow")
    db.session.commit()
    refused(
        db,
        lambda: charges.waive(charge.id, by=w.coordinator, reason="Again"),
        "A waived charge cannot become waived",
        error=InvalidTransition,
    )
    booking = booked(w.session, make_user(agency=w.police))
    mark(w, booking, NO_SHOW)
    mark(w, booking, ATTENDED)
    db.session.commit()
    withdrawn = charge_for(db, booking)
    refused(
        db,
        lambda: charges.waive(withdrawn.id, by=w.coordinator, reason="Snow"),
        "A withdrawn charge cannot become waived",
        error=InvalidTransition,
    )


def test_a_waived_charge_stays_waived_when_the_register_is_saved_again(db, w, charge):
    charges.waive(charge.id, by=w.coordinator, reason="Snow")
    mark(w, charge.booking, TURNED_AWAY)
    db.session.commit()
    assert charge_for(db, charge.booking).status == ChargeStatus.WAIVED


# Statements --------------------------------------------------------------------------------


def raised_charge(db, agency, raised_at, status=ChargeStatus.RAISED, amount=35_00, name=None):
    """A charge raised at a given moment (charges are stamped when they are raised)."""
    session = make_session(starts_at=raised_at - timedelta(days=1))
    booking = booked(session, make_user(agency=agency, name=name))
    charge = Charge(
        booking=booking,
        agency_id=agency.id,
        reason=ChargeReason.NO_SHOW,
        amount_pence=amount,
        status=status,
        raised_at=raised_at,
    )
    db.session.add(charge)
    db.session.flush()
    return charge


def test_a_statement_holds_one_agencys_charges_for_one_local_month(db, w):
    in_march = [
        raised_charge(db, w.police, datetime(2030, 3, 1, 0, 0, tzinfo=UTC), amount=35_00),
        raised_charge(db, w.police, datetime(2030, 3, 15, 12, 0, tzinfo=UTC), ChargeStatus.WAIVED, amount=50_00),
        # 22:59 UTC on 31 March is 23:59 British Summer Time: still March.
        raised_charge(db, w.police, datetime(2030, 3, 31, 22, 59, tzinfo=UTC), amount=90_00),
    ]
    raised_charge(db, w.police, datetime(2030, 2, 28, 23, 59, tzinfo=UTC))  # February
    raised_charge(db, w.police, datetime(2030, 3, 31, 23, 0, tzinfo=UTC))  # 00:00 BST on 1 April
    raised_charge(db, w.police, datetime(2030, 3, 10, tzinfo=UTC), ChargeStatus.WITHDRAWN)
    raised_charge(db, w.charity, datetime(2030, 3, 10, tzinfo=UTC))  # another agency
    db.session.commit()
    statement = charges.statement(w.police, date(2030, 3, 17))
    assert statement.month == date(2030, 3, 1)
    assert [c.id for c in statement.charges] == [c.id for c in in_march]
    assert (statement.raised_pence, statement.waived_pence) == (125_00, 50_00)


def test_december_runs_to_the_new_year(db, w):
    december = raised_charge(db, w.police, datetime(2030, 12, 31, 23, 59, tzinfo=UTC))
    raised_charge(db, w.police, datetime(2031, 1, 1, 0, 0, tzinfo=UTC))
    db.session.commit()
    assert [c.id for c in charges.statement(w.police, date(2030, 12, 1)).charges] == [december.id]
