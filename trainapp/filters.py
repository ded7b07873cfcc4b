"""Jinja filters and globals: local time, labels, the organisation's name."""

from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for

from trainapp.forms import error_summary_items, form_action, page_has_errors
from trainapp.money import format_money, format_money_column
from trainapp.text import format_number
from trainapp.timezones import format_date, format_datetime, format_month, format_time, format_time_range, format_when


def register(app: Flask) -> None:
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_time, "time")
    app.add_template_filter(format_time_range, "time_range")
    app.add_template_filter(session_when, "when")
    app.add_template_filter(format_month, "month")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_money_column, "money_column")
    app.add_template_global(error_summary_items)
    app.add_template_global(form_action)
    app.add_template_global(page_has_errors)
    app.add_template_global(external_url)
    app.add_template_global(page_url)

    @app.context_processor
    def _organisation():
        return {
            "organisation_name": current_app.config["ORGANISATION_NAME"],
            "service_name": current_app.config["SERVICE_NAME"],
        }


def session_when(session) -> str:
    """`session | when`: a session's day and times, with both dates if it ends on a later day."""
    return format_when(session.starts_at, session.ends_at)


def external_url(endpoint: str, **values) -> str:
    """An absolute link for emails and feeds, also outside a request (jobs, CLI)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"] + adapter.build(endpoint, values)


def page_url(number: int) -> str:
    """This page's address with another page number, keeping its filters."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    assert request.endpoint is not None, "page links are only drawn on pages a view rendered"
    return url_for(request.endpoint, **(request.view_args or {})) + "?" + urlencode(args, doseq=True)
