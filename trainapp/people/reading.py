"""Reading an uploaded staff or leavers list (CSV or .xlsx) into numbered rows of text.

Nothing here knows about people or agencies: it finds the columns by their headings, gives
each row the number the spreadsheet shows (the heading row is row 1) and refuses a file it
cannot read with a message that says what to do. Cell text is kept exactly as written:
"=HYPERLINK(...)" in a CSV stays that text, and an .xlsx formula is read as the value Excel
saved with it, never worked out here.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from trainapp.errors import DomainError

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
TOO_LARGE = "The selected file must be smaller than 5MB"

EMAIL, NAME, JOB_TITLE, AGENCY, ROLE = "email", "name", "job_title", "agency", "role"

# Headings as people write them, after lower-casing and turning spaces, underscores, hyphens
# and full stops into single spaces.
HEADINGS = {
    EMAIL: {"email", "e mail", "email address", "e mail address", "work email", "work email address", "mail"},
    NAME: {"name", "full name", "person", "staff name", "employee name"},
    JOB_TITLE: {"job title", "position", "role title", "title", "job", "job role"},
    AGENCY: {"agency", "organisation", "organization", "agency name", "organisation name", "employer"},
    ROLE: {"role", "access", "access level", "permission", "permissions", "user role"},
}
HEADING_LABELS = {EMAIL: "Email address", NAME: "Full name", JOB_TITLE: "Job title", AGENCY: "Agency", ROLE: "Role"}

_SEPARATORS = re.compile(r"[\s_\-.]+")
_XLSX_TYPES = (".xlsx", ".xlsm")
_CSV_TYPES = (".csv", ".txt", ".tsv")
_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")
CHOOSE_A_FILE = "The selected file must be a CSV or Excel (.xlsx) file"


class UnreadableFile(DomainError):
    """A problem with the whole file; the message says what is wrong and how to fix it."""

    field = "file"


@dataclass(frozen=True)
class Row:
    """One row below the headings: its number in the spreadsheet and its text by column."""

    number: int
    values: dict[str, str]
    # A problem found while reading (an .xlsx formula with no saved value), shown as the row's error.
    problem: str | None = None

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def heading_key(text: str) -> str | None:
    """The column a heading names ("E-mail address" -> email), or None for one we ignore."""
    cleaned = _SEPARATORS.sub(" ", str(text or "").replace("\ufeff", "")).strip().lower()
    for column, spellings in HEADINGS.items():
        if cleaned in spellings:
            return column
    return None


def read_rows(filename: str, data: bytes, *, required: Iterable[str], optional: Iterable[str] = ()) -> list[Row]:
    """Every non-blank row of an uploaded file; UnreadableFile for a file that cannot be used."""
    if len(data) > MAX_BYTES:
        raise UnreadableFile(TOO_LARGE)
    if not data.strip():
        raise UnreadableFile("The selected file is empty")
    suffix = _suffix(filename)
    if data.startswith(b"PK\x03\x04"):
        if suffix not in _XLSX_TYPES + _CSV_TYPES:
            raise UnreadableFile(CHOOSE_A_FILE)
        grid = _xlsx_grid(data)
    elif suffix in _XLSX_TYPES:
        raise UnreadableFile("The selected file is not a working Excel file: save it again as .xlsx or CSV")
    elif suffix in _CSV_TYPES or suffix == "":
        grid = _csv_grid(data)
    else:
        raise UnreadableFile(CHOOSE_A_FILE)
    return _rows(grid, list(required), {*required, *optional})


def _suffix(filename: str) -> str:
    name = (filename or "").strip().lower()
    return name[name.rfind(".") :] if "." in name else ""


Cell = tuple[str, str | None]  # (text, problem)


def _rows(grid: Iterator[list[Cell]], required: list[str], wanted: set[str]) -> list[Row]:
    header = next(grid, None)
    if header is None:
        raise UnreadableFile("The selected file is empty")
    if not any(text.strip() for text, _ in header):
        raise UnreadableFile("The first row must hold the column headings, like Full name and Email address")
    columns: dict[int, str] = {}
    for index, (text, _) in enumerate(header):
        key = heading_key(text)
        if key in wanted and key not in columns.values():
            columns[index] = key
    missing = [HEADING_LABELS[key] for key in required if key not in columns.values()]
    if missing:
        raise UnreadableFile(
            f"The first row must have a column headed {' and '.join(missing)}: "
            "download the template to see the headings"
        )
    rows: list[Row] = []
    for number, cells in enumerate(grid, start=2):
        values: dict[str, str] = {}
        problem = None
        for index, key in columns.items():
            text, cell_problem = cells[index] if index < len(cells) else ("", None)
            values[key] = text
            if cell_problem and problem is None:
                problem = f"Row {number} {cell_problem}"
        if not problem and not any(value.strip() for value in values.values()):
            continue
        if len(rows) == MAX_ROWS:
            raise UnreadableFile(f"The selected file has more than {MAX_ROWS:,} rows: split it into smaller files")
        rows.append(Row(number, values, problem))
    if not rows:
        raise UnreadableFile("The selected file has no rows below the headings")
    return rows


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise UnreadableFile(CHOOSE_A_FILE)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel writes when it saves "CSV" on Windows.
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("The selected file must be saved as CSV UTF-8 or as an Excel (.xlsx) file") from exc


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_grid(data: bytes) -> Iterator[list[Cell]]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        rows: list[list[Cell]] = [[(cell, None) for cell in row] for row in reader]
    except csv.Error as exc:
        raise UnreadableFile("The selected file is not a working CSV file: save it again as CSV") from exc
    return iter(rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _xlsx_grid(data: bytes) -> Iterator[list[Cell]]:
    from openpyxl import load_workbook

    try:
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        value_rows = values.worksheets[0].iter_rows(values_only=True)
        # A second reading shows which empty cells are formulas Excel saved no value for; only
        # worth its time when a sheet has formulas at all.
        if _has_formulas(data):
            formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            formula_rows = formulas.worksheets[0].iter_rows(values_only=True)
        else:
            formula_rows = value_rows
        grid: list[list[Cell]] = []
        filled = 0
        pairs = zip(value_rows, formula_rows, strict=False) if formula_rows is not value_rows else _twice(value_rows)
        for saved, written in pairs:
            grid.append([_xlsx_cell(value, formula) for value, formula in zip(saved, written, strict=False)])
            filled += any(value is not None for value in written)
            # Enough to know the file is too long, without reading a million formatted rows.
            if filled > MAX_ROWS + 1:
                break
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError, EOFError) as exc:
        raise UnreadableFile("The selected file is not a working Excel file: save it again as .xlsx or CSV") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise UnreadableFile("The selected file is not a working Excel file: save it again as .xlsx or CSV") from exc
    return iter(grid)


def _has_formulas(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as sheet:
                    tail = b""
                    while chunk := sheet.read(1 << 20):
                        if _FORMULA.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
    return False


def _twice(rows: Iterator[tuple]) -> Iterator[tuple[tuple, tuple]]:
    for row in rows:
        yield row, row


def _xlsx_cell(value: object, written: object) -> Cell:
    if value is None and isinstance(written, str) and written.startswith("="):
        return "", "has a formula without a value: open the file in Excel, save it and upload it again"
    return _cell_text(value), None


def csv_bytes(rows: list[list[str]]) -> bytes:
    """Rows as CSV text with a byte order mark, so Excel reads accents correctly."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")
