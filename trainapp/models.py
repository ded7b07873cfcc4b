"""Every model, imported in one place so the metadata holds the whole schema."""

from trainapp.accounts.models import (  # noqa: F401
    AccessRequest,
    Agency,
    AgencyDomain,
    PasswordResetToken,
    SignInAttempt,
    User,
)
from trainapp.audit import AuditEvent  # noqa: F401
from trainapp.notifications.models import OutboxMessage  # noqa: F401
