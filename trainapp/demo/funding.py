"""Demo grants: the £100,000 Up2U and Healthy Relationships bid, a Domestic Abuse Act grant, costs, charges."""

from datetime import date, timedelta

import sqlalchemy as sa

from trainapp.accounts.models import User
from trainapp.bookings.models import AttendanceStatus, Booking
from trainapp.catalogue.models import Programme, SessionStatus, TrainingSession
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.funding import charges, services
from trainapp.funding.models import CostCategory, CostState, Grant, GrantStatus
from trainapp.timezones import to_local

DAILY_TRAINER = 45000  # pence
VENUE = 12000


def load(coordinator: User) -> None:
    """Only into a service with no grants yet."""
    if db.session.scalar(sa.select(sa.func.count(Grant.id))):
        return
    today = to_local(utcnow()).date()
    programmes = {p.name: p for p in db.session.scalars(sa.select(Programme))}
    start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    bid = services.save_grant(
        None,
        services.GrantDetails(
            name="Up2U and Healthy Relationships bid",
            funder="Office of the Police and Crime Commissioner",
            reference="OPCC-CSP-2025-017",
            amount_pence=100_000_00,
            match_funding_pence=15_000_00,
            starts_on=start,
            ends_on=start + timedelta(days=729),
            notes="To sustain Up2U Family Practice Model training and grow Healthy Relationship training.",
            status=GrantStatus.AWARDED,
        ),
        by=coordinator,
    )
    act = services.save_grant(
        None,
        services.GrantDetails(
            name="Domestic Abuse Act training grant",
            funder="Home Office",
            reference="DAA-TRN-2025",
            amount_pence=40_000_00,
            match_funding_pence=0,
            starts_on=start,
            ends_on=start + timedelta(days=364),
            notes="Rewriting and delivering domestic abuse training for the Act.",
            status=GrantStatus.AWARDED,
        ),
        by=coordinator,
    )
    up2u = services.save_allocation(
        None,
        grant_id=bid.id,
        by=coordinator,
        amount_pence=60_000_00,
        programme=programmes["Up2U Family Practice Model"],
    )
    hr = services.save_allocation(
        None, grant_id=bid.id, by=coordinator, amount_pence=40_000_00, programme=programmes["Healthy Relationships"]
    )
    da = services.save_allocation(
        None,
        grant_id=act.id,
        by=coordinator,
        amount_pence=40_000_00,
        programme=programmes["Domestic Abuse Act training"],
    )
    by_programme = {"Up2U Family Practice Model": up2u, "Healthy Relationships": hr, "Domestic Abuse Act training": da}
    services.add_cost(
        up2u.id,
        services.CostDetails(
            category=CostCategory.LICENCES,
            amount_pence=4_800_00,
            state=CostState.PAID,
            incurred_on=start,
            supplier="Up2U programme licence",
            reference="LIC-2025",
            programme=programmes["Up2U Family Practice Model"],
        ),
        by=coordinator,
    )
    delivered = db.session.scalars(
        sa.select(TrainingSession)
        .where(TrainingSession.status == SessionStatus.DELIVERED)
        .order_by(TrainingSession.starts_at)
    ).all()
    for session in delivered:
        allocation = by_programme[session.course.programme.name]
        day = to_local(session.starts_at).date()
        if not allocation.grant.starts_on <= day <= allocation.grant.ends_on:
            continue
        hours = (session.ends_at - session.starts_at).total_seconds() / 3600
        trainer_fee = DAILY_TRAINER if hours > 4 else DAILY_TRAINER // 2
        for category, amount, supplier in (
            (CostCategory.TRAINER, trainer_fee, "Sessional trainer"),
            (CostCategory.VENUE, VENUE if session.venue else 0, "Venue hire"),
        ):
            if amount:
                services.add_cost(
                    allocation.id,
                    services.CostDetails(
                        category=category,
                        amount_pence=amount,
                        state=CostState.PAID,
                        incurred_on=day,
                        supplier=supplier,
                        session=session,
                    ),
                    by=coordinator,
                )
    services.save_policy(
        by=coordinator,
        partner_day=5000,
        partner_half_day=3500,
        non_partner_day=9000,
        non_partner_half_day=5000,
        half_day_max_minutes=240,
        credit_grant=act,
    )
    missed = db.session.scalars(
        sa.select(Booking).where(Booking.attendance.in_([AttendanceStatus.NO_SHOW, AttendanceStatus.TURNED_AWAY]))
    ).all()
    for booking in missed:
        charges.raise_charge(booking, charges.REASON_FOR_MARK[booking.attendance], by=coordinator)
