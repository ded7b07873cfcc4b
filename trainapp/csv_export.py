"""CSV files that open safely in Excel: UTF-8 with a BOM, RFC 4180 quoting, no live formulas.

Money goes in as pounds (``money.to_pounds``) under a header naming the unit, dates as
``date`` values, so a spreadsheet sums and sorts them; text is made safe from formulas.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from flask import Response

from trainapp.text import content_disposition
from trainapp.timezones import to_local

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets an apostrophe first."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal):
        return str(value)  # a number cannot be a formula, even a negative one
    if isinstance(value, datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M")  # ISO 8601, in the time people read
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: list[str], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_response(filename: str, header: list[str], rows) -> Response:
    response = Response(csv_bytes(header, rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response
