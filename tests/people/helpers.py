"""Building staff lists as people make them: CSV from Excel or a text editor, and .xlsx."""

import io

from openpyxl import Workbook

HEADINGS = ["Full name", "Email address", "Job title", "Agency", "Role"]


def csv_file(rows, headings=HEADINGS, delimiter=",", encoding="utf-8") -> bytes:
    lines = [delimiter.join(headings)] + [delimiter.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_file(rows, headings=HEADINGS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headings)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
