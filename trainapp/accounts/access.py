"""Access rules. Every view declares one; a test checks none is missing. Coordinator-only
actions are written once here: ``coordinator_only`` for views, ``require_coordinator`` for
the services behind them."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from trainapp.accounts.models import Role, User
from trainapp.errors import NotAllowed
from trainapp.extensions import login_manager

PUBLIC = "public"
SIGNED_IN = "signed in"
# Where each view keeps its declared rule (a public name, a signed-in name or a set of roles).
ACCESS_RULE = "access_rule"


def _declare(view: Callable, rule: str | frozenset[Role]) -> Callable:
    setattr(view, ACCESS_RULE, rule)
    return view


def public(view: Callable) -> Callable:
    """Anyone, signed in or not."""
    return _declare(view, PUBLIC)


def signed_in(view: Callable) -> Callable:
    """Any active signed-in person, whatever their role."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _declare(wrapper, SIGNED_IN)


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Signed-in people holding one of these roles; others get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapper, frozenset(allowed))

    return decorate


coordinator_only = roles(Role.COORDINATOR)


def require_coordinator(user: User, to: str) -> None:
    """Refuse anyone but a coordinator, saying what only a coordinator can do ("change money")."""
    if not user.is_coordinator:
        raise NotAllowed(f"Only a coordinator can {to}")


def require(condition: bool) -> None:
    """Refuse with 403 unless a rule about this particular object holds."""
    if not condition:
        abort(403)
