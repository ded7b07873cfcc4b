"""Files that cannot be used: each is refused with a message saying what to do, and changes nothing."""

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.factories import make_agency, make_user
from tests.people.helpers import HEADINGS, csv_file, xlsx_file
from trainapp.accounts.models import Role, User
from trainapp.people import services
from trainapp.people.models import ImportKind, StaffImport
from trainapp.people.reading import MAX_BYTES, MAX_ROWS, UnreadableFile

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture
def upload(db):
    coordinator = make_user(Role.COORDINATOR)
    agency = make_agency("Northshire Police", domains=["police.example.org"])

    def upload(data, filename="staff.csv", kind=ImportKind.STAFF):
        return services.preview_import(by=coordinator, filename=filename, data=data, kind=kind, agency=agency)

    return upload


def nothing_stored(db) -> bool:
    return (
        db.session.scalar(sa.select(sa.func.count(StaffImport.id))) == 0
        and db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    )


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (PNG, "staff.csv", "The selected file must be a CSV or Excel (.xlsx) file"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "staff.pdf", "The selected file must be a CSV or Excel (.xlsx) file"),
        (b"PK\x03\x04this is not really a workbook", "staff.xlsx", "not a working Excel file"),
        (b"Full name,Email address\r\n", "staff.xls", "must be a CSV or Excel (.xlsx) file"),
        (b"", "staff.csv", "The selected file is empty"),
        (b"  \r\n", "staff.csv", "The selected file is empty"),
        (b"Full name,Email address,Job title\r\n", "staff.csv", "no rows below the headings"),
        (b"Name,Phone\r\nCat,0123\r\n", "staff.csv", "column headed Email address"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(db, upload, data, filename, message):
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        upload(data, filename)
    assert nothing_stored(db)


def test_a_file_over_5mb_is_refused(db, upload):
    data = csv_file([]) + b"x" * MAX_BYTES
    with pytest.raises(UnreadableFile, match="The selected file must be smaller than 5MB"):
        upload(data)
    assert nothing_stored(db)


def test_more_than_10000_rows_is_refused(db, upload):
    rows = [["P", f"p{n}@police.example.org", "", "", ""] for n in range(MAX_ROWS + 1)]
    with pytest.raises(UnreadableFile, match="more than 10,000 rows"):
        upload(csv_file(rows))
    assert nothing_stored(db)


def test_only_headings_in_an_xlsx_is_refused(db, upload):
    with pytest.raises(UnreadableFile, match="no rows below the headings"):
        upload(xlsx_file([]), "staff.xlsx")


def test_a_csv_formula_stays_plain_text(db, upload):
    staff_import = upload(
        csv_file([['"=HYPERLINK(""http://evil.example"",""Cat"")"', "cat@police.example.org", "=1+1", "", ""]])
    )
    [row] = services.plan_rows(staff_import)
    assert (row.outcome, row.name, row.job_title) == ("create", '=HYPERLINK("http://evil.example","Cat")', "=1+1")


def test_an_xlsx_formula_is_read_as_its_saved_value_or_refused_without_one(db, upload):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    sheet.append(["Cat Bell", "cat@police.example.org", "=1+1", None, None])
    out = io.BytesIO()
    workbook.save(out)  # openpyxl saves formulas without a computed value, as a script would

    staff_import = upload(out.getvalue(), "staff.xlsx")

    [row] = services.plan_rows(staff_import)
    assert row.outcome == "error"
    assert row.message.startswith("Row 2 has a formula without a value")


def test_an_xlsx_formula_with_a_saved_value_uses_the_value(db, upload):
    data = _with_cached_value(xlsx_file([["Cat Bell", "cat@police.example.org", "=1+1", None, None]]), "2")
    [row] = services.plan_rows(upload(data, "staff.xlsx"))
    assert (row.outcome, row.job_title) == ("create", "2")


def _with_cached_value(data: bytes, value: str) -> bytes:
    """The workbook as Excel saves it: each formula cell also holds the value it last worked out."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>1+1</f><v></v>", f"<f>1+1</f><v>{value}</v>".encode())
                content = content.replace(b"<f>1+1</f><v />", f"<f>1+1</f><v>{value}</v>".encode())
                content = content.replace(b"<f>1+1</f></c>", f"<f>1+1</f><v>{value}</v></c>".encode())
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (
            "\ufeffFull name,Email address,Job title\r\nZoë Adams,zoe@police.example.org,Nurse\r\n".encode(),
            "UTF-8 with BOM",
        ),
        ("Full name,Email address,Job title\r\nZoë Adams,zoe@police.example.org,Nurse\r\n".encode(), "UTF-8"),
        (
            "Full name;Email address;Job title\r\nZoë Adams;zoe@police.example.org;Nurse\r\n".encode("cp1252"),
            "cp1252 ;",
        ),
        ("Full name\tEmail address\tJob title\nZoë Adams\tzoe@police.example.org\tNurse\n".encode(), "tabs"),
    ],
)
def test_csv_encodings_and_separators_excel_writes(db, upload, data, label):
    [row] = services.plan_rows(upload(data))
    assert (row.outcome, row.name, row.email) == ("create", "Zoë Adams", "zoe@police.example.org"), label


def test_blank_rows_are_skipped_and_numbers_follow_the_spreadsheet(db, upload):
    data = b"Full name,Email address,Job title\r\n,,\r\nCat,bad email,\r\n"
    [row] = services.plan_rows(upload(data))
    assert (row.number, row.outcome) == (3, "error")
