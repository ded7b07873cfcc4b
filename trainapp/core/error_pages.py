"""Error pages in the service's own style, never a bare server page."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from trainapp.calendars.links import redact
from trainapp.extensions import db

MESSAGES = {
    400: ("There is a problem with your request", "Go back, check what you entered and try again."),
    403: ("You do not have permission to see this page", "If you think you should, ask your "
          "training coordinator."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted "
          "it, check you copied the whole address."),
    405: ("That action is not allowed here", "Go back and try again."),
    413: ("What you sent is too large", "Go back, send less and try again."),
    429: ("Too many requests", "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered "
          "has been saved."),
}


def _render(code: int, title: str | None = None, detail: str | None = None):
    default_title, default_detail = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/healthz"):
        return {"status": "error", "code": code}, code
    return (
        render_template(
            "errors/error.html", code=code, title=title or default_title,
            detail=detail or default_detail,
        ),
        code,
    )


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return _render(
            400,
            "Your form could not be sent",
            "The page was open for too long, or cookies are blocked. Go back, reload the page "
            "and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return _render(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, redact(request.path))
        db.session.rollback()
        return _render(500)
