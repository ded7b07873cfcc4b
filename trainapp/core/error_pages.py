"""Error pages in the service's own style, never a bare server page."""

import logging

import sqlalchemy as sa
from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from trainapp.calendars.links import redact
from trainapp.db import rollback_quietly
from trainapp.extensions import db, login_manager
from trainapp.security_log import security_event

MESSAGES = {
    400: ("There is a problem with your request", "Go back, check what you entered and try again."),
    403: ("You do not have permission to see this page", "If you think you should, ask your training coordinator."),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address.",
    ),
    405: ("That action is not allowed here", "Go back and try again."),
    413: ("What you sent is too large", "Go back, send less and try again."),
    429: ("Too many requests", "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered has been saved."),
}
MESSAGES[503] = MESSAGES[500]

# The database is down, restarting, cut off or too busy: worth trying again shortly.
_DATABASE_UNAVAILABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)


def _is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, _DATABASE_UNAVAILABLE):
        return True
    return isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated


def _render(code: int, title: str | None = None, detail: str | None = None, *, with_menu: bool = True):
    default_title, default_detail = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/healthz"):
        return {"status": "error", "code": code}, code
    page = {"code": code, "title": title or default_title, "detail": detail or default_detail}
    if with_menu:
        try:
            return render_template("errors/error.html", **page), code
        except sa.exc.SQLAlchemyError:
            # The menu depends on who is signed in, which is read from the database.
            current_app.logger.warning("The database failed while showing a %s page", code, exc_info=True)
            rollback_quietly(db.session)
    _forgo_loading_the_signed_in_person()
    return render_template("errors/error.html", without_menu=True, **page), code


def _forgo_loading_the_signed_in_person() -> None:
    # Flask-Login's context processor reads the signed-in person from the database for
    # every template, unless this request has already done so; when the database is
    # failing, this page goes without them instead.
    if "_login_user" not in g:
        login_manager._update_request_context_with_user()


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def _untrusted_host(_error):
        # A Host header outside TRUSTED_HOSTS: no link can be built for it, so no styled page either.
        message = f"{MESSAGES[400][0]}: this service does not answer to that address.\n"
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def _csrf(error):
        security_event("csrf.failed", logging.WARNING, reason=error.description)
        return _render(
            400,
            "Your form could not be sent",
            "The page was open for too long, or cookies are blocked. Go back, reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code == 403:
            security_event("access.forbidden", logging.WARNING)
        # A refusal may say more precisely what went wrong than the page for its status.
        return _render(error.code or 500, getattr(error, "page_title", None), getattr(error, "page_detail", None))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if _is_database_unavailable(error):
            app.logger.error("Database unavailable on %s %s", request.method, redact(request.path), exc_info=error)
            rollback_quietly(db.session)
            return _render(503, with_menu=False)
        app.logger.exception("Unhandled error on %s %s", request.method, redact(request.path))
        rollback_quietly(db.session)
        return _render(500)
