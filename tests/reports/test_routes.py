"""Report pages as coordinators and agency leads use them: periods, bad input, CSV files,
the printable page, charts, and coverage targets.

Who may open each page at all is covered by tests/core/test_access.py; the figures themselves
by test_queries.py. Here, what each person sees and downloads, and what bad input does.
"""

import colorsys
import csv
import io
import re
from datetime import UTC, date, datetime, time
from html import unescape

import pytest
import sqlalchemy as sa

from tests import pages
from tests.factories import (
    csrf_token,
    fresh_client,
    make_agency,
    make_course,
    make_programme,
    make_session,
    make_user,
    sign_in,
)
from tests.pages import error_summary, parse, plain, table
from tests.support import counting_queries
from trainapp.accounts.models import AgencyKind, Role
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.reports.models import CoverageTarget
from trainapp.timezones import local_to_utc

PROBLEM = "There is a problem"
# Friday 20 June 2025, 1pm in London.
NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://evil.example/pay","Pay here")'
AWKWARD_AGENCY = 'Smith, Jones & "Partners"\nCommunity Interest Company'
AGENCY_COLUMNS = [
    "Agency",
    "Booked",
    "Attended",
    "Show rate",
    "No-shows",
    "Walk-ins",
    "Access needs requested",
    "Access needs arranged",
]


# --- helpers ---------------------------------------------------------------------------------


def field_error(response, field_id) -> str | None:
    """The message beside one field, without the "Error:" that screen readers hear first."""
    shown = pages.field_error(response, field_id)
    return shown.replace("Error:", "").strip() if shown is not None else None


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def period_shown(response) -> str:
    return parse(response).select_one('h2[class="govuk-heading-m"]').get_text()


def dates(start: date, end: date) -> str:
    return f"start={start.day}&start={start.month}&start={start.year}&end={end.day}&end={end.month}&end={end.year}"


def signed_in(app, user):
    client = fresh_client(app)
    assert sign_in(client, user).location == "/"
    return client


def book(db, session, person, attendance=None, **kw):
    db.session.add(
        Booking(
            session=session,
            user=person,
            agency_id=person.agency_id,
            booked_by=person,
            status=BookingStatus.CONFIRMED,
            attendance=attendance,
            **kw,
        )
    )


class World:
    """The partnership on 20 June 2025: two agencies with leads, an agency whose name needs
    quoting in CSV, a course whose title is a spreadsheet formula, one session in May."""

    def __init__(self, db):
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.police = make_agency("Wessex Police")
        self.council = make_agency("Downs Council", kind=AgencyKind.COUNCIL)
        self.awkward = make_agency(AWKWARD_AGENCY, kind=AgencyKind.VOLUNTARY)
        self.police_lead = make_user(Role.AGENCY_LEAD, agency=self.police, name="Pat Lead")
        self.council_lead = make_user(Role.AGENCY_LEAD, agency=self.council, name="Cy Lead")
        self.programme = make_programme("Domestic Abuse Act training")
        self.course = make_course(programme=self.programme, title=HYPERLINK, refresher_months=12)
        self.other_course = make_course(programme=self.programme, title="Coercive Control")
        self.session = make_session(
            self.course,
            local_to_utc(date(2025, 5, 14), time(9, 30)),
            hours=3,
            capacity=10,
            status=SessionStatus.DELIVERED,
        )
        for n in range(3):
            book(db, self.session, make_user(agency=self.police, name=f"Police {n}"), AttendanceStatus.ATTENDED)
        book(db, self.session, make_user(agency=self.council, name="Council 1"), AttendanceStatus.NO_SHOW)
        book(db, self.session, make_user(agency=self.awkward, name="Awkward 1"), AttendanceStatus.ATTENDED)
        for agency, needed in ((self.police, 6), (self.council, 2), (self.awkward, 1)):
            db.session.add(CoverageTarget(agency=agency, course=self.course, staff_needed=needed))
        db.session.commit()


@pytest.fixture
def w(db, monkeypatch):
    monkeypatch.setattr("trainapp.reports.routes.utcnow", lambda: NOW)
    return World(db)


@pytest.fixture
def coordinator(app, w):
    return signed_in(app, w.coordinator)


@pytest.fixture
def police_lead(app, w):
    return signed_in(app, w.police_lead)


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "preset", "period"),
    [
        (datetime(2025, 2, 10, 12, tzinfo=UTC), "this-quarter", "1 January 2025 to 31 March 2025"),
        (datetime(2025, 2, 10, 12, tzinfo=UTC), "last-quarter", "1 October 2024 to 31 December 2024"),
        (datetime(2025, 2, 10, 12, tzinfo=UTC), "this-year", "1 April 2024 to 31 March 2025"),
        (datetime(2025, 2, 10, 12, tzinfo=UTC), "last-year", "1 April 2023 to 31 March 2024"),
        (datetime(2025, 2, 10, 12, tzinfo=UTC), None, "1 April 2024 to 31 March 2025"),  # the page's default
        (datetime(2025, 1, 5, 12, tzinfo=UTC), "last-quarter", "1 October 2024 to 31 December 2024"),
        # 23:30 UTC on 31 March is 00:30 on 1 April in London: a new quarter and financial year.
        (datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "this-quarter", "1 April 2025 to 30 June 2025"),
        (datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "this-year", "1 April 2025 to 31 March 2026"),
        (datetime(2025, 3, 31, 22, 30, tzinfo=UTC), "this-year", "1 April 2024 to 31 March 2025"),
    ],
)
def test_presets_cover_quarters_and_financial_years_from_today(app, w, monkeypatch, now, preset, period):
    monkeypatch.setattr("trainapp.reports.routes.utcnow", lambda: now)
    client = signed_in(app, w.coordinator)
    response = client.get("/reports/board" + (f"?preset={preset}" if preset else ""))
    assert response.status_code == 200
    assert period_shown(response) == period


def test_dates_typed_in_choose_the_period(coordinator):
    response = coordinator.get(f"/reports/board?{dates(date(2025, 5, 1), date(2025, 5, 31))}")
    assert response.status_code == 200
    assert "1 May 2025 to 31 May 2025" in plain(response)
    assert table(response, "Places by month")[1:] == [["May 2025", "10", "5", "4"]]


EMPTY_BOXES = "start=&start=&start=&end=&end=&end="  # what a browser sends when the boxes are left empty


def boxes_shown(response, name: str) -> list[str]:
    """What the day, month and year boxes of one date field hold on the page."""
    page = parse(response)
    return [page.find("input", id=f"{name}-{part}")["value"] for part in ("day", "month", "year")]


def hidden_value(response, name: str) -> str:
    return parse(response).find("input", attrs={"name": name})["value"]


def selected_period(response) -> str:
    return parse(response).select_one('select[name="preset"] option[selected]').get_text()


@pytest.mark.parametrize("query", ["", "?preset=last-quarter&" + EMPTY_BOXES, "?preset=this-year"])
def test_the_date_boxes_always_show_the_period_the_figures_cover(coordinator, query):
    response = coordinator.get("/reports/board" + query)
    assert response.status_code == 200
    start, end = period_shown(response).split(" to ")
    assert (
        " ".join(str(int(n)) for n in boxes_shown(response, "start"))
        == {"1 January 2025": "1 1 2025", "1 April 2025": "1 4 2025"}[start]
    )
    assert (
        " ".join(str(int(n)) for n in boxes_shown(response, "end"))
        == {"31 March 2025": "31 3 2025", "31 March 2026": "31 3 2026"}[end]
    )
    # The period list says which period it is, the page's own default included.
    assert selected_period(response) == ("Last quarter" if "last-quarter" in query else "This financial year")


def test_dates_typed_with_choose_dates_below_win(coordinator):
    response = coordinator.get(f"/reports/board?preset=&{dates(date(2025, 5, 1), date(2025, 5, 31))}")
    assert response.status_code == 200
    assert period_shown(response) == "1 May 2025 to 31 May 2025"
    assert selected_period(response) == "Choose dates below"


def test_choosing_another_period_replaces_the_dates_the_page_filled_in(coordinator):
    first = coordinator.get("/reports/board?preset=this-year")
    # The browser sends the new period with the boxes as the page filled them.
    again = coordinator.get(
        "/reports/board?preset=last-quarter&start=01&start=04&start=2025&end=31&end=03"
        f"&end=2026&shown={hidden_value(first, 'shown')}"
    )
    assert again.status_code == 200
    assert period_shown(again) == "1 January 2025 to 31 March 2025"
    assert boxes_shown(again, "start") == ["01", "01", "2025"]


def test_a_period_chosen_together_with_other_typed_dates_is_refused_at_the_field(coordinator):
    response = coordinator.get(f"/reports/board?preset=this-quarter&{dates(date(2025, 5, 1), date(2025, 5, 31))}")
    message = 'Choose "Choose dates below" to report on the dates you typed, or clear the dates'
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert field_error(response, "preset") == message
    assert "Summary" not in plain(response)  # no figures for a period nobody can tell


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=aa&start=5&start=2025&end=31&end=5&end=2025", "start", "From must be a real date, like 27 3 2027"),
        ("start=1&start=5&start=2025&end=1&end=13&end=2025", "end", "To must be a real date, like 27 3 2027"),
        (dates(date(2025, 5, 10), date(2025, 5, 1)), "end", "The end date must be on or after the start date"),
        ("preset=&" + EMPTY_BOXES, "start", "Enter both dates, or choose a period"),
    ],
)
def test_malformed_or_backwards_dates_are_explained_beside_the_field(coordinator, query, field, message):
    response = coordinator.get(f"/reports/board?{query}")
    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert field_error(response, field) == message


def reserve(db, session, agency, places, bookings_on_hold):
    from trainapp.bookings.models import AgencyReservation

    db.session.add(AgencyReservation(session=session, agency=agency, places=places, release_at=session.starts_at))
    held = db.session.scalars(
        sa.select(Booking).where(Booking.session_id == session.id, Booking.agency_id == agency.id)
    ).all()
    for booking in held[:bookings_on_hold]:
        booking.reserved_for_agency_id = agency.id
    db.session.commit()


def summary_rows(response) -> dict[str, str]:
    return dict(table(response, "Summary"))


def test_an_agencys_rates_divide_by_its_own_bookings_and_places(db, w, coordinator, police_lead):
    # 4 of the session's 10 places were held for the police, who filled 2 of them (3 booked in all).
    reserve(db, w.session, w.police, 4, 2)
    query = dates(date(2025, 5, 1), date(2025, 5, 31))
    for client, page in (
        (coordinator, f"/reports/board?agency={w.police.id}&{query}"),
        (police_lead, f"/reports/board?{query}"),
    ):
        rows = summary_rows(client.get(page))
        assert rows["Places held for Wessex Police"] == "4"
        assert rows["Places booked by Wessex Police"] == "3"
        assert rows["Fill rate (places held for Wessex Police that it booked ÷ places held for it)"] == "50%"
        assert rows["Show rate (Wessex Police's people who attended ÷ places it booked)"] == "100%"
        assert rows["Places offered (all agencies)"] == "10"
        assert "30%" not in rows.values()  # never its bookings over everyone's places
        csv_rows = dict(read_csv(client.get(page.replace("/board?", "/board.csv?table=summary&")))[1:])
        assert csv_rows["Fill rate (places held for Wessex Police that it booked ÷ places held for it)"] == "50%"
    everyone = summary_rows(coordinator.get(f"/reports/board?{query}"))
    assert everyone["Fill rate (places booked ÷ places offered)"] == "50%"
    assert everyone["Show rate (people who attended ÷ places booked)"] == "80%"


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (dates(date(2025, 5, 10), date(2025, 5, 1)), "The end date must be on or after the start date"),
        (dates(date(2015, 4, 1), date(2025, 4, 2)), "A report can cover at most 10 years"),
        (dates(date(1900, 1, 1), date(2025, 4, 2)), "A report can cover at most 10 years"),
        ("start=1&start=5&start=2025", "Enter both dates, or choose a period"),
        ("start=31&start=2&start=2025&end=1&end=3&end=2025", "From must be a real date, like 27 3 2027"),
        ("preset=next-decade", "Choose period from the list"),
    ],
)
def test_a_period_that_cannot_be_reported_is_explained(coordinator, query, message):
    response = coordinator.get(f"/reports/board?{query}")
    assert response.status_code == 400
    assert PROBLEM in plain(response)
    assert error_summary(response) == [message]
    # The CSV of the same period is refused too, rather than quietly giving another period.
    assert coordinator.get(f"/reports/board.csv?table=summary&{query}").status_code == 400


def test_ten_years_exactly_is_allowed(coordinator):
    response = coordinator.get(f"/reports/board?{dates(date(2015, 4, 1), date(2025, 3, 31))}")
    assert response.status_code == 200
    assert "1 April 2015 to 31 March 2025" in plain(response)


@pytest.mark.parametrize(
    "query",
    [
        "programme=999999",
        "programme=first",
        "agency=999999",
        "agency=police",
        "preset=this-year&programme=-1",
    ],
)
def test_an_unknown_programme_or_agency_is_a_bad_request(coordinator, query):
    assert coordinator.get(f"/reports/board?{query}").status_code == 400
    assert coordinator.get(f"/reports/board.csv?{query}").status_code == 400


@pytest.mark.parametrize("query", ["table=bogus", "table=", "table=summary%00"])
def test_an_unknown_csv_table_is_a_bad_request(coordinator, query):
    assert coordinator.get(f"/reports/board.csv?{query}").status_code == 400


@pytest.mark.parametrize("query", ["sort=not-a-column", "sort=", "sort=agency.name"])
def test_coverage_sorted_by_something_that_is_not_a_column_is_a_bad_request(coordinator, query):
    assert coordinator.get(f"/reports/coverage?{query}").status_code == 400


@pytest.mark.parametrize("query", ["agency=999999", "agency=police"])
def test_coverage_of_an_unknown_agency_is_a_bad_request(coordinator, query):
    assert coordinator.get(f"/reports/coverage?{query}").status_code == 400
    assert coordinator.get(f"/reports/coverage.csv?{query}").status_code == 400


def test_coverage_sorts_by_what_is_still_to_train(coordinator):
    response = coordinator.get("/reports/coverage?sort=gap")
    assert response.status_code == 200
    assert [row[0] for row in table(response, "Coverage")[1:]] == [
        "Wessex Police",
        "Downs Council",
        AWKWARD_AGENCY.replace("\n", " "),
    ]  # 3, 2 and 0 still to train


# --- CSV ------------------------------------------------------------------------------------


def test_csv_is_utf8_with_a_bom_and_rfc4180_quoting(coordinator):
    response = coordinator.get(f"/reports/board.csv?table=agencies&{dates(date(2025, 5, 1), date(2025, 5, 31))}")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    # A comma, quotes and a line break: the field is quoted, its quotes doubled, the break kept.
    assert b'"Smith, Jones & ""Partners""\nCommunity Interest Company",1,1,100%,0,0,0,0\r\n' in raw
    assert read_csv(response) == [
        AGENCY_COLUMNS,
        ["Downs Council", "1", "0", "0%", "1", "0", "0", "0"],
        [AWKWARD_AGENCY, "1", "1", "100%", "0", "0", "0", "0"],
        ["Wessex Police", "3", "3", "100%", "0", "0", "0", "0"],
    ]


def test_a_course_title_that_is_a_formula_is_exported_as_text(coordinator):
    rows = read_csv(coordinator.get("/reports/coverage.csv"))
    assert rows[0] == [
        "Agency",
        "Course",
        "Staff needed",
        "Trained and in date",
        "Due within 90 days",
        "Overdue",
        "Still to train",
    ]
    assert [row[1] for row in rows[1:]] == ["'" + HYPERLINK] * 3
    assert ["Wessex Police", "'" + HYPERLINK, "6", "3", "0", "0", "3"] in rows


@pytest.mark.parametrize("name", ["=SUM(A1:A9)", "+44 1202 000000", "-1 programme", "@risk", "\tTabbed", "\rReturned"])
def test_every_cell_that_could_start_a_formula_is_neutralised(db, coordinator, name):
    make_programme(name)
    db.session.commit()
    rows = read_csv(coordinator.get("/reports/board.csv?table=programmes&preset=this-year"))
    assert ["'" + name, "0", "0", "0", "0", "–"] in rows
    # Numbers stay numbers, and names that are not formulas are left alone.
    assert ["Domestic Abuse Act training", "1", "10", "5", "4", "80%"] in rows


def test_each_table_of_the_board_report_downloads(coordinator):
    query = dates(date(2025, 4, 1), date(2025, 6, 30))
    summary = dict(read_csv(coordinator.get(f"/reports/board.csv?table=summary&{query}"))[1:])
    assert (
        summary["Sessions run"],
        summary["Places offered"],
        summary["Places booked"],
        summary["Attended (in full or in part)"],
    ) == ("1", "10", "5", "4")
    assert (
        summary["Fill rate (places booked ÷ places offered)"],
        summary["Show rate (people who attended ÷ places booked)"],
        summary["No-shows"],
    ) == ("50%", "80%", "1")
    # Money as plain numbers under a header naming the unit, so a spreadsheet sums it.
    assert (summary["Costs committed (£)"], summary["Charges raised (£)"], summary["Charges raised"]) == (
        "0.00",
        "0.00",
        "0",
    )
    assert read_csv(coordinator.get(f"/reports/board.csv?table=months&{query}")) == [
        ["Month", "Offered", "Booked", "Attended"],
        ["2025-04", "0", "0", "0"],
        ["2025-05", "10", "5", "4"],
        ["2025-06", "0", "0", "0"],
    ]
    assert read_csv(coordinator.get(f"/reports/board.csv?table=absence&{query}")) == [
        ["Reason for absence", "Number"],
        ["No-show", "1"],
        ["Late and turned away", "0"],
        ["Unable to attend (gave notice)", "0"],
        ["Late cancellation", "0"],
    ]


# --- agency leads: their own agency only ----------------------------------------------------------


def test_an_agency_leads_board_csvs_hold_only_their_agency(police_lead):
    query = dates(date(2025, 4, 1), date(2025, 6, 30))
    assert read_csv(police_lead.get(f"/reports/board.csv?table=agencies&{query}")) == [
        AGENCY_COLUMNS,
        ["Wessex Police", "3", "3", "100%", "0", "0", "0", "0"],
    ]
    summary = dict(read_csv(police_lead.get(f"/reports/board.csv?table=summary&{query}"))[1:])
    assert (
        summary["Places booked by Wessex Police"],
        summary["Attended (in full or in part), Wessex Police"],
        summary["No-shows"],
    ) == ("3", "3", "0")
    assert "Costs committed (£)" not in summary  # the partnership's costs are not one agency's business
    assert read_csv(police_lead.get(f"/reports/board.csv?table=months&{query}"))[2] == ["2025-05", "10", "3", "3"]
    assert read_csv(police_lead.get(f"/reports/board.csv?table=programmes&{query}"))[1] == [
        "Domestic Abuse Act training",
        "1",
        "10",
        "3",
        "3",
        "100%",
    ]


def test_an_agency_lead_cannot_ask_for_another_agencys_figures(w, police_lead):
    assert police_lead.get(f"/reports/board.csv?table=agencies&agency={w.council.id}").status_code == 400
    page = police_lead.get("/reports/board?preset=this-year")
    assert [row[0] for row in table(page, "Attendance by agency")[1:]] == ["Wessex Police"]
    assert "Downs Council" not in plain(page)


def test_an_agency_leads_coverage_holds_only_their_agency(w, police_lead):
    for path in ("/reports/coverage.csv", f"/reports/coverage.csv?agency={w.council.id}"):
        assert read_csv(police_lead.get(path))[1:] == [["Wessex Police", "'" + HYPERLINK, "6", "3", "0", "0", "3"]]
    page = police_lead.get(f"/reports/coverage?agency={w.council.id}")
    assert [row[0] for row in table(page, "Coverage")[1:]] == ["Wessex Police"]


# --- the printable page and charts ------------------------------------------------------------------


def test_the_printable_page_has_the_figures_and_nothing_to_click(coordinator):
    response = coordinator.get("/reports/board?preset=last-quarter&print=1")
    assert response.status_code == 200
    text = plain(response)
    assert "Test Partnership: training report to the board" in text
    assert "1 January 2025 to 31 March 2025" in text
    html = response.get_data(as_text=True)
    assert 'method="get"' not in html  # no filter form: only the header's sign-out button
    assert "Show report" not in text and "Download" not in text and "Printable version" not in text
    assert table(response, "Summary")[0] == ["Sessions run", "0"]


def links(response, text: str) -> list[str]:
    html = response.get_data(as_text=True)
    return [
        unescape(href)
        for href, label in re.findall(r'<a class="govuk-link" href="([^"]*)">(.*?)</a>', html)
        if label.startswith(text)
    ]


def test_the_printable_and_csv_links_keep_the_period_typed_in(coordinator):
    page = coordinator.get(f"/reports/board?{dates(date(2025, 5, 1), date(2025, 5, 31))}")
    [printable_link] = links(page, "Printable version")
    printable = coordinator.get(printable_link)
    assert printable.status_code == 200
    assert period_shown(printable) == "1 May 2025 to 31 May 2025"
    assert table(printable, "Places by month")[1:] == [["May 2025", "10", "5", "4"]]
    csv_links = links(page, "Download")
    assert len(csv_links) == 5
    months = [link for link in csv_links if "table=months" in link]
    assert read_csv(coordinator.get(months[0]))[1:] == [["2025-05", "10", "5", "4"]]


@pytest.mark.parametrize("query", ["print=0", "table=agencies", "print=yes&preset=this-year", "submit=Show+report"])
def test_stray_parameters_on_the_board_page_are_ignored(coordinator, query):
    response = coordinator.get(f"/reports/board?{query}")
    assert response.status_code == 200
    assert period_shown(response) == "1 April 2025 to 31 March 2026"


def test_charts_are_svg_beside_their_data_tables(coordinator):
    response = coordinator.get(f"/reports/board?{dates(date(2025, 4, 1), date(2025, 6, 30))}")
    html = response.get_data(as_text=True)
    charts = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    titles = [unescape(re.search(r"<title>(.*?)</title>", svg, flags=re.S).group(1)) for svg in charts]
    assert titles == ["Places offered, booked and attended by month", "Attendance by agency", "Show rate by programme"]
    months, agencies, programmes = charts
    assert re.findall(r">(\w+ 2025)<", months) == ["April 2025", "May 2025", "June 2025"]
    assert "Wessex Police" in agencies and ">80%<" in programmes
    assert table(response, "Places by month")[1:] == [
        ["April 2025", "0", "0", "0"],
        ["May 2025", "10", "5", "4"],
        ["June 2025", "0", "0", "0"],
    ]
    assert table(response, "Attendance by agency")[1:] == [
        ["Downs Council", "1", "0", "0%", "1", "0", "0"],
        [AWKWARD_AGENCY.replace("\n", " "), "1", "1", "100%", "0", "0", "0"],
        ["Wessex Police", "3", "3", "100%", "0", "0", "0"],
    ]
    assert table(response, "Delivery by programme")[1:] == [["Domestic Abuse Act training", "1", "10", "5", "4", "80%"]]


def board_charts(response) -> list:
    """The charts on the board report, as parsed SVG elements, in page order."""
    return parse(response).find_all("svg")


def colours(svg) -> set[str]:
    return {
        shape[attr]
        for shape in svg.find_all(["rect", "path", "line"])
        for attr in ("fill", "stroke")
        if shape.get(attr, "none") != "none"
    }


def contrast_with_white(colour: str) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def looks_red(colour: str) -> bool:
    hue, lightness, saturation = colorsys.rgb_to_hls(*(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)))
    return saturation > 0.3 and (hue < 25 / 360 or hue > 335 / 360)


BOARD_PERIOD = dates(date(2025, 4, 1), date(2025, 6, 30))


def test_each_chart_is_hidden_from_screen_readers_because_the_table_beside_it_has_its_figures(coordinator):
    response = coordinator.get(f"/reports/board?{BOARD_PERIOD}")
    charts = board_charts(response)
    assert len(charts) == 3
    for svg, caption in zip(charts, ["Places by month", "Attendance by agency", "Delivery by programme"], strict=True):
        assert (svg.get("aria-hidden"), svg.get("focusable"), svg.get("role")) == ("true", "false", None)
        beside = svg.find_parent(class_="govuk-grid-row").find("caption")
        assert re.sub(r"\s+", " ", beside.get_text()).strip() == caption


def test_chart_colours_are_not_error_red_and_stand_out_against_white(coordinator):
    for svg in board_charts(coordinator.get(f"/reports/board?{BOARD_PERIOD}")):
        for colour in colours(svg):
            assert re.fullmatch(r"#[0-9a-f]{6}", colour), colour
            assert not looks_red(colour), f"{colour} reads as an error"
            assert contrast_with_white(colour) >= 3, f"{colour} is too faint against white"


def test_chart_text_is_16px_and_charts_are_drawn_no_wider_than_a_phone(coordinator):
    for svg in board_charts(coordinator.get(f"/reports/board?{BOARD_PERIOD}")):
        sizes = {float(text["font-size"]) for text in svg.find_all("text")}
        assert sizes and min(sizes) >= 16
        # Drawn at its own size and only ever shrunk to fit, so on a 320px screen (290px of
        # content) its text stays at the size written.
        _x, _y, width, height = (float(n) for n in svg["viewbox"].split())
        assert (float(svg["width"]), float(svg["height"])) == (width, height)
        assert width <= 290


def test_long_agency_names_are_wrapped_on_the_chart_not_cut_off(coordinator):
    _months, agencies, _programmes = board_charts(coordinator.get(f"/reports/board?{BOARD_PERIOD}"))
    labels = [[line.get_text() for line in text.find_all("tspan")] for text in agencies.find_all("text")]
    wrapped = [lines for lines in labels if len(lines) > 1]
    assert [" ".join(lines) for lines in wrapped] == [AWKWARD_AGENCY.replace("\n", " ")]
    # Lines short enough for the chart's width at 16px (Arial averages about half an em a character).
    _x, _y, width, _height = (float(n) for n in agencies["viewbox"].split())
    assert all(len(line) * 16 * 0.6 <= width for line in wrapped[0])


# --- coverage targets -------------------------------------------------------------------------------


def set_target(client, agency_id, course_id, staff_needed):
    token = csrf_token(client.get("/reports/coverage"))
    return client.post(
        "/reports/coverage",
        data={"csrf_token": token, "agency": agency_id, "course": course_id, "staff_needed": staff_needed},
    )


def targets(db) -> list[tuple]:
    db.session.expire_all()
    return sorted(
        db.session.execute(
            sa.select(CoverageTarget.agency_id, CoverageTarget.course_id, CoverageTarget.staff_needed)
        ).all()
    )


def test_an_agency_lead_sets_their_own_agencys_target(db, w, police_lead):
    response = set_target(police_lead, w.police.id, w.other_course.id, 12)
    assert (response.status_code, response.location) == (302, "/reports/coverage")
    page = police_lead.get(response.location)
    assert "Wessex Police needs 12 staff trained in Coercive Control." in plain(page)
    assert ["Wessex Police", "Coercive Control", "12", "0", "0", "0", "12"] in table(page, "Coverage")
    # Changing it changes the one target.
    set_target(police_lead, w.police.id, w.other_course.id, 8)
    assert (w.police.id, w.other_course.id, 8) in targets(db)
    assert len(targets(db)) == 4


def test_an_agency_lead_is_offered_only_their_agency(police_lead):
    html = police_lead.get("/reports/coverage").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="agency".*?</select>', html, flags=re.S).group(0)
    assert re.findall(r"<option[^>]*>(.*?)</option>", select) == ["Wessex Police"]


def test_a_forged_target_for_another_agency_is_refused(db, w, police_lead):
    before = targets(db)
    response = set_target(police_lead, w.council.id, w.other_course.id, 40)
    assert response.status_code == 403
    assert targets(db) == before


def test_a_coordinator_sets_any_agencys_target(db, w, coordinator):
    response = set_target(coordinator, w.council.id, w.course.id, 9)
    assert response.status_code == 302
    assert "Downs Council needs 9 staff trained in " + HYPERLINK in plain(coordinator.get(response.location))
    assert (w.council.id, w.course.id, 9) in targets(db)
    assert len(targets(db)) == 3  # the council's target changed; no second one


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "Enter a number from 0 to 100,000"),
        ("", "Enter how many staff need this course"),
        ("lots", "Staff who need this course must be a whole number"),
    ],
)
def test_a_target_that_is_not_a_number_of_staff_is_explained(db, w, coordinator, typed, message):
    before = targets(db)
    response = set_target(coordinator, w.council.id, w.course.id, typed)
    assert response.status_code == 200
    assert error_summary(response) == [message]
    assert targets(db) == before


# --- a fixed number of queries, however large the partnership -------------------------------


def _more_partnership(db, w, n: int, first: int = 0):
    """``n`` more agencies, each with a programme, a course with a target, and a session in May
    with two of its people booked (one there, one not)."""
    for i in range(first, first + n):
        agency = make_agency(f"Partner {i:02}")
        course = make_course(programme=make_programme(f"Strand {i:02}"), title=f"Course {i:02}", refresher_months=6)
        session = make_session(
            course, local_to_utc(date(2025, 5, 1 + i % 28), time(10)), hours=2, status=SessionStatus.DELIVERED
        )
        book(db, session, make_user(agency=agency, name=f"Came {i:02}"), AttendanceStatus.ATTENDED)
        book(db, session, make_user(agency=agency, name=f"Missed {i:02}"), AttendanceStatus.NO_SHOW)
        db.session.add(CoverageTarget(agency=agency, course=course, staff_needed=3))
    db.session.commit()


QUARTER_WITH_MAY = "/reports/board?" + dates(date(2025, 4, 1), date(2025, 6, 30))


@pytest.mark.parametrize(
    "path",
    [QUARTER_WITH_MAY, QUARTER_WITH_MAY.replace("/board?", "/board.csv?table=agencies&"), "/reports/coverage"],
)
def test_report_pages_run_the_same_queries_for_a_small_or_larger_partnership(db, w, coordinator, path):
    _more_partnership(db, w, 1)
    with counting_queries(db.engine) as small:
        assert coordinator.get(path).status_code == 200
    _more_partnership(db, w, 20, first=1)
    with counting_queries(db.engine) as larger:
        page = coordinator.get(path)
    assert "Partner 20" in page.get_data(as_text=True)
    assert len(larger) == len(small), "\n".join(["small:", *small, "", "larger:", *larger])


def test_the_board_report_reads_the_bookings_once_for_all_its_tables(db, w, coordinator):
    """Places booked, attendance, absences and late cancellations, by agency, programme and
    month, come from one pass over the bookings (evaluations, read with their bookings, aside)."""
    _more_partnership(db, w, 3)
    with counting_queries(db.engine) as statements:
        assert coordinator.get(QUARTER_WITH_MAY).status_code == 200
    reading_bookings = [s for s in statements if re.search(r"\b(FROM|JOIN) bookings\b", s)]
    assert len([s for s in reading_bookings if "evaluations" not in s]) == 1, "\n\n".join(reading_bookings)
