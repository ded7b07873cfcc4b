"""Demo programmes, courses, venues and sessions, dated relative to today."""

from datetime import date, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from trainapp.accounts.models import User
from trainapp.catalogue import services
from trainapp.catalogue.models import Course, CourseStatus, DeliveryMode, Programme, TrainingSession, Venue
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.timezones import local_to_utc, to_local
from trainapp.workdays import is_working_day

DA = "Domestic Abuse Act training"
UP2U = "Up2U Family Practice Model"
HR = "Healthy Relationships"

PROGRAMMES = {
    DA: "Domestic abuse training for every agency, rewritten for the Domestic Abuse Act 2021.",
    UP2U: "Training practitioners to deliver the Up2U programme for people who use harmful behaviours "
    "in their relationships.",
    HR: "Training for staff who run Healthy Relationship sessions with young people and families.",
}

# title, programme, level, hours, cpd, refresher, prerequisite, kinds, approval,
# capacity, notice, status, summary
COURSES = [
    (
        "Domestic Abuse Awareness",
        DA,
        1,
        3,
        3,
        36,
        None,
        [],
        False,
        24,
        5,
        CourseStatus.PUBLISHED,
        "What domestic abuse is, how to spot it and how to respond safely. Part of induction for every agency.",
    ),
    (
        "Domestic Abuse Act 2021: Practice Update",
        DA,
        2,
        2,
        2,
        36,
        "Domestic Abuse Awareness",
        [],
        False,
        20,
        5,
        CourseStatus.PUBLISHED,
        "The Act's statutory definition, children as victims, coercive control and what changes in practice.",
    ),
    (
        "DASH Risk Assessment and MARAC Referrals",
        DA,
        3,
        6,
        6,
        24,
        "Domestic Abuse Act 2021: Practice Update",
        ["police", "nhs", "council", "probation", "housing", "voluntary"],
        True,
        16,
        10,
        CourseStatus.PUBLISHED,
        "Completing the DASH risk checklist, judging risk and making a good MARAC referral.",
    ),
    (
        "Up2U Practitioner Training",
        UP2U,
        None,
        6.5,
        6.5,
        None,
        None,
        [],
        True,
        12,
        10,
        CourseStatus.PUBLISHED,
        "Delivering the Up2U Family Practice Model: assessment, sessions and safety planning.",
    ),
    (
        "Up2U Briefing for Managers",
        UP2U,
        None,
        1.5,
        1.5,
        None,
        None,
        [],
        False,
        40,
        2,
        CourseStatus.PUBLISHED,
        "How Up2U works, who it is for and how to refer.",
    ),
    (
        "Healthy Relationships Facilitator Training",
        HR,
        None,
        6,
        6,
        36,
        None,
        [],
        False,
        16,
        5,
        CourseStatus.PUBLISHED,
        "Running Healthy Relationship sessions with young people: content, safety, disclosures.",
    ),
    (
        "Healthy Relationships in Schools",
        HR,
        2,
        3,
        3,
        None,
        None,
        ["education", "council", "voluntary"],
        False,
        20,
        5,
        CourseStatus.PUBLISHED,
        "Bringing Healthy Relationship work into PSHE lessons and pastoral support.",
    ),
    (
        "Coercive Control: Recognising and Responding",
        DA,
        2,
        3,
        3,
        36,
        "Domestic Abuse Awareness",
        [],
        False,
        20,
        5,
        CourseStatus.DRAFT,
        "In development: patterns of coercive and controlling behaviour.",
    ),
]

VENUES = [
    ("Civic Centre, Committee Room 2", "Civic Centre\nBourne Avenue\nBournemouth BH2 6DY"),
    ("Harbourside Community Hub", "12 Quay Road\nPoole BH15 1HJ"),
    ("Safe Harbour Training Room", "Safe Harbour House\n4 Lansdowne Crescent\nBournemouth BH1 1SA"),
]


def _last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _working_day_from(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _get_or_create_programmes(coordinator: User) -> dict[str, Programme]:
    existing = {p.name: p for p in db.session.scalars(sa.select(Programme))}
    for name, description in PROGRAMMES.items():
        if name not in existing:
            existing[name] = services.save_programme(None, by=coordinator, name=name, description=description)
    return existing


def _get_or_create_courses(coordinator: User, programmes: dict[str, Programme]) -> dict[str, Course]:
    existing = {c.title: c for c in db.session.scalars(sa.select(Course))}
    for (
        title,
        programme,
        level,
        hours,
        cpd,
        refresher,
        prerequisite,
        kinds,
        approval,
        capacity,
        notice,
        status,
        summary,
    ) in COURSES:
        if title in existing:
            continue
        details = services.CourseDetails(
            programme=programmes[programme],
            title=title,
            level=level,
            summary=summary,
            audience="Staff of partner agencies who work with adults, children or families.",
            duration_minutes=int(hours * 60),
            cpd_hours=Decimal(str(cpd)),
            refresher_months=refresher,
            prerequisite=existing.get(prerequisite) if prerequisite else None,
            eligible_kinds=kinds,
            requires_approval=approval,
            default_capacity=capacity,
            cancellation_notice_days=notice,
            status=status,
        )
        existing[title] = services.save_course(None, details, by=coordinator)
    return existing


def _get_or_create_venues(coordinator: User) -> dict[str, Venue]:
    existing = {v.name: v for v in db.session.scalars(sa.select(Venue))}
    for name, address in VENUES:
        if name not in existing:
            existing[name] = services.save_venue(None, by=coordinator, name=name, address=address)
    return existing


def load(coordinator: User, trainers: dict[str, User]) -> None:
    """Programmes, courses and venues if missing; sessions only into an empty calendar."""
    programmes = _get_or_create_programmes(coordinator)
    courses = _get_or_create_courses(coordinator, programmes)
    venues = _get_or_create_venues(coordinator)
    if db.session.scalar(sa.select(sa.func.count(TrainingSession.id))):
        return
    today = to_local(utcnow()).date()

    def template(mode, venue, trainer_keys, capacity, link=""):
        return services.SessionDetails(
            starts_at=utcnow(),
            ends_at=utcnow(),
            delivery_mode=mode,
            venue=venues[venue] if venue else None,
            joining_link=link,
            capacity=capacity,
            trainers=[trainers[k] for k in trainer_keys],
        )

    # The weekly Domestic Abuse Act update, on Thursdays across the October clock change.
    change = _last_sunday_of_october(today.year if today.month >= 9 else today.year - 1)
    series_starts = change - timedelta(weeks=5)
    services.create_series(
        courses["Domestic Abuse Act 2021: Practice Update"],
        services.SeriesDetails(
            weekday=3,
            start_time=time(10),
            end_time=time(12),
            first_on=series_starts,
            last_on=change + timedelta(weeks=13),
            skip=set(),
            template=template(DeliveryMode.IN_PERSON, "Civic Centre, Committee Room 2", ["okafor"], 20),
        ),
        by=coordinator,
        # Most of the series has usually happened already: it is the partnership's history.
        confirm_past=True,
    )

    def on(course, day, start, end, mode, venue, trainer_keys, capacity, link=""):
        """A session on the first working day from ``day`` when its trainers and venue are free."""
        details = template(mode, venue, trainer_keys, capacity, link)
        day = _working_day_from(day)
        while True:
            details.starts_at = local_to_utc(day, start)
            details.ends_at = local_to_utc(day, end)
            if not services.find_clashes(details):
                return services.create_session(courses[course], details, by=coordinator)
            day = _working_day_from(day + timedelta(days=1))

    def one(course, days, *rest, **kwargs):
        return on(course, today + timedelta(days=days), *rest, **kwargs)

    link = "https://meet.example.org/j/csp-training"
    # Awareness courses before the update series began, so its learners had done the course
    # it builds on.
    for weeks_before in (7, 3):
        on(
            "Domestic Abuse Awareness",
            series_starts - timedelta(weeks=weeks_before),
            time(9, 30),
            time(12, 30),
            DeliveryMode.IN_PERSON,
            "Harbourside Community Hub",
            ["lloyd"],
            24,
        )
    one(
        "Domestic Abuse Awareness",
        -20,
        time(9, 30),
        time(12, 30),
        DeliveryMode.IN_PERSON,
        "Harbourside Community Hub",
        ["lloyd"],
        24,
    )
    one(
        "Domestic Abuse Awareness",
        8,
        time(9, 30),
        time(12, 30),
        DeliveryMode.IN_PERSON,
        "Harbourside Community Hub",
        ["lloyd"],
        24,
    )
    one(
        "Domestic Abuse Awareness",
        22,
        time(13, 30),
        time(16, 30),
        DeliveryMode.ONLINE,
        None,
        ["lloyd"],
        30,
        link,
    )
    one(
        "DASH Risk Assessment and MARAC Referrals",
        30,
        time(9, 30),
        time(16, 0),
        DeliveryMode.IN_PERSON,
        "Civic Centre, Committee Room 2",
        ["okafor", "marsh"],
        16,
    )
    one(
        "Up2U Practitioner Training",
        -12,
        time(9, 0),
        time(16, 0),
        DeliveryMode.IN_PERSON,
        "Safe Harbour Training Room",
        ["marsh"],
        12,
    )
    one(
        "Up2U Practitioner Training",
        11,
        time(9, 0),
        time(16, 0),
        DeliveryMode.IN_PERSON,
        "Safe Harbour Training Room",
        ["marsh"],
        12,
    )
    one(
        "Up2U Briefing for Managers",
        5,
        time(14, 0),
        time(15, 30),
        DeliveryMode.ONLINE,
        None,
        ["marsh"],
        40,
        link,
    )
    one(
        "Healthy Relationships Facilitator Training",
        15,
        time(9, 30),
        time(15, 30),
        DeliveryMode.HYBRID,
        "Harbourside Community Hub",
        ["rahman"],
        16,
        link,
    )
    cancelled = one(
        "Healthy Relationships in Schools",
        13,
        time(13, 0),
        time(16, 0),
        DeliveryMode.IN_PERSON,
        "Civic Centre, Committee Room 2",
        ["rahman"],
        20,
    )
    services.cancel_session(cancelled, by=coordinator, reason="The trainer is unwell. A new date will follow.")
    one(
        "Healthy Relationships in Schools",
        34,
        time(13, 0),
        time(16, 0),
        DeliveryMode.IN_PERSON,
        "Civic Centre, Committee Room 2",
        ["rahman"],
        20,
    )
