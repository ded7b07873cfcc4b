"""Demo bookings: full sessions with waiting lists, approval requests, places held for an agency."""

from datetime import timedelta

import sqlalchemy as sa

from trainapp.accounts.models import Agency, Role, User
from trainapp.bookings import services
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.catalogue.models import Course, SessionStatus, TrainingSession
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db


def _staff() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.STAFF).order_by(User.id)))


def _past_attendance(session: TrainingSession, people: list[User]) -> None:
    """Bookings on sessions that have happened, written directly: nobody can book the past."""
    for person in people[: session.capacity]:
        db.session.add(
            Booking(
                session=session,
                user=person,
                agency_id=person.agency_id,
                booked_by=person,
                status=BookingStatus.CONFIRMED,
                created_at=session.starts_at - timedelta(days=14),
                updated_at=session.starts_at - timedelta(days=14),
            )
        )
        session.places_taken += 1


def _sessions(past: bool) -> list[TrainingSession]:
    now = utcnow()
    when = TrainingSession.ends_at <= now if past else TrainingSession.ends_at > now
    return list(
        db.session.scalars(
            sa.select(TrainingSession)
            .where(TrainingSession.status == SessionStatus.SCHEDULED, when)
            .order_by(TrainingSession.starts_at)
        )
    )


def _crowd(staff: list[User], index: int) -> list[User]:
    # A different slice of people for each session, so records vary.
    offset = (index * 7) % len(staff)
    return staff[offset:] + staff[:offset]


def load_past() -> bool:
    """Places on sessions that have happened; False when bookings exist already."""
    if db.session.scalar(sa.select(sa.func.count(Booking.id))):
        return False
    staff = _staff()
    places: dict[int, list[TrainingSession]] = {}
    for index, session in enumerate(_sessions(past=True)):
        crowd = _crowd(staff, index)
        prerequisite_id = session.course.prerequisite_id
        if prerequisite_id is not None:
            # Only those who had done the course it builds on, on an earlier session; the registers
            # (attendance.load) mark them attended there.
            crowd = [
                person
                for person in crowd
                if any(
                    earlier.course_id == prerequisite_id and earlier.ends_at <= session.starts_at
                    for earlier in places.get(person.id, ())
                )
            ]
        chosen = crowd[: max(session.capacity - 3, 1)]
        _past_attendance(session, chosen)
        for person in chosen:
            places.setdefault(person.id, []).append(session)
    db.session.flush()
    return True


def load_upcoming(coordinator: User) -> None:
    """Bookings through the real rules, so prerequisites and approval apply."""
    now = utcnow()
    staff = _staff()
    for index, session in enumerate(_sessions(past=False)):
        crowd = _crowd(staff, index)
        title = session.course.title
        if title.startswith("Up2U Practitioner"):
            wanted = session.capacity + 3  # full, with a waiting list
        elif title.startswith("DASH"):
            wanted = 4  # approval course: some requests wait for the police lead
        else:
            wanted = session.capacity // 2
        booked = 0
        for person in crowd:
            if booked >= wanted:
                break
            try:
                with db.session.begin_nested():
                    services.book_place(session.id, person, by=person, now=now)
                booked += 1
            except DomainError:
                continue  # not eligible (prerequisite, agency kind): try the next person
    awareness = db.session.scalars(
        sa.select(TrainingSession)
        .join(TrainingSession.course)
        .where(Course.title == "Domestic Abuse Awareness", TrainingSession.starts_at > now)
        .order_by(TrainingSession.starts_at)
    ).first()
    police = db.session.scalar(sa.select(Agency).where(Agency.name == "Wessex Police"))
    if awareness is not None and police is not None:
        release_at = min(awareness.starts_at - timedelta(days=3), now + timedelta(days=4))
        try:
            with db.session.begin_nested():
                services.reserve_places(awareness.id, police, places=4, release_at=release_at, by=coordinator, now=now)
        except DomainError:
            pass
