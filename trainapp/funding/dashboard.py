"""Spend against budget, computed in SQL: per grant and per programme."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from trainapp.bookings.completion import was_present
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.catalogue.models import Course, Programme, SessionStatus, TrainingSession
from trainapp.extensions import db
from trainapp.funding.models import Allocation, Charge, ChargeStatus, CostLine, CostState, Grant
from trainapp.money import divide_pence


@dataclass
class GrantFigures:
    grant: Grant
    allocated: int
    committed: int
    paid: int
    today: date

    @property
    def spent(self) -> int:
        return self.committed + self.paid

    @property
    def remaining(self) -> int:
        return self.grant.amount_pence - self.spent

    @property
    def unallocated(self) -> int:
        return self.grant.amount_pence - self.allocated

    def _window_days(self) -> tuple[int, int]:
        """Days of the delivery window gone (0 before it starts), and its length in days."""
        total = (self.grant.ends_on - self.grant.starts_on).days + 1
        gone = (min(self.today, self.grant.ends_on) - self.grant.starts_on).days + 1
        return max(gone, 0), total

    @property
    def window_share(self) -> float:
        """How much of the delivery window has gone, 0 to 1."""
        gone, total = self._window_days()
        return gone / total

    @property
    def spend_share(self) -> float:
        return self.spent / self.grant.amount_pence if self.grant.amount_pence else 0.0

    @property
    def forecast(self) -> int | None:
        """Spend at the end of the window if money keeps going out at the rate so far."""
        gone, total = self._window_days()
        if gone == 0:
            return None
        return divide_pence(self.spent * total, gone)

    @property
    def is_overspent(self) -> bool:
        return self.spent > self.grant.amount_pence


def grant_figures(today: date, grant_id: int | None = None) -> list[GrantFigures]:
    """Allocated, committed and paid per grant, in two queries whatever the number of grants."""
    allocated = (
        sa.select(Allocation.grant_id, sa.func.sum(Allocation.amount_pence).label("allocated"))
        .group_by(Allocation.grant_id)
        .subquery()
    )
    costs = (
        sa.select(
            Allocation.grant_id,
            sa.func.sum(sa.case((CostLine.state == CostState.COMMITTED, CostLine.amount_pence), else_=0)).label("c"),
            sa.func.sum(sa.case((CostLine.state == CostState.PAID, CostLine.amount_pence), else_=0)).label("p"),
        )
        .join(CostLine.allocation)
        .group_by(Allocation.grant_id)
        .subquery()
    )
    query = (
        sa.select(
            Grant,
            sa.func.coalesce(allocated.c.allocated, 0),
            sa.func.coalesce(costs.c.c, 0),
            sa.func.coalesce(costs.c.p, 0),
        )
        .outerjoin(allocated, allocated.c.grant_id == Grant.id)
        .outerjoin(costs, costs.c.grant_id == Grant.id)
        .order_by(Grant.starts_on, Grant.name)
    )
    if grant_id is not None:
        query = query.where(Grant.id == grant_id)
    return [GrantFigures(grant, int(a), int(c), int(p), today) for grant, a, c, p in db.session.execute(query)]


@dataclass
class AllocationFigures:
    allocation: Allocation
    spent: int

    @property
    def remaining(self) -> int:
        return self.allocation.amount_pence - self.spent

    @property
    def is_overspent(self) -> bool:
        return self.spent > self.allocation.amount_pence


def allocation_figures(grant_id: int) -> list[AllocationFigures]:
    spent = (
        sa.select(CostLine.allocation_id, sa.func.sum(CostLine.amount_pence).label("spent"))
        .group_by(CostLine.allocation_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Allocation, sa.func.coalesce(spent.c.spent, 0))
        .outerjoin(spent, spent.c.allocation_id == Allocation.id)
        .where(Allocation.grant_id == grant_id)
        .options(sa.orm.joinedload(Allocation.programme), sa.orm.joinedload(Allocation.course))
        .order_by(Allocation.id)
    ).all()
    return [AllocationFigures(allocation, int(amount)) for allocation, amount in rows]


def programme_allocations(programme_id: int) -> list[AllocationFigures]:
    """Money set aside for a programme or any of its courses, from every grant, with its spend."""
    spent = (
        sa.select(CostLine.allocation_id, sa.func.sum(CostLine.amount_pence).label("spent"))
        .group_by(CostLine.allocation_id)
        .subquery()
    )
    courses = sa.select(Course.id).where(Course.programme_id == programme_id)
    rows = db.session.execute(
        sa.select(Allocation, sa.func.coalesce(spent.c.spent, 0))
        .outerjoin(spent, spent.c.allocation_id == Allocation.id)
        .where(sa.or_(Allocation.programme_id == programme_id, Allocation.course_id.in_(courses)))
        .options(
            sa.orm.joinedload(Allocation.grant),
            sa.orm.joinedload(Allocation.programme),
            sa.orm.joinedload(Allocation.course),
        )
        .order_by(Allocation.id)
    ).all()
    return [AllocationFigures(allocation, int(amount)) for allocation, amount in rows]


def programme_costs(programme_id: int) -> list[CostLine]:
    """Costs for the whole programme and for its sessions, the most recent first."""
    sessions = sa.select(TrainingSession.id).join(TrainingSession.course).where(Course.programme_id == programme_id)
    return list(
        db.session.scalars(
            sa.select(CostLine)
            .where(sa.or_(CostLine.programme_id == programme_id, CostLine.session_id.in_(sessions)))
            .options(
                sa.orm.joinedload(CostLine.session).joinedload(TrainingSession.course),
                sa.orm.joinedload(CostLine.allocation).joinedload(Allocation.grant),
            )
            .order_by(CostLine.incurred_on.desc(), CostLine.id.desc())
        )
    )


def spend_by_day(grant_id: int) -> list[tuple[date, int]]:
    """Committed and paid costs per day, for the burn-down."""
    rows = db.session.execute(
        sa.select(CostLine.incurred_on, sa.func.sum(CostLine.amount_pence))
        .join(CostLine.allocation)
        .where(Allocation.grant_id == grant_id)
        .group_by(CostLine.incurred_on)
        .order_by(CostLine.incurred_on)
    ).all()
    return [(day, int(amount)) for day, amount in rows]


@dataclass
class ProgrammeFigures:
    programme: Programme
    sessions_delivered: int
    places_offered: int
    learners_attended: int
    cost: int
    charges_raised: int
    charges_raised_pence: int
    charges_waived: int
    charges_waived_pence: int

    @property
    def cost_per_place(self) -> int | None:
        return divide_pence(self.cost, self.places_offered) if self.places_offered else None

    @property
    def cost_per_learner(self) -> int | None:
        return divide_pence(self.cost, self.learners_attended) if self.learners_attended else None


def programme_figures() -> list[ProgrammeFigures]:
    """Delivery, cost and charges per programme, each figure one aggregate query."""
    delivered = _delivered_sessions_by_programme()
    offered = _places_offered_by_programme()
    attended = _learners_attended_by_programme()
    session_costs = _session_costs_by_programme()
    programme_costs = _whole_programme_costs()
    charges = _charges_by_programme()
    figures = []
    for programme in db.session.scalars(sa.select(Programme).order_by(Programme.name)):
        raised = charges.get((programme.id, ChargeStatus.RAISED), (0, 0))
        waived = charges.get((programme.id, ChargeStatus.WAIVED), (0, 0))
        figures.append(
            ProgrammeFigures(
                programme=programme,
                sessions_delivered=int(delivered.get(programme.id, 0)),
                places_offered=int(offered.get(programme.id, 0) or 0),
                learners_attended=int(attended.get(programme.id, 0)),
                cost=int(session_costs.get(programme.id, 0) or 0) + int(programme_costs.get(programme.id, 0) or 0),
                charges_raised=raised[0],
                charges_raised_pence=raised[1],
                charges_waived=waived[0],
                charges_waived_pence=waived[1],
            )
        )
    return figures


def _by_programme(query) -> dict:
    """A (programme id, figure) query's rows as a dict."""
    return dict(db.session.execute(query).tuples().all())


def _delivered_sessions_by_programme() -> dict:
    """Sessions delivered, per programme."""
    return _by_programme(
        sa.select(Course.programme_id, sa.func.count(TrainingSession.id))
        .join(TrainingSession.course)
        .where(TrainingSession.status == SessionStatus.DELIVERED)
        .group_by(Course.programme_id)
    )


def _places_offered_by_programme() -> dict:
    """Places offered on delivered sessions, per programme."""
    return _by_programme(
        sa.select(Course.programme_id, sa.func.sum(TrainingSession.capacity))
        .join(TrainingSession.course)
        .where(TrainingSession.status == SessionStatus.DELIVERED)
        .group_by(Course.programme_id)
    )


def _learners_attended_by_programme() -> dict:
    """Confirmed learners who were there, per programme."""
    return _by_programme(
        sa.select(Course.programme_id, sa.func.count(Booking.id))
        .join(Booking.session)
        .join(TrainingSession.course)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            was_present(),
        )
        .group_by(Course.programme_id)
    )


def _session_costs_by_programme() -> dict:
    """Costs charged to sessions, per programme of the session's course."""
    return _by_programme(
        sa.select(Course.programme_id, sa.func.sum(CostLine.amount_pence))
        .join(CostLine.session)
        .join(TrainingSession.course)
        .group_by(Course.programme_id)
    )


def _whole_programme_costs() -> dict:
    """Costs charged to a whole programme rather than one session."""
    return _by_programme(
        sa.select(CostLine.programme_id, sa.func.sum(CostLine.amount_pence))
        .where(CostLine.programme_id.is_not(None))
        .group_by(CostLine.programme_id)
    )


def _charges_by_programme() -> dict[tuple[int, ChargeStatus], tuple[int, int]]:
    """(number, pence) of charges per programme and status; withdrawn charges left out."""
    charges = {}
    for programme_id, status, count, total in db.session.execute(
        sa.select(Course.programme_id, Charge.status, sa.func.count(Charge.id), sa.func.sum(Charge.amount_pence))
        .join(Charge.booking)
        .join(Booking.session)
        .join(TrainingSession.course)
        .where(Charge.status != ChargeStatus.WITHDRAWN)
        .group_by(Course.programme_id, Charge.status)
    ):
        charges[(programme_id, status)] = (int(count), int(total or 0))
    return charges
