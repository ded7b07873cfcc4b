"""A trainer takes today's register on a phone: everyone attended, one no-show, a walk-in, submitted.
The learner then downloads a certificate, and the no-show's agency lead has an email. The register
also works with JavaScript switched off."""

import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.e2e.conftest import TIMEOUT_MS, sign_in
from tests.factories import make_agency, make_course, make_session, make_user
from trainapp.accounts.models import AgencyKind, Role

pytestmark = pytest.mark.e2e

PASSWORD = "heron-lattice-copper-73"
COURSE = "Domestic Abuse Awareness"
NO_JS_COURSE = "Healthy Relationships Basics"
PHONE = {"width": 320, "height": 640}


def _book(session, person):
    from trainapp.bookings.models import Booking, BookingStatus
    from trainapp.extensions import db

    db.session.add(Booking(session=session, user=person, agency_id=person.agency_id, status=BookingStatus.CONFIRMED))
    session.places_taken += 1


@pytest.fixture(scope="module")
def people(live_app):
    """Two agencies, a lead, a trainer, and two sessions that ended a few minutes ago, three booked on each."""
    from trainapp.db import utcnow
    from trainapp.extensions import db

    with live_app.app_context():
        police = make_agency("Estuary Police", kind=AgencyKind.POLICE, domains=["estuary.example.org"])
        make_agency("Moorland Council", kind=AgencyKind.COUNCIL, domains=["moorland.example.org"])
        make_user(
            Role.AGENCY_LEAD, agency=police, name="Lena Lead", email="lena.lead@estuary.example.org", password=PASSWORD
        )
        trainer = make_user(
            Role.TRAINER, agency=police, name="Theo Trainer", email="theo@estuary.example.org", password=PASSWORD
        )
        # Earlier today: started two hours ago, just finished, so certificates can be issued.
        started = (utcnow() - timedelta(hours=2, minutes=5)).replace(second=0, microsecond=0)
        for title, prefix in ((COURSE, ""), (NO_JS_COURSE, "nojs.")):
            session = make_session(
                course=make_course(title=title, cpd_hours=2), starts_at=started, hours=2, capacity=3, trainers=[trainer]
            )
            for name in ("Ada Quinn", "Bram Stone", "Cara Lowe"):
                email = prefix + name.lower().replace(" ", ".") + "@estuary.example.org"
                _book(session, make_user(agency=police, name=name, email=email, password=PASSWORD))
        db.session.commit()
        db.session.remove()
    return {"trainer": "theo@estuary.example.org", "lead": "lena.lead@estuary.example.org"}


def _fits_the_screen(page, width=320):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px screen"


def _row(page, name):
    """One learner's row on the register: a group of radios named by the learner and their agency."""
    return page.get_by_role("group", name=re.compile(rf"^{re.escape(name)}\b"))


def _delivered_to(live_app, recipient):
    """Deliver the outbox as `flask outbox send` would, then read what reached this person."""
    from trainapp.notifications.services import send_due_messages

    with live_app.app_context():
        send_due_messages()
    messages = [
        message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(Path(live_app.config["MAIL_DIR"]).glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == recipient]


def _open_register(page, course):
    from playwright.sync_api import expect

    page.get_by_role("link", name="See the sessions you deliver").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sessions")
    page.get_by_role("link", name="Past").click()
    page.get_by_role("link", name=re.compile(rf"^Take the register for {course}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register: {course}")


def test_a_trainer_takes_the_register_on_a_phone_and_the_learner_gets_a_certificate(new_page, live_app, people):
    from playwright.sync_api import expect

    page = new_page(**PHONE)
    sign_in(page, people["trainer"], PASSWORD, "Theo Trainer")
    _open_register(page, COURSE)
    expect(page.get_by_text("3 on the register (0 walk-ins).")).to_be_visible()
    expect(_row(page, "Ada Quinn")).to_contain_text("Estuary Police")
    _fits_the_screen(page)

    page.get_by_role("button", name="Mark everyone attended").click()
    expect(page.get_by_text("Everyone is marked attended.")).to_be_visible()
    for name in ("Ada Quinn", "Bram Stone", "Cara Lowe"):
        expect(_row(page, name).get_by_label("Attended", exact=True)).to_be_checked()

    _row(page, "Bram Stone").get_by_label("No-show").check()
    page.get_by_role("button", name="Save marks").click()
    expect(page.get_by_text("The marks have been saved.")).to_be_visible()
    expect(_row(page, "Bram Stone").get_by_label("No-show")).to_be_checked()

    page.get_by_role("link", name="Add a walk-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a walk-in")
    _fits_the_screen(page)
    page.get_by_label("Email address").fill("wren.walker@moorland.example.org")
    page.get_by_label("Full name").fill("Wren Walker")
    page.get_by_label("Agency").select_option(label="Moorland Council")
    page.get_by_role("button", name="Add the walk-in").click()

    expect(page.get_by_text("Wren Walker has been added as a walk-in and marked attended.")).to_be_visible()
    expect(page.get_by_text("4 on the register (1 walk-in).")).to_be_visible()
    expect(_row(page, "Wren Walker")).to_contain_text("Moorland Council · walk-in")
    expect(_row(page, "Wren Walker").get_by_label("Attended", exact=True)).to_be_checked()
    _fits_the_screen(page)

    page.get_by_role("button", name="Submit the register").click()
    expect(page.get_by_text("The register has been submitted and the session marked delivered.")).to_be_visible()
    expect(page.get_by_text("Submitted by Theo Trainer")).to_be_visible()
    _fits_the_screen(page)

    learner = new_page(**PHONE)
    sign_in(learner, "ada.quinn@estuary.example.org", PASSWORD, "Ada Quinn")
    learner.get_by_role("link", name="Your training record").first.click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Your training")
    expect(learner.get_by_text("2 CPD hours from completed courses.")).to_be_visible()
    _fits_the_screen(learner)
    learner.get_by_role("button", name=f"Get certificate for {COURSE}").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Certificate of attendance")
    expect(learner.get_by_text("Ada Quinn", exact=True)).to_be_visible()
    number = re.search(r"Certificate number ([A-Z0-9]{5}-[A-Z0-9]{5})", learner.get_by_role("main").inner_text()).group(
        1
    )
    with learner.expect_download(timeout=TIMEOUT_MS) as download_info:
        learner.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"certificate-{number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    learner.goto(f"/certificates/verify?number={number.lower()}")
    expect(learner.get_by_text("This certificate is genuine")).to_be_visible()

    to_lead = _delivered_to(live_app, people["lead"])
    no_show = [m for m in to_lead if m["Subject"] == f"No-show: Bram Stone, {COURSE}"]
    assert len(no_show) == 1, [m["Subject"] for m in to_lead]
    assert 'marks Bram Stone as "no-show"' in no_show[0].get_content()
    [welcome] = _delivered_to(live_app, "wren.walker@moorland.example.org")
    assert welcome["Subject"] == "Your training account"


def test_the_register_is_marked_and_saved_with_javascript_switched_off(
    browser, live_server, live_app, people, server_errors
):
    from playwright.sync_api import expect

    from trainapp.bookings.models import AttendanceStatus, Booking
    from trainapp.catalogue.models import Course, TrainingSession
    from trainapp.extensions import db

    errors_before = len(server_errors)
    context = browser.new_context(base_url=live_server, viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, people["trainer"], PASSWORD, "Theo Trainer")
        _open_register(page, NO_JS_COURSE)
        _fits_the_screen(page)

        # Without JavaScript each row's minutes box is always shown, beside "Partially attended".
        _row(page, "Ada Quinn").get_by_label("Attended", exact=True).check()
        _row(page, "Bram Stone").get_by_label("Partially attended").check()
        expect(_row(page, "Bram Stone").get_by_label("Minutes missed")).to_be_visible()
        _row(page, "Bram Stone").get_by_label("Minutes missed").fill("30")
        _row(page, "Cara Lowe").get_by_label("Unable to attend (gave notice)").check()
        page.get_by_role("button", name="Save marks").click()

        expect(page.get_by_text("The marks have been saved.")).to_be_visible()
        expect(_row(page, "Bram Stone").get_by_label("Partially attended")).to_be_checked()
        expect(_row(page, "Bram Stone").get_by_label("Minutes missed")).to_have_value("30")

        # A mistake is shown in the error summary, without JavaScript too.
        _row(page, "Ada Quinn").get_by_label("Partially attended").check()
        page.get_by_role("button", name="Save marks").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("For Ada Quinn, enter the minutes missed")
        _fits_the_screen(page)
    finally:
        context.close()
    assert server_errors[errors_before:] == [], "the server raised while serving the pages"

    with live_app.app_context():
        import sqlalchemy as sa

        saved = dict(
            db.session.execute(
                sa.select(Booking.user_id, Booking.attendance)
                .join(Booking.session)
                .join(TrainingSession.course)
                .where(Course.title == NO_JS_COURSE)
            ).all()
        )
        minutes = db.session.scalars(
            sa.select(Booking.minutes_missed)
            .join(Booking.session)
            .join(TrainingSession.course)
            .where(Course.title == NO_JS_COURSE, Booking.attendance == AttendanceStatus.PARTIAL)
        ).all()
        db.session.remove()
    assert sorted(saved.values()) == sorted(
        [AttendanceStatus.ATTENDED, AttendanceStatus.PARTIAL, AttendanceStatus.UNABLE]
    )
    assert minutes == [30]
