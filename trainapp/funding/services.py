"""Rules for money: allocations within grants, costs within allocations, charges from registers."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import Agency, User
from trainapp.catalogue.models import Course, Programme, TrainingSession
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.funding.models import (
    Allocation,
    ChargeExemption,
    ChargingPolicy,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)
from trainapp.money import format_money
from trainapp.timezones import format_date

# What only a coordinator may do with grants, allocations, costs and charges.
CHANGE_MONEY = "change money"


def _lock_grant(grant_id: int) -> Grant:
    grant = db.session.scalars(
        sa.select(Grant).where(Grant.id == grant_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if grant is None:
        raise DomainError("That grant does not exist")
    return grant


# Grants ----------------------------------------------------------------------------------


@dataclass
class GrantDetails:
    name: str
    funder: str
    reference: str
    amount_pence: int
    match_funding_pence: int
    starts_on: date
    ends_on: date
    notes: str
    status: GrantStatus


def save_grant(grant: Grant | None, details: GrantDetails, *, by: User) -> Grant:
    """Create or change a grant; its amount can never drop below what is allocated from it."""
    require_coordinator(by, CHANGE_MONEY)
    if details.ends_on < details.starts_on:
        raise DomainError("The delivery window must end on or after its start", "ends_on")
    duplicate = sa.select(Grant.id).where(sa.func.lower(Grant.name) == details.name.strip().lower())
    if grant is not None:
        duplicate = duplicate.where(Grant.id != grant.id)
    if db.session.scalar(duplicate) is not None:
        raise DomainError("A grant with this name already exists", "name")
    created = grant is None
    if grant is None:
        grant = Grant()
        db.session.add(grant)
        before = None
    else:
        grant = _lock_grant(grant.id)
        before = grant.snapshot()
        grant.status.check_transition(details.status)
        allocated = allocated_pence(grant.id)
        if details.amount_pence < allocated:
            raise DomainError(
                f"{format_money(allocated)} is already allocated from this grant: the amount cannot be less",
                "amount",
            )
    for name, value in details.__dict__.items():
        setattr(grant, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    old, new = audit.changes(before or {}, grant.snapshot())
    audit.record(
        by,
        "grant.created" if created else "grant.updated",
        grant,
        before=None if created else old,
        after=grant.snapshot() if created else new,
    )
    return grant


def allocated_pence(grant_id: int, excluding: int | None = None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0)).where(Allocation.grant_id == grant_id)
    if excluding is not None:
        query = query.where(Allocation.id != excluding)
    return db.session.execute(query).scalar_one()


def spent_pence(allocation_id: int, excluding: int | None = None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(CostLine.amount_pence), 0)).where(
        CostLine.allocation_id == allocation_id
    )
    if excluding is not None:
        query = query.where(CostLine.id != excluding)
    return db.session.execute(query).scalar_one()


def save_allocation(
    allocation: Allocation | None,
    *,
    grant_id: int,
    by: User,
    amount_pence: int,
    programme: Programme | None = None,
    course: Course | None = None,
) -> Allocation:
    """Set part of a grant aside for a programme or a course; allocations never exceed the grant."""
    require_coordinator(by, CHANGE_MONEY)
    if (programme is None) == (course is None):
        raise DomainError("Allocate to a programme or to one course", "target")
    grant = _lock_grant(grant_id)
    if grant.status == GrantStatus.CLOSED:
        raise DomainError("This grant is closed: nothing more can be allocated from it")
    others = allocated_pence(grant.id, excluding=allocation.id if allocation else None)
    if others + amount_pence > grant.amount_pence:
        left = grant.amount_pence - others
        raise DomainError(f"Only {format_money(left)} of this grant is left to allocate", "amount")
    if allocation is not None:
        spent = spent_pence(allocation.id)
        if amount_pence < spent:
            raise DomainError(f"{format_money(spent)} of costs are already charged to this allocation", "amount")
    created = allocation is None
    before = None if allocation is None else {"amount_pence": allocation.amount_pence}
    # Read the targets' ids before the new allocation joins grant.allocations: reading an
    # expired target autoflushes, and a half-made allocation must not be flushed.
    programme_id, course_id = (programme.id if programme else None), (course.id if course else None)
    allocation = allocation or Allocation(grant=grant)
    allocation.amount_pence = amount_pence
    allocation.programme, allocation.course = programme, course
    allocation.programme_id, allocation.course_id = programme_id, course_id
    db.session.add(allocation)
    db.session.flush()
    audit.record(
        by,
        "allocation.created" if created else "allocation.updated",
        allocation,
        before=before,
        after={
            "grant_id": grant.id,
            "amount_pence": amount_pence,
            "programme_id": allocation.programme_id,
            "course_id": allocation.course_id,
        },
    )
    return allocation


# Costs -----------------------------------------------------------------------------------


@dataclass
class CostDetails:
    category: CostCategory
    amount_pence: int
    state: CostState
    incurred_on: date
    supplier: str = ""
    reference: str = ""
    session: TrainingSession | None = None
    programme: Programme | None = None
    override_reason: str = ""


def allocation_covers(
    allocation: Allocation, *, session: TrainingSession | None = None, programme: Programme | None = None
) -> bool:
    """Whether money set aside by this allocation may pay for a cost on this session or programme.

    A programme's allocation pays for its sessions and its programme-wide costs; a course's
    allocation pays only for that course's sessions.
    """
    if session is not None:
        if allocation.course_id is not None:
            return allocation.course_id == session.course_id
        return allocation.programme_id == session.course.programme_id
    return programme is not None and allocation.programme_id == programme.id


def _require_allocation_covers(allocation: Allocation, details: "CostDetails") -> None:
    if allocation_covers(allocation, session=details.session, programme=details.programme):
        return
    if details.session is not None:
        course = details.session.course
        wanted = f"{course.title} or its programme, {course.programme.name}"
    else:
        assert details.programme is not None, "a cost belongs to a session or a programme, checked before this"
        wanted = f"the programme {details.programme.name}"
    raise DomainError(f"Choose an allocation for {wanted}: this one is for {allocation.target_name}", "allocation")


def add_cost(allocation_id: int, details: CostDetails, *, by: User) -> CostLine:
    """Charge a cost to an allocation for its own programme or course; going over it needs a reason."""
    require_coordinator(by, CHANGE_MONEY)
    allocation = _allocation_for_cost(allocation_id, details)
    _require_date_in_open_grant(allocation, details.incurred_on)
    if details.amount_pence <= 0:
        raise DomainError("Enter an amount more than zero", "amount")
    override_reason = _overspend_reason(allocation, details.amount_pence, details.override_reason)
    cost = CostLine(
        allocation=allocation,
        session=details.session,
        programme=details.programme,
        category=details.category,
        amount_pence=details.amount_pence,
        state=details.state,
        incurred_on=details.incurred_on,
        supplier=details.supplier.strip(),
        reference=details.reference.strip(),
        override_reason=override_reason,
        created_by_id=by.id,
    )
    db.session.add(cost)
    db.session.flush()
    _audit_cost_created(cost, by=by)
    return cost


def _allocation_for_cost(allocation_id: int, details: CostDetails) -> Allocation:
    """The allocation a cost is charged to, if it exists and covers the cost's session or programme."""
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None:
        raise DomainError("That allocation does not exist", "allocation")
    if (details.session is None) == (details.programme is None):
        raise DomainError("A cost belongs to a session or a programme")
    _require_allocation_covers(allocation, details)
    return allocation


def _require_date_in_open_grant(allocation: Allocation, incurred_on: date) -> None:
    """A cost goes on a grant that is not closed, within its delivery window (the grant row is locked)."""
    grant = _lock_grant(allocation.grant_id)
    if grant.status == GrantStatus.CLOSED:
        raise DomainError("This grant is closed: no costs can be charged to it", "allocation")
    if not grant.starts_on <= incurred_on <= grant.ends_on:
        raise DomainError(
            f"The date is outside the grant's delivery window "
            f"({format_date(grant.starts_on)} to {format_date(grant.ends_on)})",
            "incurred_on",
        )


def _overspend_reason(allocation: Allocation, amount_pence: int, typed_reason: str) -> str | None:
    """The reason recorded for taking the allocation over its amount; None when the cost fits."""
    over = spent_pence(allocation.id) + amount_pence - allocation.amount_pence
    if over <= 0:
        return None
    reason = typed_reason.strip() or None
    if reason is None:
        raise DomainError(
            f"This takes the allocation {format_money(over)} over its {format_money(allocation.amount_pence)}. "
            "Give a reason to record the overspend, or charge it elsewhere",
            "override_reason",
        )
    return reason


def _audit_cost_created(cost: CostLine, *, by: User) -> None:
    """The audit row for a new cost: where it was charged, how much, and any overspend reason."""
    audit.record(
        by,
        "cost.created",
        cost,
        after={
            "allocation_id": cost.allocation.id,
            "amount_pence": cost.amount_pence,
            "state": str(cost.state),
            "category": str(cost.category),
            "session_id": cost.session_id,
            "programme_id": cost.programme_id,
        },
        reason=cost.override_reason,
    )


def mark_cost_paid(cost: CostLine, *, by: User) -> None:
    require_coordinator(by, CHANGE_MONEY)
    if cost.state == CostState.PAID:
        raise DomainError("This cost is already paid")
    cost.state = CostState.PAID
    audit.record(by, "cost.paid", cost, before={"state": "committed"}, after={"state": "paid"})


# Charging policy ----------------------------------------------------------------------------


def policy() -> ChargingPolicy:
    """The single charging policy, created with the usual partnership rates on first use."""
    current = db.session.scalar(sa.select(ChargingPolicy).order_by(ChargingPolicy.id))
    if current is None:
        current = ChargingPolicy()
        db.session.add(current)
        db.session.flush()
    return current


def save_policy(
    *,
    by: User,
    partner_day: int,
    partner_half_day: int,
    non_partner_day: int,
    non_partner_half_day: int,
    half_day_max_minutes: int,
    credit_grant: Grant | None,
) -> ChargingPolicy:
    require_coordinator(by, CHANGE_MONEY)
    if not 60 <= half_day_max_minutes <= 12 * 60:
        raise DomainError("A half day must be between 1 and 12 hours", "half_day_hours")
    current = policy()
    before = _policy_snapshot(current)
    current.partner_day_pence, current.partner_half_day_pence = partner_day, partner_half_day
    current.non_partner_day_pence, current.non_partner_half_day_pence = non_partner_day, non_partner_half_day
    current.half_day_max_minutes = half_day_max_minutes
    current.credit_grant = credit_grant
    current.credit_grant_id = credit_grant.id if credit_grant else None
    old, new = audit.changes(before, _policy_snapshot(current))
    if new:
        audit.record(by, "charging_policy.updated", current, before=old, after=new)
    return current


def _policy_snapshot(current: ChargingPolicy) -> dict:
    return {
        "partner_day_pence": current.partner_day_pence,
        "partner_half_day_pence": current.partner_half_day_pence,
        "non_partner_day_pence": current.non_partner_day_pence,
        "non_partner_half_day_pence": current.non_partner_half_day_pence,
        "half_day_max_minutes": current.half_day_max_minutes,
        "credit_grant_id": current.credit_grant_id,
    }


def set_exemption(agency: Agency, *, by: User, exempt: bool, reason: str = "") -> None:
    """Agencies the partnership never charges (at its discretion), with the reason recorded."""
    require_coordinator(by, CHANGE_MONEY)
    existing = db.session.scalar(sa.select(ChargeExemption).where(ChargeExemption.agency_id == agency.id))
    if exempt:
        if not reason.strip():
            raise DomainError("Enter the reason this agency is not charged", "reason")
        if existing is None:
            db.session.add(ChargeExemption(agency=agency, reason=reason.strip()))
        else:
            existing.reason = reason.strip()
        audit.record(by, "charge_exemption.set", agency, after={"exempt": True}, reason=reason.strip())
    elif existing is not None:
        db.session.delete(existing)
        audit.record(by, "charge_exemption.removed", agency, before={"exempt": True}, after={"exempt": False})


def is_exempt(agency_id: int | None) -> bool:
    if agency_id is None:
        return True
    return db.session.scalar(sa.select(ChargeExemption.id).where(ChargeExemption.agency_id == agency_id)) is not None
