"""What people read follows the GOV.UK style guide: times, dates, numbers, money, titles, messages."""

import importlib
import inspect
import pkgutil
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import trainapp
from tests.factories import fresh_client, make_agency, make_course, make_session, make_user
from tests.pages import error_summary, field_error, parse, plain, signed_in, submit
from tests.support import outbox
from trainapp.accounts.models import AgencyKind, Role
from trainapp.bookings import services as bookings
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.money import format_money, format_money_column
from trainapp.text import format_number
from trainapp.timezones import format_clock, format_time, format_when

# Saturday 23 October 2027, 10pm to Sunday 24 October 2027, 2am, London summer time (UTC+1).
OVERNIGHT_STARTS = datetime(2027, 10, 23, 21, 0, tzinfo=UTC)
OVERNIGHT = "Saturday 23 October 2027, 10pm to Sunday 24 October 2027, 2am"


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        (time(10, 0), "10am"),
        (time(10, 30), "10:30am"),
        (time(12, 0), "midday"),
        (time(0, 0), "midnight"),
        (time(12, 15), "12:15pm"),
        (time(0, 5), "12:05am"),
        (time(23, 59), "11:59pm"),
    ],
)
def test_times_of_day_read_the_gov_uk_way(at, shown):
    assert format_clock(at) == shown


def test_a_session_on_one_day_reads_as_a_day_and_a_range(app):
    with app.app_context():
        starts = datetime(2027, 11, 4, 10, 30, tzinfo=UTC)
        assert format_when(starts, starts + timedelta(minutes=90)) == "Thursday 4 November 2027, 10:30am to midday"


def test_a_session_that_ends_on_a_later_day_names_both_days(app):
    with app.app_context():
        assert format_when(OVERNIGHT_STARTS, OVERNIGHT_STARTS + timedelta(hours=4)) == OVERNIGHT


def test_the_hour_the_clocks_go_back_still_says_which_one(app):
    with app.app_context():
        first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 1:30am BST
        second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 1:30am GMT, an hour later
        assert (format_time(first), format_time(second)) == ("1:30am BST", "1:30am GMT")
        assert format_when(second, second + timedelta(hours=1)) == "Sunday 31 October 2027, 1:30am GMT to 2:30am"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("4.0"), "4"), (Decimal("4.00"), "4"), (Decimal("1.5"), "1.5"), (3, "3"), (12000, "12,000"), (2.0, "2")],
)
def test_whole_numbers_have_no_point_nought(value, shown):
    assert format_number(value) == shown


def test_whole_pounds_drop_the_pence_except_in_columns_of_money():
    assert [format_money(p) for p in (3500, 3550, 100_000_00, -5000, 0)] == ["£35", "£35.50", "£100,000", "-£50", "£0"]
    assert [format_money_column(p) for p in (3500, 3550)] == ["£35.00", "£35.50"]


# --- pages and emails ------------------------------------------------------------------------


@pytest.fixture
def agency(db):
    return make_agency("Wessex Police", kind=AgencyKind.POLICE)


@pytest.fixture
def overnight(db, agency):
    session = make_session(course=make_course(title="Night Outreach"), starts_at=OVERNIGHT_STARTS, hours=4)
    learner = make_user(agency=agency, name="Dana Okoro")
    bookings.book_place(session.id, learner, by=learner)
    db.session.commit()
    return session, learner


def test_a_session_that_ends_the_next_day_shows_both_dates_on_every_page(app, client, db, overnight):
    session, learner = overnight
    signed_in(client, learner)
    for path in ("/sessions", f"/sessions/{session.id}", "/my-bookings"):
        assert OVERNIGHT in plain(client.get(path)), path
    [email] = outbox(db, learner.email)
    assert f"When: {OVERNIGHT} (UK time)" in email.body

    coordinator = signed_in(fresh_client(app), make_user(Role.COORDINATOR))
    db.session.commit()
    for path in (f"/sessions/{session.id}/bookings", f"/sessions/{session.id}/register"):
        assert OVERNIGHT in plain(coordinator.get(path)), path


def test_a_session_in_one_morning_shows_a_short_range(client, db, agency):
    session = make_session(starts_at=datetime(2027, 11, 4, 10, 0, tzinfo=UTC), hours=2)
    db.session.commit()
    signed_in(client, make_user(agency=agency))
    assert "Thursday 4 November 2027, 10am to midday" in plain(client.get(f"/sessions/{session.id}"))


def test_cpd_hours_are_whole_numbers_without_a_point_nought(client, db, agency):
    learner = make_user(agency=agency)
    course = make_course(title="Whole Hours", cpd_hours=Decimal("4.0"))
    session = make_session(course=course, starts_at=datetime(2026, 6, 1, 9, tzinfo=UTC), hours=4)
    db.session.add(
        Booking(
            session=session,
            user=learner,
            agency_id=agency.id,
            status=BookingStatus.CONFIRMED,
            attendance=AttendanceStatus.ATTENDED,
        )
    )
    db.session.commit()
    signed_in(client, learner)
    page = plain(client.get("/my-training"))
    assert "4 CPD hours from completed courses" in page and "4.0" not in page


# --- titles and navigation -------------------------------------------------------------------


def title(response) -> str:
    return parse(response).title.get_text().split(" – ")[0]


def heading(response) -> str:
    return parse(response).h1.get_text(" ", strip=True)


def test_each_view_of_your_bookings_has_its_own_title(client, db, agency):
    signed_in(client, make_user(agency=agency))
    titles = [title(client.get(f"/my-bookings?tab={tab}")) for tab in ("upcoming", "waiting", "past", "cancelled")]
    assert titles == [
        "Your bookings: upcoming",
        "Your bookings: waiting lists",
        "Your bookings: past",
        "Your bookings: cancelled",
    ]


def test_past_sessions_a_trainer_delivers_have_their_own_title(client, db):
    signed_in(client, make_user(Role.TRAINER))
    assert title(client.get("/my-sessions")) == "Your sessions: upcoming"
    assert title(client.get("/my-sessions?when=past")) == "Your sessions: past"


def test_a_filtered_list_of_training_says_what_it_is_filtered_by(client, db, agency):
    course = make_course(title="Risk Assessment")
    make_session(course=course)
    db.session.commit()
    signed_in(client, make_user(agency=agency))
    assert title(client.get("/sessions")) == "Find training"
    assert title(client.get(f"/sessions?course={course.id}&mode=online")) == "Find training: Risk Assessment, Online"


@pytest.mark.parametrize("role", [Role.STAFF, Role.TRAINER, Role.AGENCY_LEAD, Role.COORDINATOR])
def test_every_navigation_label_matches_its_pages_heading_and_title(client, db, agency, role):
    signed_in(client, make_user(role, agency=agency if role != Role.COORDINATOR else None))
    nav = parse(client.get("/")).find("nav", class_="govuk-service-navigation__wrapper")
    links = [(a.get_text(strip=True), a["href"]) for a in nav.find_all("a")]
    assert links
    for label, href in links:
        if label == "Home":
            continue  # the signed-in home page greets the person by name
        page = client.get(href)
        assert heading(page) == label, href
        assert title(page).startswith(label), href


def test_the_navigation_says_your_not_my(client, db, agency):
    signed_in(client, make_user(agency=agency))
    labels = [a.get_text(strip=True) for a in parse(client.get("/")).select("nav a")]
    assert "Your bookings" in labels and "Your training" in labels
    assert not [label for label in labels if label.startswith("My ")]


# --- error messages --------------------------------------------------------------------------


@pytest.fixture
def coordinator(client, db):
    person = make_user(Role.COORDINATOR)
    db.session.commit()
    return signed_in(client, person)


def test_a_number_that_is_not_a_whole_number_is_refused_in_plain_words(coordinator, db, agency):
    session = make_session()
    db.session.commit()
    path = f"/sessions/{session.id}/reservations"
    response = submit(coordinator, path, {"agency": str(agency.id), "places": "lots"})
    assert field_error(response, "places") == "Error: Places to hold must be a whole number"


def test_a_choice_that_is_not_offered_is_refused_in_plain_words(coordinator, db, agency):
    response = coordinator.get("/sessions?mode=teleport")
    assert error_summary(response) == ["Choose delivery from the list"]


def test_a_date_that_does_not_exist_is_refused_in_plain_words(coordinator, db, agency):
    session = make_session()
    db.session.commit()
    path = f"/sessions/{session.id}/reservations"
    data = MultiDict([("agency", str(agency.id)), ("places", "2")])
    data.setlist("release_on", ["31", "2", "2027"])
    response = submit(coordinator, path, data)
    assert error_summary(response) == ["Release unused places on must be a real date, like 27 3 2027"]


WTFORMS_DEFAULTS = (
    "Not a valid",
    "Invalid Choice",
    "Invalid choice",
    "not a valid choice",
    "This field is required",
    "Field must be",
    "Field cannot be",
    "Number must be",
    "Invalid email address",
    "Invalid input",
)


def every_form_class():
    for module_info in pkgutil.walk_packages(trainapp.__path__, "trainapp."):
        if module_info.name.endswith("forms") or module_info.name.endswith("form_details"):
            module = importlib.import_module(module_info.name)
            for _, value in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(value, FlaskForm)
                    and value.__module__ == module.__name__
                    and not value.__name__.startswith("_")
                ):
                    yield value


def garbage_for(field) -> list[str]:
    if field.type in ("GovDateField", "DateField"):
        return ["99", "99", "x"]
    return ["not-a-value-" + "x" * 5000]


@pytest.mark.parametrize("fill", ["garbage", "empty"])
def test_no_form_ever_shows_the_form_librarys_own_messages(app, db, fill):
    forms = list(every_form_class())
    assert len(forms) > 30
    leaked = []
    for form_class in forms:
        with app.test_request_context(method="POST"):
            blank = form_class(meta={"csrf": False}) if _constructible(form_class) else None
            if blank is None:
                continue
            data = MultiDict()
            if fill == "garbage":
                for field in blank:
                    for value in garbage_for(field):
                        data.add(field.name, value)
            form = form_class(formdata=data, meta={"csrf": False})
            for field in form:
                if hasattr(field, "choices") and field.choices is None:
                    field.choices = [(1, "One")]
            form.validate()
            for field_name, messages in _all_errors(form):
                for message in messages:
                    if any(default in message for default in WTFORMS_DEFAULTS):
                        leaked.append(f"{form_class.__name__}.{field_name}: {message}")
    assert leaked == []


def _constructible(form_class) -> bool:
    try:
        form_class(meta={"csrf": False})
    except TypeError:
        return False
    return True


def _all_errors(form):
    for field in form:
        errors = field.errors
        if isinstance(errors, dict):
            for name, nested in errors.items():
                yield f"{field.name}.{name}", nested
        elif errors and isinstance(errors[0], dict):
            for entry in errors:
                for name, nested in entry.items():
                    yield f"{field.name}.{name}", nested
        else:
            yield field.name, [e for e in errors if isinstance(e, str)]
