"""What a request may carry: one rule for ids, whole numbers and form sizes on every route.

- An id in a path (``<int:...>``) outside 1 to MAX_ID does not match its route: 404.
- A whole number in a query string (a page, an id to filter by) that is malformed or larger
  than MAX_ID is a bad request: 400. Views read them through ``query_int`` and ``query_page``.
- A NUL character in a path names nothing (404); in a query string or form it is a bad request (400).
- A urlencoded form with more fields than MAX_FORM_PARTS is too large: 413, as multipart is.
- A body larger than MAX_CONTENT_LENGTH is too large (413), except on a view that takes a file
  upload (``accepts_upload``), which sets its own larger limit.
"""

import io
import re

from flask import Flask, Request, abort, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, Map

# Every id column is a PostgreSQL INTEGER; SQLite holds more, so this is the limit on both.
MAX_ID = 2**31 - 1

_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


class UnstorableCharacter(BadRequest):
    """Text holding a NUL: no one types one, and PostgreSQL can neither store nor compare it."""

    page_title = "There is a problem with what you entered"
    page_detail = (
        "It contains a character that cannot be saved, perhaps pasted from another program. "
        "Go back, retype the text and try again. Nothing has been saved."
    )


class IdConverter(IntegerConverter):
    """``<int:...>`` on every route: an id the database can hold, or the route does not match."""

    def __init__(
        self,
        map: Map,  # noqa: A002 - the names Werkzeug passes
        fixed_digits: int = 0,
        min: int | None = 1,  # noqa: A002
        max: int | None = MAX_ID,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def query_int(name: str, default: int | None = None) -> int | None:
    """A whole number from the query string: absent or blank gives ``default``; not 0 to MAX_ID is 400.

    0 is the value of a select's blank option ("All agencies"), never an id."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) > MAX_ID:
        abort(400)
    return int(raw)


def query_page() -> int:
    """The page of a paginated list: 1 when absent; a page before the first is 404, as one past the last is."""
    page = query_int("page")
    if page is None:
        return 1
    if page < 1:
        abort(404)
    return page


class _FormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        # Werkzeug counts the fields of multipart bodies only; a urlencoded body is held to the same limit.
        body = stream.read()
        if self.max_form_parts is not None and body.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge()
        return super()._parse_urlencoded(io.BytesIO(body), mimetype, content_length, options)


class InputRequest(Request):
    """The app's request: forms parsed under the limits above."""

    form_data_parser_class = _FormDataParser


def _has_nul(fields) -> bool:
    return any("\x00" in name or "\x00" in value for name, value in fields.items(multi=True))


# Where a view that takes a file keeps the largest request body it accepts.
UPLOAD_LIMIT = "max_request_bytes"


def accepts_upload(max_bytes: int):
    """For a view whose form carries a file: requests to it may be up to ``max_bytes`` long."""

    def decorate(view):
        setattr(view, UPLOAD_LIMIT, max_bytes)
        return view

    return decorate


def install_input_rules(app: Flask) -> None:
    """Hold every route to these rules; call before any blueprint is registered."""
    app.request_class = InputRequest
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def _allow_uploads():
        # Set before anything reads the form (the NUL check below, the CSRF check after it).
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, UPLOAD_LIMIT, None)
        if limit is not None:
            request.max_content_length = limit

    @app.before_request
    def _refuse_nul():
        # No one types a NUL; PostgreSQL cannot store or compare one, so it would otherwise fail as a 500.
        # In a path it names nothing, like an id that does not exist.
        if "\x00" in request.path:
            abort(404)
        if _has_nul(request.args):
            raise UnstorableCharacter()
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and _has_nul(request.form):
            raise UnstorableCharacter()
