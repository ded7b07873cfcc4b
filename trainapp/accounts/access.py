"""Access rules for views. Every view declares one; a test checks none is missing."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from trainapp.accounts.models import Role
from trainapp.extensions import login_manager

PUBLIC = "public"
SIGNED_IN = "signed in"


def public(view: Callable) -> Callable:
    """Anyone, signed in or not."""
    view.access_rule = PUBLIC
    return view


def signed_in(view: Callable) -> Callable:
    """Any active signed-in person, whatever their role."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapper.access_rule = SIGNED_IN
    return wrapper


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

        wrapper.access_rule = frozenset(allowed)
        return wrapper

    return decorate


def require(condition: bool) -> None:
    """Refuse with 403 unless a rule about this particular object holds."""
    if not condition:
        abort(403)
