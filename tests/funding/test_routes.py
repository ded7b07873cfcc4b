"""Funding pages through their real forms (CSRF included): grants, allocations, costs, charges,
statements and their CSV.

Who may open which page is covered by tests/core/test_access.py; here, what each page shows to
whom, what bad input does, and that nothing changes when it is refused.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from werkzeug.http import parse_options_header

from tests.factories import (
    csrf_token,
    fresh_client,
    make_agency,
    make_course,
    make_programme,
    make_session,
    make_user,
)
from tests.pages import error_summary, plain, signed_in, submit
from tests.support import counting_queries
from trainapp.accounts.models import Role
from trainapp.audit import AuditEvent
from trainapp.bookings.models import Booking, BookingStatus
from trainapp.funding.models import (
    Allocation,
    Charge,
    ChargeReason,
    ChargeStatus,
    CostCategory,
    CostLine,
    CostState,
    Grant,
    GrantStatus,
)

PROBLEM = "There is a problem"
MARCH = datetime(2030, 3, 12, 10, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://evil.example/pay","Pay here")'


# --- helpers ------------------------------------------------------------------------


def field_error(response, field_id) -> str | None:
    """The message beside one field, without GOV.UK's hidden "Error:" prefix."""
    match = re.search(
        rf'<p id="{re.escape(field_id)}-error" class="govuk-error-message">(.*?)</p>',
        response.get_data(as_text=True),
        flags=re.S,
    )
    if match is None:
        return None
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", match.group(1)))).replace("Error:", "").strip()


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def audit_count(db) -> int:
    return count(db, AuditEvent)


def date_boxes(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def read_csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


class World:
    """A coordinator, an awarded 2030 grant of £1,000 with nothing allocated, a programme with a
    session, and two agencies each with a lead and a learner."""

    def __init__(self, db):
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.police = make_agency("Wessex Police")
        self.council = make_agency("Downs Council", is_partner=False)
        self.police_lead = make_user(Role.AGENCY_LEAD, agency=self.police, name="Pat Lead")
        self.council_lead = make_user(Role.AGENCY_LEAD, agency=self.council, name="Cy Lead")
        self.programme = make_programme("Family Practice")
        self.course = make_course(programme=self.programme, title="Safety Planning")
        self.session = make_session(course=self.course, starts_at=MARCH - timedelta(days=1), hours=3)
        self.grant = Grant(
            name="Lottery 2030",
            funder="National Lottery",
            amount_pence=1_000_00,
            starts_on=date(2030, 1, 1),
            ends_on=date(2030, 12, 31),
            status=GrantStatus.AWARDED,
        )
        db.session.add(self.grant)
        db.session.commit()


@pytest.fixture
def w(db):
    return World(db)


@pytest.fixture
def coordinator(app, w):
    return signed_in(fresh_client(app), w.coordinator)


def grant_form(**changes):
    data = {
        "name": "Council Fund 2030",
        "funder": "Downs Council",
        "reference": "DC/30/7",
        "amount": "£1,234.56",
        "match_funding": "",
        "starts_on": date_boxes(date(2030, 4, 1)),
        "ends_on": date_boxes(date(2031, 3, 31)),
        "status": "awarded",
        "notes": "",
    }
    data.update(changes)
    return data


# --- grants -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence", "shown"),
    [
        ("£1,234.56", 1_234_56, "£1,234.56"),
        ("1234.56", 1_234_56, "£1,234.56"),
        ("1234", 1_234_00, "£1,234"),
    ],
)
def test_a_grant_is_created_with_its_amount_typed_as_people_type_it(db, w, coordinator, typed, pence, shown):
    response = submit(coordinator, "/grants/new", grant_form(amount=typed, match_funding="250"))
    grant = db.session.scalars(sa.select(Grant).where(Grant.name == "Council Fund 2030")).one()
    assert response.status_code == 302 and response.location == f"/grants/{grant.id}"
    assert (grant.amount_pence, grant.match_funding_pence) == (pence, 250_00)
    assert (grant.reference, grant.status, grant.starts_on) == ("DC/30/7", GrantStatus.AWARDED, date(2030, 4, 1))
    page = plain(coordinator.get(response.location))
    assert "Council Fund 2030 has been saved." in page
    assert f"Amount {shown}" in page and "Match funding expected £250" in page
    assert db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == grant.id)).all() == [
        "grant.created"
    ]


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("amount", "12.345", "Enter an amount with no more than 2 decimal places, like 12.34"),
        ("amount", "-5", "Enter an amount of zero or more"),
        ("amount", "-£5", "Enter an amount of zero or more"),
        ("amount", "twelve hundred", "Enter an amount in pounds, like 1,234.56"),
        ("amount", "1,23", "Enter an amount in pounds, like 1,234.56"),
        ("amount", "", "Enter the grant's amount"),
        ("amount", "200000000", "That amount is too large"),
        ("match_funding", "ten", "Enter an amount in pounds, like 1,234.56"),
        ("match_funding", "0.001", "Enter an amount with no more than 2 decimal places, like 12.34"),
    ],
)
def test_bad_amounts_show_the_error_summary_and_change_nothing(db, w, coordinator, field, typed, message):
    before = audit_count(db)
    response = submit(coordinator, "/grants/new", grant_form(**{field: typed}))
    assert response.status_code == 200
    assert PROBLEM in plain(response)
    assert error_summary(response) == [message]
    assert field_error(response, field) == message
    # What was typed is shown again, to be corrected.
    assert f'value="{typed}"' in response.get_data(as_text=True) or typed == ""
    assert count(db, Grant) == 1 and audit_count(db) == before


def test_a_window_that_ends_before_it_starts_is_refused(db, w, coordinator):
    response = submit(coordinator, "/grants/new", grant_form(ends_on=date_boxes(date(2030, 3, 31))))
    assert error_summary(response) == ["The delivery window must end on or after its start"]
    assert count(db, Grant) == 1


def test_the_change_form_shows_the_amount_ready_to_edit_and_refuses_going_below_allocations(db, w, coordinator):
    db.session.add(Allocation(grant=w.grant, programme=w.programme, amount_pence=600_00))
    db.session.commit()
    page = coordinator.get(f"/grants/{w.grant.id}/edit")
    assert 'value="1000.00"' in page.get_data(as_text=True)
    data = grant_form(
        name="Lottery 2030",
        funder="National Lottery",
        reference="",
        amount="599.99",
        starts_on=date_boxes(w.grant.starts_on),
        ends_on=date_boxes(w.grant.ends_on),
    )
    response = submit(coordinator, f"/grants/{w.grant.id}/edit", data)
    assert error_summary(response) == ["£600 is already allocated from this grant: the amount cannot be less"]
    db.session.expire_all()
    assert db.session.get(Grant, w.grant.id).amount_pence == 1_000_00


# --- allocations --------------------------------------------------------------------


def test_an_allocation_over_the_grant_is_refused_and_what_is_left_is_said(db, w, coordinator):
    db.session.add(Allocation(grant=w.grant, programme=w.programme, amount_pence=600_00))
    db.session.commit()
    path = f"/grants/{w.grant.id}/allocations/new"
    before = audit_count(db)
    response = submit(coordinator, path, {"target": f"course-{w.course.id}", "amount": "£400.01"})
    assert response.status_code == 200
    assert error_summary(response) == ["Only £400 of this grant is left to allocate"]
    assert count(db, Allocation) == 1 and audit_count(db) == before

    response = submit(coordinator, path, {"target": f"course-{w.course.id}", "amount": "£400"})
    assert response.status_code == 302 and response.location == f"/grants/{w.grant.id}"
    page = plain(coordinator.get(response.location))
    assert "Allocated £1,000 (£0 not yet allocated)" in page
    assert "Safety Planning £400.00 £0.00 £400.00" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "Enter an amount with no more than 2 decimal places, like 12.34"),
        ("lots", "Enter an amount in pounds, like 1,234.56"),
        ("-1", "Enter an amount of zero or more"),
    ],
)
def test_bad_allocation_amounts_are_refused(db, w, coordinator, typed, message):
    response = submit(
        coordinator, f"/grants/{w.grant.id}/allocations/new", {"target": f"programme-{w.programme.id}", "amount": typed}
    )
    assert error_summary(response) == [message] and field_error(response, "amount") == message
    assert count(db, Allocation) == 0


# --- costs --------------------------------------------------------------------------


@pytest.fixture
def allocation(db, w):
    allocation = Allocation(grant=w.grant, programme=w.programme, amount_pence=100_00)
    db.session.add(allocation)
    db.session.commit()
    return allocation


def cost_form(allocation, **changes):
    data = {
        "allocation": str(allocation.id),
        "category": "venue",
        "amount": "£150.00",
        "state": "committed",
        "incurred_on": date_boxes(date(2030, 3, 11)),
        "supplier": "Town Hall",
        "reference": "PO-17",
        "override_reason": "",
    }
    data.update(changes)
    return data


def test_a_cost_over_its_allocation_is_refused_then_accepted_with_a_reason_and_flagged(db, w, coordinator, allocation):
    path = f"/costs/new?session_id={w.session.id}"
    before = audit_count(db)
    response = submit(coordinator, path, cost_form(allocation))
    message = (
        "This takes the allocation £50 over its £100. Give a reason to record the overspend, or charge it elsewhere"
    )
    assert response.status_code == 200
    assert error_summary(response) == [message]
    assert field_error(response, "override_reason") == message
    assert count(db, CostLine) == 0 and audit_count(db) == before

    response = submit(coordinator, path, cost_form(allocation, override_reason="The only room left in town"))
    assert response.status_code == 302 and response.location == f"/grants/{w.grant.id}"
    cost = db.session.scalars(sa.select(CostLine)).one()
    assert (cost.amount_pence, cost.override_reason, cost.session_id) == (
        150_00,
        "The only room left in town",
        w.session.id,
    )
    page = plain(coordinator.get(response.location))
    assert "The cost has been added." in page
    assert "Family Practice Overspent £100.00 £150.00 -£50.00" in page
    assert "Over allocation: The only room left in town" in page
    assert "Overspent by" not in page  # the grant itself (£1,000) is not overspent
    overview = plain(coordinator.get("/funding"))
    assert "Lottery 2030 National Lottery · Awarded £1,000.00 £100.00 £150.00 £0.00 £850.00" in overview


def test_a_cost_within_its_allocation_needs_no_reason_and_is_not_flagged(db, w, coordinator, allocation):
    response = submit(coordinator, f"/costs/new?session_id={w.session.id}", cost_form(allocation, amount="100"))
    assert response.status_code == 302
    page = plain(coordinator.get(response.location))
    assert "Overspent" not in page and "Over allocation" not in page


def test_a_closed_grant_takes_no_costs(db, w, coordinator, allocation):
    w.grant.status = GrantStatus.CLOSED
    db.session.commit()
    path = f"/costs/new?session_id={w.session.id}"
    form = coordinator.get(path).get_data(as_text=True)
    assert f'value="{allocation.id}"' not in form  # not offered
    before = audit_count(db)
    response = submit(coordinator, path, cost_form(allocation, amount="10"))
    assert response.status_code == 200 and error_summary(response)
    assert field_error(response, "allocation")
    assert count(db, CostLine) == 0 and audit_count(db) == before


def test_a_cost_outside_the_grants_window_is_refused(db, w, coordinator, allocation):
    response = submit(
        coordinator,
        f"/costs/new?session_id={w.session.id}",
        cost_form(allocation, amount="10", incurred_on=date_boxes(date(2031, 1, 1))),
    )
    message = "The date is outside the grant's delivery window (1 January 2030 to 31 December 2030)"
    assert error_summary(response) == [message] and field_error(response, "incurred_on") == message
    assert count(db, CostLine) == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "Enter an amount with no more than 2 decimal places, like 12.34"),
        ("£ten", "Enter an amount in pounds, like 1,234.56"),
        ("-10", "Enter an amount of zero or more"),
        ("0", "Enter an amount more than zero"),
    ],
)
def test_bad_cost_amounts_are_refused(db, w, coordinator, allocation, typed, message):
    response = submit(coordinator, f"/costs/new?session_id={w.session.id}", cost_form(allocation, amount=typed))
    assert error_summary(response) == [message] and field_error(response, "amount") == message
    assert count(db, CostLine) == 0


def test_a_cost_on_a_programme_and_marked_paid(db, w, coordinator, allocation):
    response = submit(
        coordinator,
        f"/costs/new?programme_id={w.programme.id}",
        cost_form(allocation, amount="40", category="materials"),
    )
    assert response.status_code == 302
    cost = db.session.scalars(sa.select(CostLine)).one()
    assert (cost.programme_id, cost.session_id, cost.state) == (w.programme.id, None, CostState.COMMITTED)
    response = submit(coordinator, f"/costs/{cost.id}/paid", {}, form_page=f"/grants/{w.grant.id}")
    assert response.status_code == 302
    page = plain(coordinator.get(response.location))
    assert "The cost is marked paid." in page and "Paid £40" in page


def test_a_cost_on_another_programmes_allocation_is_refused_at_the_field(db, w, coordinator, allocation):
    other = make_session(
        course=make_course(programme=make_programme("Youth Work"), title="Youth Voice"), starts_at=MARCH, hours=2
    )
    db.session.commit()
    before = audit_count(db)
    response = submit(coordinator, f"/costs/new?session_id={other.id}", cost_form(allocation, amount="10"))
    message = "Choose an allocation for Youth Voice or its programme, Youth Work: this one is for Family Practice"
    assert response.status_code == 200
    assert error_summary(response) == [message] and field_error(response, "allocation") == message
    assert count(db, CostLine) == 0 and audit_count(db) == before


def test_a_cost_on_a_course_allocation_must_be_for_that_course(db, w, coordinator):
    sibling = make_course(programme=w.programme, title="Risk Assessment")
    for_sibling = Allocation(grant=w.grant, course=sibling, amount_pence=100_00)
    db.session.add(for_sibling)
    db.session.commit()
    path = f"/costs/new?session_id={w.session.id}"
    assert f'value="{for_sibling.id}"' not in coordinator.get(path).get_data(as_text=True)  # not offered
    response = submit(coordinator, path, cost_form(for_sibling, amount="10"))
    message = (
        "Choose an allocation for Safety Planning or its programme, Family Practice: this one is for Risk Assessment"
    )
    assert error_summary(response) == [message] and field_error(response, "allocation") == message
    response = submit(coordinator, f"/funding/programmes/{w.programme.id}", cost_form(for_sibling, amount="10"))
    assert error_summary(response) == [
        "Choose an allocation for the programme Family Practice: this one is for Risk Assessment"
    ]
    assert count(db, CostLine) == 0


def test_a_programme_level_cost_is_added_from_the_programmes_funding_page(db, w, coordinator, allocation):
    overview = coordinator.get("/funding").get_data(as_text=True)
    assert f'href="/funding/programmes/{w.programme.id}"' in overview
    path = f"/funding/programmes/{w.programme.id}"
    page = coordinator.get(path)
    assert page.status_code == 200 and "Add a cost for the whole programme" in plain(page)
    response = submit(
        coordinator, path, cost_form(allocation, amount="60", category="licences", supplier="Licensing Ltd")
    )
    assert response.status_code == 302 and response.location == path
    cost = db.session.scalars(sa.select(CostLine)).one()
    assert (cost.programme_id, cost.session_id, cost.amount_pence) == (w.programme.id, None, 60_00)
    text = plain(coordinator.get(path))
    assert "The cost has been added." in text and "Licensing Ltd" in text and "£60.00" in text


def test_money_worked_out_by_division_is_rounded_half_up_to_the_penny(db, w, coordinator, allocation, monkeypatch):
    from trainapp.bookings.models import AttendanceStatus
    from trainapp.catalogue.models import SessionStatus

    delivered = make_session(
        course=w.course,
        starts_at=datetime(2030, 1, 1, 10, tzinfo=UTC),
        hours=2,
        capacity=2,
        status=SessionStatus.DELIVERED,
    )
    for n in range(2):
        db.session.add(
            Booking(
                session=delivered,
                user=make_user(agency=w.police),
                agency_id=w.police.id,
                status=BookingStatus.CONFIRMED,
                attendance=AttendanceStatus.ATTENDED,
            )
        )
    db.session.commit()
    response = submit(
        coordinator,
        f"/costs/new?session_id={delivered.id}",
        cost_form(allocation, amount="0.05", incurred_on=date_boxes(date(2030, 1, 1))),
    )
    assert response.status_code == 302
    monkeypatch.setattr("trainapp.funding.routes._today", lambda: date(2030, 1, 2))
    # 5p over 2 places, and over 2 learners who came: 2.5p each, which is 3p, not 2p.
    overview = plain(coordinator.get("/funding"))
    assert "Family Practice 1 2 2 £0.05 £0.03 £0.03" in overview
    # 5p in the first 2 of 365 days: 5 × 365 ÷ 2 = 912.5p by the end, which is £9.13.
    assert "Forecast spend by the end £9.13" in plain(coordinator.get(f"/grants/{w.grant.id}"))


# --- charges, statements and CSV ------------------------------------------------------


def charge(db, agency, *, name, amount=35_00, status=ChargeStatus.RAISED, raised_at=MARCH, reason=None, course=None):
    session = make_session(course=course, starts_at=raised_at - timedelta(days=1), hours=3)
    person = make_user(agency=agency, name=name)
    booking = Booking(session=session, user=person, agency_id=agency.id, status=BookingStatus.CONFIRMED)
    db.session.add(booking)
    made = Charge(
        booking=booking,
        agency_id=agency.id,
        reason=ChargeReason.NO_SHOW,
        amount_pence=amount,
        status=status,
        raised_at=raised_at,
        decided_reason=reason,
    )
    db.session.add(made)
    db.session.flush()
    return made


@pytest.fixture
def charges_world(db, w):
    w.ana = charge(db, w.police, name="Ana Ahmed", amount=35_00)
    w.ben = charge(db, w.police, name="Ben Brook", amount=50_00, status=ChargeStatus.WAIVED, reason="Snow")
    w.hyperlink = charge(db, w.police, name=HYPERLINK, amount=90_00)
    w.april = charge(db, w.police, name="Ava April", raised_at=datetime(2030, 4, 2, tzinfo=UTC))
    w.cat = charge(db, w.council, name="Cat Cole", amount=90_00)
    db.session.commit()
    return w


def statement_names(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [unescape(n) for n in re.findall(r'data-label="Learner">(.*?)</td>', html)]


def test_an_agency_lead_sees_only_their_agencys_statement(db, app, charges_world):
    w = charges_world
    lead = signed_in(fresh_client(app), w.police_lead)
    first = lead.get("/charges/statement")
    html = first.get_data(as_text=True)
    assert "Downs Council" not in html  # the only agency offered is the lead's own
    assert re.findall(r"<option[^>]*>([^<]*)</option>", html) == ["Choose an agency", "Wessex Police"]
    assert f'<option value="{w.police.id}" selected>Wessex Police</option>' in html
    page = lead.get(f"/charges/statement?agency={w.police.id}&month=2030-03")
    assert page.status_code == 200
    assert statement_names(page) == ["Ana Ahmed", "Ben Brook", HYPERLINK]
    text = plain(page)
    assert "Wessex Police, March 2030" in text
    assert "To pay: <strong>£125</strong>. Waived: £50." in page.get_data(as_text=True)
    assert "Cat Cole" not in text and "Ava April" not in text


@pytest.mark.parametrize("path", ["/charges/statement", "/charges/statement.csv"])
def test_a_forged_agency_id_from_an_agency_lead_is_forbidden(db, app, charges_world, path):
    w = charges_world
    lead = signed_in(fresh_client(app), w.police_lead)
    response = lead.get(f"{path}?agency={w.council.id}&month=2030-03")
    assert response.status_code == 403
    assert "Cat Cole" not in response.get_data(as_text=True)


def test_the_statement_csv_for_a_lead_holds_their_agencys_rows_safely(db, app, charges_world):
    w = charges_world
    lead = signed_in(fresh_client(app), w.police_lead)
    response = lead.get(f"/charges/statement.csv?agency={w.police.id}&month=2030-03")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="charges-Wessex-Police-2030-03.csv"'
    rows = read_csv(response)
    assert rows[0] == ["Raised", "Learner", "Course", "Session date", "Reason", "Status", "Amount (£)", "Waiver reason"]
    # Money as plain numbers a spreadsheet sums; statuses as the page shows them.
    assert [(r[1], r[4], r[5], r[6], r[7]) for r in rows[1:]] == [
        ("Ana Ahmed", "No-show", "Raised", "35.00", ""),
        ("Ben Brook", "No-show", "Waived", "50.00", "Snow"),
        ("'" + HYPERLINK, "No-show", "Raised", "90.00", ""),  # a formula exported as text
    ]
    # Dates in ISO 8601, which every spreadsheet reads as a date.
    assert rows[1][0] == "2030-03-12" and rows[1][3] == "2030-03-11"
    page = plain(lead.get(f"/charges/statement?agency={w.police.id}&month=2030-03"))
    assert "No-show £35.00 Raised" in page and "No-show £50.00 Waived" in page


def test_a_coordinator_sees_any_agencys_statement(db, app, charges_world, coordinator):
    w = charges_world
    page = coordinator.get(f"/charges/statement?agency={w.council.id}&month=2030-03")
    assert statement_names(page) == ["Cat Cole"]
    assert "To pay: <strong>£90</strong>. Waived: £0." in page.get_data(as_text=True)
    rows = read_csv(coordinator.get(f"/charges/statement.csv?agency={w.council.id}&month=2030-03"))
    assert [r[1] for r in rows[1:]] == ["Cat Cole"]


def test_a_statement_csv_is_named_after_any_agency_however_it_is_written(db, app, w, coordinator):
    agency = make_agency("Gwasanaeth Tân ac Achub — Łódź 🚒")
    charge(db, agency, name="Dai Jones")
    db.session.commit()
    response = coordinator.get(f"/charges/statement.csv?agency={agency.id}&month=2030-03")
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    # Programs that know RFC 6266 read the real name from filename* (UTF-8, percent-encoded)...
    assert parse_options_header(header) == (
        "attachment",
        {"filename": "charges-Gwasanaeth-Tân-ac-Achub-—-Łódź-🚒-2030-03.csv"},
    )
    assert (
        "filename*=UTF-8''charges-Gwasanaeth-T%C3%A2n-ac-Achub-%E2%80%94-%C5%81%C3%B3d%C5%BA-%F0%9F%9A%92-2030-03.csv"
        in header
    )
    # ...and older ones get a plain ASCII name.
    assert header.startswith('attachment; filename="charges-Gwasanaeth-Tan-ac-Achub--odz--2030-03.csv"; ')
    assert header.isascii()


def test_a_statement_with_no_agency_chosen_asks_for_one(db, app, charges_world, coordinator):
    page = coordinator.get("/charges/statement?agency=0&month=2030-03")
    assert page.status_code == 200 and error_summary(page) == ["Choose an agency"]
    assert coordinator.get("/charges/statement.csv?agency=0&month=2030-03").status_code == 400


def charge_rows(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", n))).strip()
        for n in re.findall(r'data-label="Learner">(.*?)<br>', html, flags=re.S)
    ]


def test_an_agency_lead_sees_only_their_agencys_charges_and_cannot_waive(db, app, charges_world):
    w = charges_world
    lead = signed_in(fresh_client(app), w.police_lead)
    for path in ("/charges", f"/charges?agency={w.council.id}"):
        page = lead.get(path)
        assert page.status_code == 200
        assert charge_rows(page) == ["Ava April", HYPERLINK, "Ben Brook", "Ana Ahmed"]
        assert "Cat Cole" not in plain(page) and "/waive" not in page.get_data(as_text=True)
    assert plain(lead.get("/charges")).count("Waived: Snow") == 1
    council_lead = signed_in(fresh_client(app), w.council_lead)
    assert charge_rows(council_lead.get("/charges")) == ["Cat Cole"]


def test_a_coordinator_sees_every_charge_and_can_filter_by_agency_and_month(db, charges_world, coordinator):
    w = charges_world
    # Newest first: April's, then March's (raised at the same moment) latest recorded first.
    assert charge_rows(coordinator.get("/charges")) == ["Ava April", "Cat Cole", HYPERLINK, "Ben Brook", "Ana Ahmed"]
    assert charge_rows(coordinator.get(f"/charges?agency={w.council.id}")) == ["Cat Cole"]
    assert charge_rows(coordinator.get(f"/charges?agency={w.police.id}&month=2030-04")) == ["Ava April"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_waiving_without_a_reason_shows_an_error_and_changes_nothing(db, charges_world, coordinator, reason):
    w = charges_world
    before = audit_count(db)
    response = submit(coordinator, f"/charges/{w.ana.id}/waive", {"reason": reason})
    assert response.status_code == 200
    assert error_summary(response) == ["Enter the reason for waiving this charge"]
    assert field_error(response, "reason") == "Enter the reason for waiving this charge"
    db.session.expire_all()
    assert db.session.get(Charge, w.ana.id).status == ChargeStatus.RAISED and audit_count(db) == before


def test_a_charge_is_waived_with_a_reason(db, charges_world, coordinator):
    w = charges_world
    response = submit(coordinator, f"/charges/{w.ana.id}/waive", {"reason": "Her train was cancelled"})
    assert response.status_code == 302 and response.location == "/charges"
    page = plain(coordinator.get("/charges"))
    assert "The charge of £35 has been waived." in page
    assert "Waived: Her train was cancelled" in page
    db.session.expire_all()
    charge = db.session.get(Charge, w.ana.id)
    assert (charge.status, charge.decided_by_id) == (ChargeStatus.WAIVED, w.coordinator.id)


def test_waiving_an_already_waived_charge_says_so(db, charges_world, coordinator):
    w = charges_world
    response = submit(coordinator, f"/charges/{w.ben.id}/waive", {"reason": "Again"})
    assert error_summary(response) == ["A waived charge cannot become waived"]


def test_an_agency_lead_cannot_waive_their_own_charge(db, app, charges_world):
    w = charges_world
    lead = signed_in(fresh_client(app), w.police_lead)
    token = csrf_token(lead.get("/charges"))
    before = audit_count(db)
    response = lead.post(f"/charges/{w.ana.id}/waive", data={"csrf_token": token, "reason": "Please"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Charge, w.ana.id).status == ChargeStatus.RAISED and audit_count(db) == before


# --- queries per page ---------------------------------------------------------------------


def _more_money(db, w, n, first=0):
    for i in range(first, first + n):
        programme = make_programme(f"Programme {i:02}")
        course = make_course(programme=programme)
        grant = Grant(
            name=f"Grant {i:02}",
            funder="Funder",
            amount_pence=1_000_00,
            starts_on=date(2030, 1, 1),
            ends_on=date(2030, 12, 31),
            status=GrantStatus.AWARDED,
        )
        allocation = Allocation(grant=grant, programme=programme, amount_pence=500_00)
        session = make_session(course=course, starts_at=MARCH, hours=2)
        db.session.add_all(
            [
                grant,
                allocation,
                CostLine(
                    allocation=allocation,
                    session=session,
                    category=CostCategory.TRAINER,
                    amount_pence=100_00 + i,
                    state=CostState.PAID if i % 2 else CostState.COMMITTED,
                    incurred_on=date(2030, 3, 1),
                ),
            ]
        )
        charge(db, w.police if i % 2 else w.council, name=f"Learner {i:02}", course=course)
    db.session.commit()


def test_the_dashboard_runs_the_same_queries_for_few_or_many_grants(db, w, coordinator):
    _more_money(db, w, 1)
    with counting_queries(db.engine) as few:
        assert coordinator.get("/funding").status_code == 200
    _more_money(db, w, 20, first=1)
    with counting_queries(db.engine) as many:
        page = coordinator.get("/funding")
    assert "Grant 20" in plain(page) and "Programme 20" in plain(page)
    assert len(many) == len(few), "\n".join(["few:", *few, "", "many:", *many])


def test_the_charges_page_runs_the_same_queries_for_few_or_many_charges(db, app, w, coordinator):
    _more_money(db, w, 2)  # one charge for each agency
    lead = signed_in(fresh_client(app), w.police_lead)
    with counting_queries(db.engine) as few:
        assert coordinator.get("/charges").status_code == 200
    with counting_queries(db.engine) as few_lead:
        assert lead.get("/charges").status_code == 200
    _more_money(db, w, 24, first=2)
    with counting_queries(db.engine) as many:
        page = coordinator.get("/charges")
    with counting_queries(db.engine) as many_lead:
        lead.get("/charges")
    assert len(charge_rows(page)) == 25  # one page of 26
    assert len(charge_rows(lead.get("/charges"))) == 13
    assert len(many) == len(few), "\n".join(["few:", *few, "", "many:", *many])
    assert len(many_lead) == len(few_lead)
