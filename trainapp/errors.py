"""Domain exceptions: services raise them, views turn them into messages."""


class DomainError(Exception):
    """A rule of the service refused the action; ``message`` is shown to the user."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field

    def each_problem(self) -> list["DomainError"]:
        """The refusals to show, each beside its own field: usually just this one."""
        return [self]


class InvalidTransition(DomainError):
    """A status change that the status's rules do not allow."""


class NotAllowed(DomainError):
    """The acting user may not do this."""


class EmailTaken(DomainError):
    field = "email"


class WeakPassword(DomainError):
    field = "password"


class InvalidCredentials(DomainError):
    """Unknown email or wrong password: deliberately the same message for both."""


class Throttled(DomainError):
    """Too many recent failures from this account or address."""


class UnknownAgency(DomainError):
    field = "agency"


class InvalidToken(DomainError):
    """A reset or confirmation link that is unknown, used or expired."""
