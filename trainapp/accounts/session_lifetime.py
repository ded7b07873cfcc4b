"""How long a signed-in session lasts, and the step between the password and the second factor.

The sign-in time and the time of the last request are kept in the (signed) session cookie and
checked on every request, so a session ends SESSION_ABSOLUTE_HOURS after signing in however
busy, or SESSION_IDLE_MINUTES after it was last used. "Keep me signed in" makes the cookie outlive
the browser, for REMEMBER_ME_DAYS from signing in at most, and never for coordinators. A copied
cookie ends at the same moments: the times inside it cannot be changed without the key.
"""

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_url, login_user, logout_user
from werkzeug.wrappers import Response

from trainapp.accounts import second_factor
from trainapp.accounts.access import ACCESS_RULE, PUBLIC
from trainapp.accounts.models import User
from trainapp.db import utcnow
from trainapp.extensions import db
from trainapp.security_log import security_event

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
KEPT_SIGNED_IN = "kept_signed_in"
SECOND_STEP = "second_step"
# Between the password and the code: long enough to find a phone, not to leave a half sign-in open.
SECOND_STEP_SECONDS = 10 * 60
# The last-seen time is written back at most this often, so not every page sets a cookie.
SEEN_RESOLUTION_SECONDS = 60

SET_UP_ENDPOINT = "auth.set_up_second_factor"
# What someone who must set up an authenticator app can still open before they have: their
# account, the set-up page and signing out (besides public pages other than the home page).
_OPEN_BEFORE_SET_UP = frozenset({"static", "auth.account", "auth.change_password", "auth.sign_out", SET_UP_ENDPOINT})


def _now() -> int:
    return int(utcnow().timestamp())


def may_keep_signed_in(user: User) -> bool:
    """Coordinators can change everything, so their sessions always end with the browser."""
    return not user.is_coordinator


def begin(user: User, *, remember: bool = False) -> None:
    """Sign in afresh: nothing from before carries over, and the session's clock starts now."""
    session.clear()
    login_user(user)
    kept = remember and may_keep_signed_in(user)
    session.permanent = kept
    now = _now()
    session[SIGNED_IN_AT] = session[SEEN_AT] = now
    if kept:
        session[KEPT_SIGNED_IN] = True


def hold_for_second_step(user: User, *, remember: bool, next_url: str) -> None:
    """The password was right; remember who is signing in, without signing them in yet."""
    session.clear()
    session[SECOND_STEP] = {"token": user.session_token, "at": _now(), "remember": remember, "next": next_url}


def waiting_for_second_step() -> User | None:
    """The person who gave a right password in this browser moments ago, if still waiting."""
    pending = session.get(SECOND_STEP)
    if not isinstance(pending, dict) or _now() - pending.get("at", 0) > SECOND_STEP_SECONDS:
        session.pop(SECOND_STEP, None)
        return None
    # By session token, so signing out everywhere or a reset also ends a half-finished sign-in.
    return db.session.scalar(db.select(User).where(User.session_token == pending["token"], User.active.is_(True)))


def finish_second_step(user: User) -> str:
    """Sign in the person who passed the second step; where they were going."""
    pending = session[SECOND_STEP]
    begin(user, remember=bool(pending.get("remember")))
    return pending.get("next") or url_for("core.home")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _idle_words(minutes: int) -> str:
    return _plural(minutes // 60, "hour") if minutes % 60 == 0 else _plural(minutes, "minute")


def _why_ended(user: User, now: int) -> tuple[str, str] | None:
    """Why this session has ended (a reason for the log, a message for the person), or None."""
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        # A session from before sign-in times were kept, or one Flask-Login restored from its own
        # remember cookie: nobody can tell how old it is.
        return "no_sign_in_time", "Sign in again."
    config = current_app.config
    if session.get(KEPT_SIGNED_IN) and may_keep_signed_in(user):
        days = config["REMEMBER_ME_DAYS"]
        if now - signed_in_at >= days * 24 * 60 * 60:
            return "kept_lifetime", f"You were signed out {_plural(days, 'day')} after you signed in. Sign in again."
        return None
    hours = config["SESSION_ABSOLUTE_HOURS"]
    if now - signed_in_at >= hours * 60 * 60:
        return "lifetime", f"You were signed out {_plural(hours, 'hour')} after you signed in. Sign in again."
    idle = config["SESSION_IDLE_MINUTES"]
    if now - session.get(SEEN_AT, signed_in_at) >= idle * 60:
        return (
            "idle",
            f"You were signed out because you had not used the service for {_idle_words(idle)}. Sign in again.",
        )
    return None


def end_expired_session() -> Response | None:
    """Before every request: sign out a session past its time, and send the person to sign in."""
    # No page matched (a 404 follows): the error page must not need the database to look up
    # who is signed in, in case the database is what failed.
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    now = _now()
    ended = _why_ended(current_user, now)
    if ended is None:
        if now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION_SECONDS:
            session[SEEN_AT] = now
        return None
    reason, message = ended
    security_event("session.expired", user_id=current_user.id, reason=reason)
    logout_user()
    session.clear()
    flash(message, "info")
    # Back to the page afterwards, as for any page that needs signing in; not to a form's target.
    return redirect(login_url("auth.sign_in", request.url if request.method == "GET" else None))


def send_to_set_up() -> Response | None:
    """Before every request: a role that must use an authenticator app sets one up first."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in _OPEN_BEFORE_SET_UP:
        return None
    if not current_user.is_authenticated or not second_factor.must_set_up(current_user):
        return None
    rule = getattr(current_app.view_functions.get(endpoint), ACCESS_RULE, None)
    if rule == PUBLIC and endpoint != "core.home":
        return None
    return redirect(url_for(SET_UP_ENDPOINT))
