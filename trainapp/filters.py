"""Jinja filters and globals: local time, labels, the organisation's name."""

from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for

from trainapp.forms import error_list, page_has_errors
from trainapp.money import format_money
from trainapp.timezones import format_date, format_datetime, format_time


def register(app: Flask) -> None:
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_time, "time")
    app.add_template_filter(format_money, "money")
    app.add_template_global(error_list)
    app.add_template_global(page_has_errors)
    app.add_template_global(external_url)
    app.add_template_global(page_url)

    @app.context_processor
    def _organisation():
        return {
            "organisation_name": current_app.config["ORGANISATION_NAME"],
            "service_name": current_app.config["SERVICE_NAME"],
        }


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
