"""The act-and-commit beat every view that changes data shares.

A view loads, authorises and validates; then it hands one service call to ``act``, which
commits and redirects with a confirmation, or, when a rule refuses, rolls back and shows the
refusal. Writing it once keeps the rule that a refusal changes nothing in one place.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import flash, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.forms import flash_error, show_domain_error

T = TypeVar("T")


def act(
    form: FlaskForm | None,
    action: Callable[[], T],
    *,
    redirect_to: str | Callable[[T], str],
    success: str | Callable[[T], str] | None = None,
    then: Callable[[T], object] | None = None,
    on_error: Callable[[DomainError], object] | None = None,
) -> Response | None:
    """Run one service call and finish the request: a redirect, or None when a rule refused.

    On success: commit, run ``then`` (what must follow the commit, such as signing in), flash
    ``success`` and redirect. ``success`` and ``redirect_to`` may be functions of the service's
    result, for messages about what was saved and pages of what was created.

    On a refusal (``DomainError``): roll back, so nothing the service did is kept, and show the
    message beside the form's field it names, or in the error summary; with no form, it is
    flashed as an error. ``on_error`` receives the refusal for pages that show more of it (the
    clashes a session would cause). The view then renders its page again.
    """
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        if form is None:
            flash_error(error.message)
        else:
            for problem in error.each_problem():
                show_domain_error(form, problem)
        if on_error is not None:
            on_error(error)
        return None
    db.session.commit()
    if then is not None:
        then(result)
    if success is not None:
        flash(success(result) if callable(success) else success)
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def act_from_button(
    action: Callable[[], T],
    *,
    redirect_to: str | Callable[[T], str],
    success: str | Callable[[T], str] | None = None,
    back_to: str | None = None,
) -> Response:
    """``act`` for a button with no page of its own: a refusal is flashed as an error on the
    page it returns to, ``back_to`` or else where success goes."""
    if (response := act(None, action, redirect_to=redirect_to, success=success)) is not None:
        return response
    if back_to is None:
        if callable(redirect_to):
            raise TypeError("A redirect that needs the service's result needs a back_to for refusals")
        back_to = redirect_to
    return redirect(back_to)
