"""Demo registers for sessions that have happened: mostly attended, some no-shows, a walk-in."""

import random

import sqlalchemy as sa

from trainapp.accounts.models import Role, User
from trainapp.attendance.models import Certificate, Evaluation, EvaluationKind, RegisterSubmission
from trainapp.attendance.services import CERTIFICATE_ALPHABET
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession
from trainapp.db import utcnow
from trainapp.extensions import db

# Roughly what partnerships report: about 80% attend, a few partly, some no-shows.
MARKS = [AttendanceStatus.ATTENDED] * 16 + [
    AttendanceStatus.PARTIAL,
    AttendanceStatus.NO_SHOW,
    AttendanceStatus.NO_SHOW,
    AttendanceStatus.UNABLE,
]


def _completions_relied_on() -> set[int]:
    """Bookings whose learner went on to a course that builds on this one: each person's latest
    place on the earlier course before the later session. Those registers must say attended."""
    places = db.session.execute(
        sa.select(
            Booking.id,
            Booking.user_id,
            Course.id,
            Course.prerequisite_id,
            TrainingSession.starts_at,
            TrainingSession.ends_at,
        )
        .join(Booking.session)
        .join(TrainingSession.course)
        .where(Booking.status == BookingStatus.CONFIRMED, TrainingSession.status != SessionStatus.CANCELLED)
        .order_by(TrainingSession.ends_at)
    ).all()
    relied_on = set()
    for _, person, _, prerequisite_id, starts_at, _ in places:
        if prerequisite_id is None:
            continue
        earlier = [
            booking_id
            for booking_id, other, course_id, _, _, ends_at in places
            if other == person and course_id == prerequisite_id and ends_at <= starts_at
        ]
        if earlier:
            relied_on.add(earlier[-1])
    return relied_on


def load() -> None:
    """Registers for past sessions that have none yet."""
    now = utcnow()
    chance = random.Random(2021)  # the same demo every time  # noqa: S311 - not for security
    sessions = db.session.scalars(
        sa.select(TrainingSession)
        .where(TrainingSession.ends_at <= now, TrainingSession.status == SessionStatus.SCHEDULED)
        .order_by(TrainingSession.starts_at)
    ).all()
    relied_on = _completions_relied_on()
    walk_in_done = False
    trainers = {}
    for session in sessions:
        bookings = db.session.scalars(
            sa.select(Booking).where(Booking.session_id == session.id, Booking.status == BookingStatus.CONFIRMED)
        ).all()
        if not bookings:
            continue
        trainer = session.trainers[0] if session.trainers else None
        trainers[session.id] = trainer
        for booking in bookings:
            mark = chance.choice(MARKS)
            booking.attendance = AttendanceStatus.ATTENDED if booking.id in relied_on else mark
            if booking.attendance == AttendanceStatus.PARTIAL:
                booking.minutes_missed = 30
            booking.attendance_marked_at, booking.attendance_marked_by = session.ends_at, trainer
            if booking.attendance == AttendanceStatus.ATTENDED:
                if chance.random() < 0.6:
                    before = chance.randint(1, 3)
                    db.session.add(
                        Evaluation(
                            booking=booking,
                            kind=EvaluationKind.AFTER,
                            confidence_before=before,
                            confidence_after=min(5, before + chance.randint(1, 2)),
                            comments="",
                            submitted_at=session.ends_at,
                        )
                    )
                code = "".join(chance.choice(CERTIFICATE_ALPHABET) for _ in range(10))
                db.session.add(Certificate(booking=booking, number=f"{code[:5]}-{code[5:]}", issued_at=session.ends_at))
        # The walk-in comes to a course that builds on nothing: nobody checked a prerequisite at the door.
        if not walk_in_done and session.course.prerequisite_id is None:
            booked = {b.user_id for b in bookings}
            person = db.session.scalars(
                sa.select(User).where(User.role == Role.STAFF, User.id.not_in(booked)).order_by(User.id.desc())
            ).first()
            if person is not None:
                db.session.add(
                    Booking(
                        session=session,
                        user=person,
                        agency_id=person.agency_id,
                        booked_by=trainer,
                        status=BookingStatus.CONFIRMED,
                        is_walk_in=True,
                        attendance=AttendanceStatus.ATTENDED,
                        attendance_marked_at=session.ends_at,
                        attendance_marked_by=trainer,
                        created_at=session.starts_at,
                        updated_at=session.starts_at,
                    )
                )
                walk_in_done = True
        db.session.add(RegisterSubmission(session=session, submitted_at=session.ends_at, submitted_by=trainer))
        session.status = SessionStatus.DELIVERED
    db.session.flush()
