"""Importing staff and leavers from a spreadsheet, through the pages a coordinator or an agency lead uses."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories import csrf_token, make_agency, make_session, make_user
from tests.pages import error_summary, field_error, parse, plain, signed_in, table
from tests.support import counting_queries, outbox
from trainapp.accounts.models import Role, User
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.db import utcnow
from trainapp.people.models import StaffImport

UPLOAD = "/people/import"


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _upload(client, data: bytes, *, kind="staff", filename="staff.csv", agency=None):
    token = csrf_token(client.get(UPLOAD))
    form = {"csrf_token": token, "kind": kind, "file": FileStorage(io.BytesIO(data), filename=filename)}
    if agency is not None:
        form["agency"] = str(agency)
    # Encoded here, in memory: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(form)
    return client.post(UPLOAD, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _apply(client, preview_path: str, *, tick: bool, token: str | None = None):
    data = {"csrf_token": token or csrf_token(client.get(preview_path))}
    if tick:
        data["apply_valid"] = "y"
    return client.post(f"{preview_path}/apply", data=data)


def _imports(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(StaffImport.id)))


def _person(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def _confirm_button(response) -> str | None:
    form = parse(response).find("form", action=lambda action: bool(action) and action.endswith("/apply"))
    return form.find("button").get_text(strip=True) if form else None


def _counts(response) -> dict[str, str]:
    found = parse(response).find("dl", id="counts")
    return {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in found.find_all("div", class_="govuk-summary-list__row")
    }


@pytest.fixture
def police(db):
    agency = make_agency("Wessex Police", domains=["police.example.org"])
    db.session.commit()
    return agency


@pytest.fixture
def coordinator(db):
    person = make_user(Role.COORDINATOR, name="Cora Ordinator")
    db.session.commit()
    return person


STAFF_WITH_ONE_BAD_ROW = _csv(
    "Full name,Email address,Job title",
    "Dana Okoro,dana.okoro@police.example.org,Domestic Abuse Officer",
    "Sam Lee,not-an-email,Sergeant",
    "Ali Khan,ali.khan@police.example.org,",
)


def test_a_coordinator_previews_a_staff_list_then_applies_its_valid_rows(client, db, coordinator, police):
    signed_in(client, coordinator)

    uploaded = _upload(client, STAFF_WITH_ONE_BAD_ROW, agency=police.id)

    assert uploaded.status_code == 302
    preview_path = uploaded.location
    preview = client.get(preview_path)
    assert preview.status_code == 200
    assert _counts(preview) == {"To add": "2", "To update": "0", "Unchanged": "0", "With errors": "1"}
    [header, bad_row] = table(preview, "Rows with errors")
    assert header == ["Row", "Email", "Problem"]
    assert bad_row[:2] == ["3", "not-an-email"]
    assert "not an email address in the correct format" in bad_row[2]
    assert _person(db, "dana.okoro@police.example.org") is None, "a preview changes no one"

    refused = _apply(client, preview_path, tick=False)

    assert refused.status_code == 400
    assert error_summary(refused) == [
        "1 row has errors: correct the file and upload it again, or choose to add only the rows without errors"
    ]
    assert parse(refused).find("div", class_="govuk-error-summary").find("a")["href"] == "#apply_valid"
    assert field_error(refused, "apply_valid")
    assert _person(db, "dana.okoro@police.example.org") is None
    assert outbox(db) == []

    applied = _apply(client, preview_path, tick=True)

    assert applied.status_code == 302
    assert applied.location == "/users"
    banner = plain(client.get(applied.location))
    assert "2 people added. 1 row with errors was not applied." in banner
    dana = _person(db, "dana.okoro@police.example.org")
    assert dana is not None and dana.agency_id == police.id and dana.role == Role.STAFF
    assert dana.job_title == "Domestic Abuse Officer"
    assert _person(db, "ali.khan@police.example.org") is not None
    assert [message.recipient for message in outbox(db)] == [
        "dana.okoro@police.example.org",
        "ali.khan@police.example.org",
    ]
    assert "password" in outbox(db)[0].body.lower()
    # The preview is used up: opening it again finds nothing.
    assert client.get(preview_path).status_code == 404


def test_a_list_with_no_errors_shows_no_box_and_the_button_says_what_happens(client, db, coordinator, police):
    signed_in(client, coordinator)
    make_user(Role.STAFF, agency=police, email="ali.khan@police.example.org", name="Ali Khan", job_title="Sergeant")
    make_user(Role.STAFF, agency=police, email="bo.back@police.example.org", name="Bo Back", active=False)
    db.session.commit()
    uploaded = _upload(
        client,
        _csv(
            "Full name,Email address,Job title",
            "Dana Okoro,dana.okoro@police.example.org,Officer",
            "Ali Khan,ali.khan@police.example.org,Inspector",
            "Bo Back,bo.back@police.example.org,",
        ),
        agency=police.id,
    )

    preview = client.get(uploaded.location)

    assert _counts(preview) == {"To add": "1", "To update": "2", "Unchanged": "0", "With errors": "0"}
    assert [row[-2] for row in table(preview, "All rows", body_only=True)] == ["To add", "To update", "To reactivate"]
    assert parse(preview).find("input", id="apply_valid") is None
    assert parse(preview).find("h2", string="Rows with errors") is None
    assert _confirm_button(preview) == "Add 1 person and update 2"
    assert "Job title: Sergeant → Inspector" in plain(preview)

    applied = _apply(client, uploaded.location, tick=False)

    assert applied.status_code == 302
    assert _person(db, "ali.khan@police.example.org").job_title == "Inspector"


def test_the_agency_select_can_leave_the_agency_to_the_file(client, db, coordinator, police):
    # The coordinator's own agency is not a default for the file's rows.
    coordinator.agency = police
    db.session.commit()
    signed_in(client, coordinator)
    page = client.get(UPLOAD)
    options = [option.get_text() for option in parse(page).find("select", id="agency").find_all("option")]
    assert options == ["Use the agency column in the file", "Wessex Police"]

    uploaded = _upload(
        client,
        _csv(
            "Full name,Email address,Job title,Agency",
            "Dana Okoro,dana.okoro@police.example.org,Officer,Wessex Police",
            "Ali Khan,ali.khan@police.example.org,Officer,",
        ),
        agency=0,
    )

    preview = client.get(uploaded.location)
    assert _counts(preview)["To add"] == "1"
    assert "Enter the person’s agency, or choose an agency for the whole file" in plain(preview)


def test_an_agency_lead_gets_an_error_for_each_row_outside_their_agency_or_role(client, db, police):
    other = make_agency("Wessex Council", domains=["council.example.org"])
    lead = make_user(Role.AGENCY_LEAD, agency=police, name="Lee Lead")
    db.session.commit()
    signed_in(client, lead)

    page = client.get(UPLOAD)
    assert parse(page).find("select", id="agency") is None
    assert "Everyone in the file will belong to Wessex Police." in plain(page)

    uploaded = _upload(
        client,
        _csv(
            "Full name,Email address,Job title,Agency,Role",
            "Dana Okoro,dana.okoro@police.example.org,Officer,,Staff",
            "Cal Council,cal@council.example.org,Officer,Wessex Council,",
            "Pat Power,pat.power@police.example.org,Officer,,Coordinator",
        ),
    )

    preview = client.get(uploaded.location)
    errors = table(preview, "Rows with errors", body_only=True)
    assert [row[0] for row in errors] == ["3", "4"]
    assert errors[0][2] == "You can only add staff to Wessex Police"
    assert errors[1][2] == "You can only give people the Staff role"
    assert _counts(preview)["To add"] == "1"
    assert other.id


def test_a_file_that_is_not_a_spreadsheet_gets_a_message_and_stores_nothing(client, db, coordinator, police):
    signed_in(client, coordinator)

    response = _upload(client, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), filename="photo.png", agency=police.id)

    assert response.status_code == 400
    assert field_error(response, "file") == "Error: The selected file must be a CSV or Excel (.xlsx) file"
    assert parse(response).find("div", class_="govuk-error-summary").find("a")["href"] == "#file"
    assert _imports(db) == 0


def test_an_empty_form_lists_each_missing_answer(client, db, coordinator):
    signed_in(client, coordinator)
    token = csrf_token(client.get(UPLOAD))

    response = client.post(UPLOAD, data={"csrf_token": token}, content_type="multipart/form-data")

    assert response.status_code == 400
    assert error_summary(response) == ["Select a CSV or Excel file", "Select what is in the file"]
    assert parse(response).title.get_text().startswith("Error: ")
    assert _imports(db) == 0


def test_a_file_over_5mb_gets_a_clear_message_whatever_its_size(client, db, coordinator, police):
    signed_in(client, coordinator)
    just_over = _csv("Full name,Email address,Job title") + b"x" * (5 * 1024 * 1024)

    response = _upload(client, just_over, agency=police.id)

    assert response.status_code == 400
    assert field_error(response, "file") == "Error: The selected file must be smaller than 5MB"

    far_over = just_over + b"x" * (2 * 1024 * 1024)
    response = _upload(client, far_over, agency=police.id)

    assert response.status_code == 413
    assert field_error(response, "file") == "Error: The selected file must be smaller than 5MB"
    assert parse(response).find("h1").get_text(strip=True) == "Import staff from a spreadsheet"
    assert _imports(db) == 0


def test_other_forms_keep_the_usual_size_limit(client, db, coordinator):
    signed_in(client, coordinator)
    token = csrf_token(client.get("/account/password"))

    response = client.post("/account/password", data={"csrf_token": token, "current_password": "x" * 600_000})

    assert response.status_code == 413


def test_an_expired_preview_says_to_upload_the_file_again(client, db, coordinator, police):
    signed_in(client, coordinator)
    uploaded = _upload(client, STAFF_WITH_ONE_BAD_ROW, agency=police.id)
    token = csrf_token(client.get(uploaded.location))
    staff_import = db.session.scalar(sa.select(StaffImport))
    staff_import.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    opened = client.get(uploaded.location, follow_redirects=True)

    assert opened.request.path == UPLOAD
    assert error_summary(opened) == ["This preview has expired: upload the file again"]

    applied = _apply(client, uploaded.location, tick=True, token=token)

    assert applied.status_code == 302
    assert applied.location == UPLOAD
    assert "This preview has expired" in plain(client.get(UPLOAD))
    assert _person(db, "dana.okoro@police.example.org") is None


def test_leavers_are_deactivated_and_their_future_bookings_cancelled(client, db, coordinator, police):
    leaver = make_user(Role.STAFF, agency=police, email="gone@police.example.org", name="Gail Gone")
    booking = Booking(session=make_session(), user=leaver, agency_id=police.id, status=BookingStatus.CONFIRMED)
    db.session.add(booking)
    booking.session.places_taken = 1
    db.session.commit()
    signed_in(client, coordinator)

    uploaded = _upload(
        client,
        _csv("Email address", "gone@police.example.org", "nobody@police.example.org"),
        kind="leavers",
        filename="leavers.csv",
    )
    preview = client.get(uploaded.location)

    assert _counts(preview) == {"To deactivate": "1", "Already left": "0", "With errors": "1"}
    assert "1 future booking will be cancelled" in plain(preview)
    assert _confirm_button(preview) == "Deactivate 1 person and cancel their 1 future booking"

    applied = _apply(client, uploaded.location, tick=True)

    assert applied.status_code == 302
    assert "1 person deactivated and 1 future booking cancelled." in plain(client.get(applied.location))
    assert _person(db, "gone@police.example.org").active is False
    db.session.refresh(booking)
    assert booking.status != BookingStatus.CONFIRMED


def test_sending_apply_twice_applies_it_once(client, db, coordinator, police):
    signed_in(client, coordinator)
    uploaded = _upload(client, STAFF_WITH_ONE_BAD_ROW, agency=police.id)
    token = csrf_token(client.get(uploaded.location))

    first = _apply(client, uploaded.location, tick=True, token=token)
    second = _apply(client, uploaded.location, tick=True, token=token)

    assert first.status_code == 302
    assert second.status_code == 302
    assert second.location == "/users"
    assert "This list has already been applied" in error_summary(client.get(second.location))
    assert len(outbox(db, "dana.okoro@police.example.org")) == 1
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("%@police.example.org"))) == 2


def test_hostile_text_is_shown_as_text(client, db, coordinator, police):
    signed_in(client, coordinator)
    data = (
        "Full name,Email address,Job title\r\n"
        "=1+1,formula@police.example.org,<script>alert(1)</script>\r\n"
        'Zoë 🎉 Adams,zoe@police.example.org,"Line one\nLine two"\r\n'
        '@SUM(A1),"<b>bold</b>@police.example.org",x\r\n'
    ).encode()

    uploaded = _upload(client, data, agency=police.id)
    preview = client.get(uploaded.location)

    html = preview.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "<b>bold</b>" not in html
    text = plain(preview)
    assert "=1+1" in text
    assert "<script>alert(1)</script>" in text
    assert "Job title must be on one line, with no tabs or other special characters" in text
    assert "Zoë 🎉 Adams" in text
    _apply(client, uploaded.location, tick=True)
    assert _person(db, "formula@police.example.org").name == "=1+1"


def test_someone_elses_preview_is_not_found(client, db, coordinator, police):
    other_coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    signed_in(client, coordinator)
    uploaded = _upload(client, STAFF_WITH_ONE_BAD_ROW, agency=police.id)
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})
    signed_in(client, other_coordinator)

    assert client.get(uploaded.location).status_code == 404
    assert _apply(client, uploaded.location, tick=True, token=csrf_token(client.get("/"))).status_code == 404
    assert _person(db, "dana.okoro@police.example.org") is None


def _big_list(count: int) -> bytes:
    lines = ["Full name,Email address,Job title"]
    lines += [f"Person {n},person{n}@police.example.org,Officer" for n in range(count)]
    lines += [f"Bad {n},bad-{n},Officer" for n in range(count // 2)]
    return _csv(*lines)


def test_the_preview_pages_its_rows_and_filters_them_with_a_fixed_number_of_queries(
    app, client, db, coordinator, police
):
    signed_in(client, coordinator)
    small = _upload(client, _big_list(2), agency=police.id).location
    large = _upload(client, _big_list(80), agency=police.id).location
    client.get(small)
    client.get(large)

    with counting_queries(db.engine) as small_queries:
        client.get(small)
    with counting_queries(db.engine) as large_queries:
        page = client.get(large)

    assert len(large_queries) == len(small_queries)
    assert len(table(page, "All rows", body_only=True)) == app.config["PAGE_SIZE"]
    assert len(table(page, "Rows with errors", body_only=True)) == app.config["PAGE_SIZE"]
    assert "See all 40 rows with errors" in plain(page)
    assert "Page 1 of 5 (120 in all)" in plain(page)

    filtered = client.get(f"{large}?outcome=create&page=4")
    rows = table(filtered, "To add", body_only=True)
    assert len(rows) == 80 - 3 * app.config["PAGE_SIZE"]
    assert {row[-2] for row in rows} == {"To add"}
    assert client.get(f"{large}?outcome=everything").status_code == 400
    assert client.get(f"{large}?page=9").status_code == 404


def test_the_template_downloads_as_a_csv_file(client, db, coordinator):
    signed_in(client, coordinator)
    page = client.get(UPLOAD)
    link = parse(page).find("a", string="Download the template (CSV)")["href"]

    response = client.get(link)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.get_data(as_text=True).lstrip("\ufeff").startswith("Full name,Email address,Job title")


def test_coordinators_and_agency_leads_find_the_upload_page(client, db, police, coordinator):
    lead = make_user(Role.AGENCY_LEAD, agency=police)
    db.session.commit()
    signed_in(client, coordinator)
    assert parse(client.get("/users")).find("a", href=UPLOAD) is not None
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})

    signed_in(client, lead)
    assert parse(client.get("/")).find("a", href=UPLOAD) is not None
    assert parse(client.get("/agency/staff")).find("a", href=UPLOAD) is not None
