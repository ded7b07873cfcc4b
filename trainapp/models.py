"""Every model, imported in one place so the metadata holds the whole schema."""

from trainapp.accounts.models import (  # noqa: F401
    AccessRequest,
    Agency,
    AgencyDomain,
    PasswordResetToken,
    RecoveryCode,
    SignInAttempt,
    User,
)
from trainapp.attendance.models import Certificate, Evaluation, RegisterSubmission  # noqa: F401
from trainapp.audit import AuditEvent  # noqa: F401
from trainapp.bookings.models import AgencyReservation, Booking, BookingAccessNeeds, SavedAccessNeeds  # noqa: F401
from trainapp.calendars.models import CachedFeed, CalendarLink  # noqa: F401
from trainapp.catalogue.models import (  # noqa: F401
    Course,
    Programme,
    SessionSeries,
    TrainingSession,
    Venue,
    session_trainers,
)
from trainapp.funding.models import (  # noqa: F401
    Allocation,
    Charge,
    ChargeExemption,
    ChargingPolicy,
    CostLine,
    Grant,
)
from trainapp.notifications.models import OutboxMessage  # noqa: F401
from trainapp.people.models import StaffImport  # noqa: F401
from trainapp.reports.models import CoverageTarget  # noqa: F401
