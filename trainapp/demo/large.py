"""A large partnership for benchmarks: ``flask --app trainapp demo-data --scale large``.

About 50 agencies, 20,000 people, 9,000 sessions over three years and 150,000 bookings with
registers, evaluations, costs and charges, as a big partnership would have after three years.
Rows go in as bulk Core inserts, a few thousand at a time, with one password hash shared by
everyone, so it takes seconds rather than hours on SQLite and PostgreSQL alike. The same
seed gives the same partnership (relative to today). Audit rows and emails are not written:
this is history, not things happening now.
"""

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from trainapp.accounts.models import Agency, AgencyDomain, AgencyKind, Role, User
from trainapp.accounts.passwords import hash_password
from trainapp.attendance.models import Evaluation, EvaluationKind, RegisterSubmission
from trainapp.bookings.models import PRESENT, AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import (
    Course,
    CourseStatus,
    DeliveryMode,
    Programme,
    SessionStatus,
    TrainingSession,
    Venue,
    session_trainers,
)
from trainapp.db import utcnow
from trainapp.demo.accounts import DEMO_PASSWORD, FIRST_NAMES, JOB_TITLES, LAST_NAMES
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.funding.models import (
    Allocation,
    Charge,
    ChargeReason,
    ChargeStatus,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)
from trainapp.reports.models import CoverageTarget
from trainapp.timezones import local_to_utc, to_local
from trainapp.workdays import is_working_day

DOMAIN = "large.example.org"
COORDINATOR_EMAIL = f"coordinator@{DOMAIN}"
CHUNK = 5000


@dataclass(frozen=True)
class Scale:
    """How big a partnership to make."""

    agencies: int = 50
    people: int = 20_000
    sessions: int = 9_000
    bookings: int = 150_000
    years: int = 3
    trainers: int = 24


LARGE = Scale()

PLACES = [
    "Bourne",
    "Harbour",
    "Downland",
    "Wessex",
    "Quayside",
    "Heathfield",
    "Chalkdown",
    "Riverside",
    "Eastcliff",
    "Westbay",
    "Northmoor",
    "Southsea",
    "Kingsbridge",
    "Marshfield",
    "Oakridge",
    "Seaton",
    "Fernhill",
    "Longmead",
    "Ashby",
    "Brookvale",
    "Cliffton",
    "Dunmore",
    "Elmwood",
    "Fairhaven",
    "Greystone",
]
KINDS = [
    (AgencyKind.POLICE, "Police"),
    (AgencyKind.NHS, "NHS Trust"),
    (AgencyKind.COUNCIL, "Council"),
    (AgencyKind.HOUSING, "Housing"),
    (AgencyKind.VOLUNTARY, "Women's Aid"),
    (AgencyKind.EDUCATION, "Academies"),
    (AgencyKind.PROBATION, "Probation"),
    (AgencyKind.FIRE, "Fire and Rescue"),
    (AgencyKind.AMBULANCE, "Ambulance"),
]
PROGRAMMES = [
    "Partnership Domestic Abuse Training",
    "Safeguarding Children Partnership",
    "Safeguarding Adults Board",
    "Exploitation and Serious Violence",
]
# title, programme index, minutes, capacity, refresher months, partial attendance counts
COURSES = [
    ("Domestic Abuse Essentials", 0, 180, 24, 36, False),
    ("Domestic Abuse Risk Identification", 0, 360, 16, 24, False),
    ("Coercive Control in Practice", 0, 180, 20, 36, False),
    ("Stalking and Harassment", 0, 180, 20, None, False),
    ("Working with Children Affected by Domestic Abuse", 0, 360, 16, None, True),
    ("Safeguarding Children Level 2", 1, 180, 30, 36, False),
    ("Safeguarding Children Level 3", 1, 390, 18, 36, False),
    ("Neglect Toolkit Briefing", 1, 90, 40, None, True),
    ("Safeguarding Adults Awareness", 2, 180, 30, 36, False),
    ("Mental Capacity Act in Practice", 2, 360, 18, 24, False),
    ("Self-Neglect and Hoarding", 2, 180, 20, None, False),
    ("Child Criminal Exploitation", 3, 180, 24, 24, False),
    ("County Lines Briefing", 3, 90, 40, None, True),
    ("Contextual Safeguarding", 3, 360, 16, None, False),
]
# Roughly what partnerships report: most come, a few partly, some do not and say, some do not.
MARKS = (
    [AttendanceStatus.ATTENDED] * 80
    + [AttendanceStatus.PARTIAL] * 4
    + [AttendanceStatus.NO_SHOW] * 8
    + [AttendanceStatus.TURNED_AWAY] * 2
    + [AttendanceStatus.UNABLE] * 6
)
DAY_RATE, HALF_DAY_RATE = 45_000, 25_000  # trainer fees, pence
VENUE_HIRE = 12_000
CHARGES = {True: (5_000, 3_500), False: (9_000, 5_000)}  # partner?: (day, half day)


@dataclass
class Made:
    """What was created, to print."""

    agencies: int = 0
    people: int = 0
    courses: int = 0
    sessions: int = 0
    cancelled_sessions: int = 0
    bookings: int = 0
    evaluations: int = 0
    cost_lines: int = 0
    charges: int = 0
    coverage_targets: int = 0
    first_day: date | None = None
    last_day: date | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)


def _chunks(rows: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _insert(table: sa.Table, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        db.session.execute(sa.insert(table), chunk)


def _insert_ids(table: sa.Table, rows: list[dict]) -> list[int]:
    """Insert and return the new ids in the order of ``rows``."""
    ids: list[int] = []
    for chunk in _chunks(rows):
        result = db.session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk)
        ids.extend(result.scalars())
    return ids


def _working_days(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


class _Diary:
    """Who and what is taken when, so no trainer or venue is booked twice at once."""

    def __init__(self):
        self._taken: dict[tuple[str, int, date], list[tuple[datetime, datetime]]] = {}

    def free(self, kind: str, key: int, day: date, starts_at: datetime, ends_at: datetime) -> bool:
        return all(ends <= starts_at or starts >= ends_at for starts, ends in self._taken.get((kind, key, day), ()))

    def take(self, kind: str, key: int, day: date, starts_at: datetime, ends_at: datetime) -> None:
        self._taken.setdefault((kind, key, day), []).append((starts_at, ends_at))


def _times(days: list[date], index: int, start: time, minutes: int) -> Iterator[tuple[date, datetime, datetime]]:
    """The planned slot first, then the day's other slot (for short courses), then later days."""
    starts = [start] + ([time(13, 30) if start == time(9, 30) else time(9, 30)] if minutes <= 180 else [])
    for day in days[index:]:
        for at in starts:
            starts_at = local_to_utc(day, at)
            yield day, starts_at, starts_at + timedelta(minutes=minutes)
        starts = [time(9, 30), time(13, 30)] if minutes <= 180 else [time(9, 30)]


def _first_free_trainer(diary: _Diary, trainer_ids: list[int], slots, rng: random.Random):
    """The first slot some trainer is free for, and one of those trainers."""
    for day, starts_at, ends_at in slots:
        free = [t for t in trainer_ids if diary.free("trainer", t, day, starts_at, ends_at)]
        if free:
            return day, starts_at, ends_at, rng.choice(free)
    raise DomainError("Too many sessions for that many trainers")


def _financial_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def load_large(scale: Scale = LARGE, *, now: datetime | None = None, seed: int = 2021) -> Made:
    """Create a large partnership in bulk; refuses if one is loaded already."""
    if db.session.scalar(sa.select(User.id).where(User.email == COORDINATOR_EMAIL)) is not None:
        raise DomainError("The large dataset is already loaded")
    if scale.agencies < 1 or scale.people < scale.agencies * 2 + scale.trainers + 1 or scale.sessions < 1:
        raise DomainError("Too few people for that many agencies and trainers")
    rng = random.Random(seed)  # noqa: S311 - not for security
    now = now or utcnow()
    today = to_local(now).date()
    first_day, last_day = today - relativedelta(years=scale.years), today + timedelta(days=30)
    made = Made(first_day=first_day, last_day=last_day)
    stamp = utcnow()
    password_hash = hash_password(DEMO_PASSWORD)

    # Agencies, each with its own email domain; every seventh is not a partner (pays more).
    agency_rows: list[dict[str, Any]] = [
        {
            "name": f"{PLACES[n % len(PLACES)]} {KINDS[n % len(KINDS)][1]}"
            + (f" {n // (len(PLACES) * len(KINDS)) + 1}" if n >= len(PLACES) * len(KINDS) else ""),
            "kind": KINDS[n % len(KINDS)][0],
            "is_partner": n % 7 != 6,
            "active": True,
            "created_at": stamp,
        }
        for n in range(scale.agencies)
    ]
    agency_ids = _insert_ids(Agency.__table__, agency_rows)
    partner = {agency_id: row["is_partner"] for agency_id, row in zip(agency_ids, agency_rows, strict=True)}
    domains = {agency_id: f"agency{n + 1:03d}.{DOMAIN}" for n, agency_id in enumerate(agency_ids)}
    _insert(AgencyDomain.__table__, [{"agency_id": a, "domain": d} for a, d in domains.items()])
    made.agencies = len(agency_ids)

    # People: a coordinator, trainers, a lead per agency, and staff spread unevenly (big
    # agencies and small ones).
    weights = [rng.uniform(0.2, 3.0) for _ in agency_ids]
    # (role, agency, email, job title: None to pick one for the agency's kind)
    people: list[tuple[Role, int | None, str, str | None]] = [
        (Role.COORDINATOR, None, COORDINATOR_EMAIL, "Large Partnership Coordinator")
    ]
    for n in range(scale.trainers):
        agency_id = agency_ids[n % len(agency_ids)]
        people.append((Role.TRAINER, agency_id, f"trainer{n + 1}@{domains[agency_id]}", "Trainer"))
    for agency_id in agency_ids:
        people.append((Role.AGENCY_LEAD, agency_id, f"lead@{domains[agency_id]}", "Training lead"))
    staff_agencies = rng.choices(agency_ids, weights, k=scale.people - len(people))
    for n, agency_id in enumerate(staff_agencies):
        people.append((Role.STAFF, agency_id, f"staff{n + 1}@{domains[agency_id]}", None))
    kind_of = {agency_id: row["kind"] for agency_id, row in zip(agency_ids, agency_rows, strict=True)}
    user_rows = []
    for n, (role, home_agency, email, title) in enumerate(people):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
        if title is None:
            assert home_agency is not None, "only staff are given a job title here, and staff have an agency"
            title = rng.choice(JOB_TITLES[kind_of[home_agency]])
        user_rows.append(
            {
                "email": email,
                "name": f"{first} {last}",
                "role": role,
                "agency_id": home_agency,
                "job_title": title,
                "password_hash": password_hash,
                # A few have left since: their history stays, they no longer count as staff.
                "active": role != Role.STAFF or rng.random() > 0.03,
                "session_token": secrets.token_urlsafe(32),
                "created_at": stamp,
            }
        )
    user_ids = _insert_ids(User.__table__, user_rows)
    agency_of = {user_id: person[1] for user_id, person in zip(user_ids, people, strict=True)}
    trainer_ids = [u for u, p in zip(user_ids, people, strict=True) if p[0] == Role.TRAINER]
    staff_ids = [u for u, p in zip(user_ids, people, strict=True) if p[0] in (Role.STAFF, Role.AGENCY_LEAD)]
    coordinator_id = user_ids[0]
    made.people = len(user_ids)

    # The catalogue.
    programme_ids = _insert_ids(
        Programme.__table__, [{"name": name, "description": "", "created_at": stamp} for name in PROGRAMMES]
    )
    course_ids = _insert_ids(
        Course.__table__,
        [
            {
                "programme_id": programme_ids[p],
                "title": title,
                "level": None,
                "summary": "",
                "audience": "",
                "duration_minutes": minutes,
                "cpd_hours": round(Decimal(minutes) / 60, 1),
                "refresher_months": refresher,
                "prerequisite_id": None,
                "eligible_kinds": [],
                "requires_approval": False,
                "certificate_needs_evaluation": False,
                "partial_counts_as_completed": partial,
                "default_capacity": capacity,
                "cancellation_notice_days": 5,
                "status": CourseStatus.PUBLISHED,
                "created_at": stamp,
            }
            for title, p, minutes, capacity, refresher, partial in COURSES
        ],
    )
    made.courses = len(course_ids)
    venue_ids = _insert_ids(
        Venue.__table__,
        [
            {"name": f"{place} Training Centre", "address": f"1 High Street\n{place}", "active": True}
            for place in PLACES[:12]
        ],
    )

    # Sessions, spread over the working days of three years and a month ahead; the shorter
    # courses run more often. Each trainer and venue is in one place at a time.
    course_weights = [3 if minutes <= 180 else 2 for _, _, minutes, *_ in COURSES]
    working_days = _working_days(first_day, last_day)
    diary = _Diary()
    planned = []
    for n in range(scale.sessions):
        course = rng.choices(range(len(COURSES)), course_weights)[0]
        _, p, minutes, capacity, *_ = COURSES[course]
        start = time(9, 30) if minutes > 200 or rng.random() < 0.6 else time(13, 30)
        online = rng.random() < 0.25
        cancelled = rng.random() < 0.03
        day, starts_at, ends_at, trainer = _first_free_trainer(
            diary, trainer_ids, _times(working_days, n * len(working_days) // scale.sessions, start, minutes), rng
        )
        venues_free = [v for v in venue_ids if diary.free("venue", v, day, starts_at, ends_at)]
        online = online or not venues_free  # every room taken: it runs online
        venue = None if online else rng.choice(venues_free)
        diary.take("trainer", trainer, day, starts_at, ends_at)
        if venue is not None:
            diary.take("venue", venue, day, starts_at, ends_at)
        session_status = (
            SessionStatus.CANCELLED
            if cancelled
            else SessionStatus.DELIVERED
            if ends_at <= now
            else SessionStatus.SCHEDULED
        )
        planned.append(
            {
                "course": course,
                "programme": p,
                "minutes": minutes,
                "day": day,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "status": session_status,
                "capacity": capacity,
                "online": online,
                "trainer": trainer,
                "venue": venue,
            }
        )

    # Bookings, planned per session so each session's places taken are known before it is written.
    total_capacity = sum(s["capacity"] for s in planned)
    walk_in_share = 0.1  # one walk-in on about one session in ten
    per_place = (scale.bookings - walk_in_share * len(planned)) / total_capacity
    for session in planned:
        wanted = max(1, round(session["capacity"] * per_place * rng.uniform(0.8, 1.2)))
        past = session["ends_at"] <= now
        people_here = rng.sample(staff_ids, min(wanted + (1 if past else 0), len(staff_ids)))
        walk_in = (
            people_here.pop()
            if past
            and session["status"] != SessionStatus.CANCELLED
            and len(people_here) > 1
            and rng.random() < walk_in_share
            else None
        )
        bookings, confirmed = [], 0
        for person in people_here[:wanted]:
            status, late = BookingStatus.CONFIRMED, False
            if rng.random() < 0.06:
                status, late = BookingStatus.CANCELLED, rng.random() < 0.3
            elif confirmed >= session["capacity"]:
                status = BookingStatus.CANCELLED if past else BookingStatus.WAITING
            else:
                confirmed += 1
            bookings.append((person, status, late, False))
        if walk_in is not None:
            bookings.append((walk_in, BookingStatus.CONFIRMED, False, True))
        session["bookings"] = bookings
        session["places_taken"] = confirmed

    session_rows = [
        {
            "course_id": course_ids[s["course"]],
            "series_id": None,
            "starts_at": s["starts_at"],
            "ends_at": s["ends_at"],
            "delivery_mode": DeliveryMode.ONLINE if s["online"] else DeliveryMode.IN_PERSON,
            "venue_id": s["venue"],
            "joining_link": "https://meet.example.org/j/training" if s["online"] else "",
            "capacity": s["capacity"],
            "places_taken": s["places_taken"],
            "status": s["status"],
            "notes": "",
            "cancel_reason": "The trainer was unwell." if s["status"] == SessionStatus.CANCELLED else None,
            "sequence": 1 if s["status"] == SessionStatus.CANCELLED else 0,
            "created_at": s["starts_at"] - timedelta(days=60),
            "updated_at": s["starts_at"] - timedelta(days=60),
        }
        for s in planned
    ]
    session_ids = _insert_ids(TrainingSession.__table__, session_rows)
    _insert(
        session_trainers,
        [{"session_id": i, "user_id": s["trainer"]} for i, s in zip(session_ids, planned, strict=True)],
    )
    _insert(
        RegisterSubmission.__table__,
        [
            {"session_id": i, "submitted_at": s["ends_at"], "submitted_by_id": s["trainer"]}
            for i, s in zip(session_ids, planned, strict=True)
            if s["status"] == SessionStatus.DELIVERED
        ],
    )
    made.sessions = len(session_ids)
    made.cancelled_sessions = sum(s["status"] == SessionStatus.CANCELLED for s in planned)

    booking_rows, facts = [], []
    for session_id, s in zip(session_ids, planned, strict=True):
        marked = s["status"] == SessionStatus.DELIVERED
        waiting = 0
        for person, status, late, walk_in in s["bookings"]:
            attendance = None
            if marked and status == BookingStatus.CONFIRMED:
                attendance = AttendanceStatus.ATTENDED if walk_in else rng.choice(MARKS)
            if status == BookingStatus.WAITING:
                waiting += 1
            created = s["starts_at"] - timedelta(days=rng.randint(3, 50)) if not walk_in else s["starts_at"]
            booking_rows.append(
                {
                    "session_id": session_id,
                    "user_id": person,
                    "agency_id": agency_of[person],
                    "booked_by_id": person,
                    "status": status,
                    "queue_position": waiting if status == BookingStatus.WAITING else None,
                    "is_late_cancellation": late,
                    "is_walk_in": walk_in,
                    "attendance": attendance,
                    "minutes_missed": rng.choice([30, 45, 60, 90]) if attendance == AttendanceStatus.PARTIAL else None,
                    "attendance_marked_at": s["ends_at"] if attendance else None,
                    "attendance_marked_by_id": s["trainer"] if attendance else None,
                    "created_at": created,
                    "updated_at": s["starts_at"] - timedelta(days=2) if late else created,
                }
            )
            facts.append((s, attendance, late, walk_in))
    _insert(Booking.__table__, booking_rows)
    # (session, person) is unique: read the new ids back by it. (Insert ... RETURNING took
    # several times longer on PostgreSQL for this many rows.)
    new_ids = dict(
        ((s, u), i)
        for i, s, u in db.session.execute(
            sa.select(Booking.id, Booking.session_id, Booking.user_id).where(Booking.session_id >= min(session_ids))
        )
    )
    booking_ids = [new_ids[(row["session_id"], row["user_id"])] for row in booking_rows]
    made.bookings = len(booking_ids)

    # About half of those who came say how confident they felt before and after.
    evaluation_rows = []
    for booking_id, (s, attendance, _late, _walk_in) in zip(booking_ids, facts, strict=True):
        if attendance in PRESENT and rng.random() < 0.45:
            before = rng.choice([1, 2, 2, 3, 3, 3, 4])
            evaluation_rows.append(
                {
                    "booking_id": booking_id,
                    "kind": EvaluationKind.AFTER,
                    "confidence_before": before,
                    "confidence_after": min(5, before + rng.choice([0, 1, 1, 1, 2, 2])),
                    "comments": "",
                    "submitted_at": s["ends_at"] + timedelta(hours=rng.randint(1, 72)),
                }
            )
    _insert(Evaluation.__table__, evaluation_rows)
    made.evaluations = len(evaluation_rows)

    # Charges for places wasted: no-shows, late and turned away, late cancellations; some waived.
    charge_rows = []
    reasons: dict[AttendanceStatus | None, ChargeReason] = {
        AttendanceStatus.NO_SHOW: ChargeReason.NO_SHOW,
        AttendanceStatus.TURNED_AWAY: ChargeReason.TURNED_AWAY,
    }
    for booking_id, row, (s, attendance, late, _walk_in) in zip(booking_ids, booking_rows, facts, strict=True):
        reason = ChargeReason.LATE_CANCELLATION if late else reasons.get(attendance)
        if reason is None or s["starts_at"] > now:
            continue
        day_rate, half_day_rate = CHARGES[partner[row["agency_id"]]]
        waived = rng.random() < 0.1
        charge_rows.append(
            {
                "booking_id": booking_id,
                "agency_id": row["agency_id"],
                "reason": reason,
                "amount_pence": half_day_rate if s["minutes"] <= 240 else day_rate,
                "status": ChargeStatus.WAIVED if waived else ChargeStatus.RAISED,
                "raised_at": row["updated_at"] if late else s["ends_at"],
                "decided_reason": "Illness" if waived else None,
                "decided_by_id": coordinator_id if waived else None,
                "decided_at": s["ends_at"] + timedelta(days=7) if waived else None,
            }
        )
    _insert(Charge.__table__, charge_rows)
    made.charges = len(charge_rows)

    # A grant for each financial year, allocated across the programmes; a trainer fee (and venue
    # hire) for every session delivered, licences each year; the last month's still committed.
    years = range(_financial_year(first_day), _financial_year(last_day) + 1)
    grant_ids = _insert_ids(
        Grant.__table__,
        [
            {
                "name": f"Partnership training grant {year}/{str(year + 1)[-2:]}",
                "funder": "Police and Crime Commissioner",
                "reference": f"PCC-TRN-{year}",
                "amount_pence": 400_000_00,
                "match_funding_pence": 50_000_00,
                "starts_on": date(year, 4, 1),
                "ends_on": date(year + 1, 3, 31),
                "notes": "",
                "status": GrantStatus.AWARDED,
                "created_at": stamp,
            }
            for year in years
        ],
    )
    allocation_keys = [(year, p) for year in years for p in range(len(programme_ids))]
    allocation_ids = dict(
        zip(
            allocation_keys,
            _insert_ids(
                Allocation.__table__,
                [
                    {
                        "grant_id": grant_ids[year - years.start],
                        "programme_id": programme_ids[p],
                        "course_id": None,
                        "amount_pence": 100_000_00,
                        "created_at": stamp,
                    }
                    for year, p in allocation_keys
                ],
            ),
            strict=True,
        )
    )
    cost_rows = []

    def cost(year, programme, category, pence, state, day, *, session_id=None, supplier=""):
        cost_rows.append(
            {
                "allocation_id": allocation_ids[(year, programme)],
                "session_id": session_id,
                "programme_id": None if session_id else programme_ids[programme],
                "category": category,
                "amount_pence": pence,
                "state": state,
                "incurred_on": day,
                "supplier": supplier,
                "reference": "",
                "created_by_id": coordinator_id,
                "created_at": stamp,
            }
        )

    for year in years:
        for p in range(len(programme_ids)):
            cost(year, p, CostCategory.MATERIALS, 2_500_00, CostState.PAID, date(year, 4, 1), supplier="Printing")
    for session_id, s in zip(session_ids, planned, strict=True):
        if s["status"] != SessionStatus.DELIVERED:
            continue
        state = CostState.COMMITTED if s["day"] > today - timedelta(days=30) else CostState.PAID
        year = _financial_year(s["day"])
        fee = DAY_RATE if s["minutes"] > 240 else HALF_DAY_RATE
        cost(
            year,
            s["programme"],
            CostCategory.TRAINER,
            fee,
            state,
            s["day"],
            session_id=session_id,
            supplier="Sessional trainer",
        )
        if not s["online"]:
            cost(
                year,
                s["programme"],
                CostCategory.VENUE,
                VENUE_HIRE,
                state,
                s["day"],
                session_id=session_id,
                supplier="Venue hire",
            )
    _insert(CostLine.__table__, cost_rows)
    made.cost_lines = len(cost_rows)

    # Each agency's targets for the courses that need refreshing.
    refreshed = [course_ids[n] for n, course in enumerate(COURSES) if course[4]]
    target_rows = [
        {
            "agency_id": agency_id,
            "course_id": course_id,
            "staff_needed": rng.randint(5, 80),
            "updated_at": stamp,
            "updated_by_id": coordinator_id,
        }
        for agency_id in agency_ids
        for course_id in rng.sample(refreshed, min(4, len(refreshed)))
    ]
    _insert(CoverageTarget.__table__, target_rows)
    made.coverage_targets = len(target_rows)
    db.session.flush()
    made.logins = [("Coordinator", COORDINATOR_EMAIL), ("Agency lead", f"lead@{domains[agency_ids[0]]}")]
    return made
