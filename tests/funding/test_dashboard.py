"""The funding dashboard's figures against a hand calculation on a small fixed dataset.

Everything is made through the services a coordinator and a trainer use (allocations, costs,
registers, cancellations, waivers), on fixed dates, and read back with a fixed ``today``.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import fresh_client, make_agency, make_course, make_programme, make_session, make_user, sign_in
from tests.pages import plain, table
from trainapp.accounts.models import Role
from trainapp.attendance import services as attendance
from trainapp.bookings import services as bookings
from trainapp.bookings.models import AttendanceStatus, Booking, BookingStatus
from trainapp.catalogue.models import SessionStatus
from trainapp.extensions import db as _db
from trainapp.funding import charges, dashboard, services
from trainapp.funding.models import Charge, ChargeStatus, CostCategory, CostState, GrantStatus

TODAY = date(2030, 4, 10)
ATTENDED, PARTIAL, TURNED_AWAY, NO_SHOW = (
    AttendanceStatus.ATTENDED,
    AttendanceStatus.PARTIAL,
    AttendanceStatus.TURNED_AWAY,
    AttendanceStatus.NO_SHOW,
)

# The dataset, by hand ---------------------------------------------------------------------
#
# Grants (today is 10 April 2030)
#   Lottery 2030   £10,000.00, 1 Jan - 31 Dec 2030 (365 days), awarded
#     allocated: Family Practice programme £6,000.00 + Youth Work course £2,500.00 = £8,500.00
#     costs:     3 Feb   £500.00 trainer, session S1   paid
#                10 Mar  £300.00 venue,   session S2   paid
#                20 Mar  £700.00 materials, Family Practice programme   committed
#                2 Apr   £500.00 trainer, session S3   committed
#     committed £700 + £500 = £1,200.00; paid £500 + £300 = £800.00; spent £2,000.00
#     remaining £10,000 - £2,000 = £8,000.00; not yet allocated £1,500.00
#     window gone: 1 Jan to 10 Apr inclusive = 31 + 28 + 31 + 10 = 100 of 365 days = 27.4% -> "27%"
#     money spent: £2,000 / £10,000 = 20%
#     forecast at this rate: £2,000 / (100 / 365) = £7,300.00
#     burn-down: £10,000 -> 3 Feb £9,500 -> 10 Mar £9,200 -> 20 Mar £8,500 -> 2 Apr £8,000
#   Council 2029   £1,000.00, 1 Jan - 31 Dec 2029 (over), awarded
#     allocated: Youth Work programme £1,000.00
#     costs:     1 Jun 2029 £1,050.00 travel, Youth Work programme, paid, over with a reason
#     committed £0; paid £1,050.00; remaining -£50.00: overspent by £50.00
#     window gone 100%; forecast = spent = £1,050.00
#   Health 2030    £2,000.00, 1 - 31 May 2030 (not started), expected; nothing allocated or spent
#     window gone 0%; no forecast yet
#
# Programmes
#   Family Practice (course "Safety Planning")
#     S1 3 Feb, 3 hours, 10 places, delivered: 6 on the register
#        4 attended (one first marked a no-show, then corrected: charge withdrawn),
#        1 partly attended, 1 no-show from a partner agency -> charged £35.00 (partner half day)
#     S2 10 Mar, 7 hours, 12 places, delivered: 4 booked + 1 walk-in
#        3 attended + the walk-in, 1 turned away from a non-partner agency -> £90.00 (non-partner
#        day), waived
#     S4 20 May, 3 hours, 10 places, scheduled: one partner place cancelled late -> £35.00
#     S5 cancelled, 8 places: not delivered, so no places offered
#     sessions delivered 2; places offered 10 + 12 = 22; learners attended 4 + 1 + 3 + 1 = 9
#     cost £500 + £300 + £700 = £1,500.00
#     cost per place offered £1,500 / 22 = £68.1818... -> £68.18
#     cost per attended learner £1,500 / 9 = £166.666... -> £166.67
#     charges raised 2 (£35 + £35 = £70.00); waived 1 (£90.00); the withdrawn one is not counted
#   Youth Work (course "Youth Voice")
#     S3 2 Apr, 2 hours, 15 places, delivered: 5 attended
#     cost £500 (S3, Lottery) + £1,050 (programme, Council 2029) = £1,550.00
#     cost per place offered £1,550 / 15 = £103.333... -> £103.33
#     cost per attended learner £1,550 / 5 = £310.00
#     no charges
#   Quiet Programme: nothing delivered, no costs: no cost per place or per learner


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


class Dataset:
    def __init__(self, db):
        self.coordinator = make_user(Role.COORDINATOR, name="Cora Ordinator")
        self.partner = make_agency("Wessex Police", is_partner=True)
        self.other = make_agency("Harbour Trust", is_partner=False)
        self.family = make_programme("Family Practice")
        self.youth = make_programme("Youth Work")
        self.quiet = make_programme("Quiet Programme")
        planning = make_course(programme=self.family, title="Safety Planning", cancellation_notice_days=5)
        voice = make_course(programme=self.youth, title="Youth Voice")
        trainer = make_user(Role.TRAINER, agency=self.partner)
        self.s1 = make_session(
            course=planning, starts_at=at(date(2030, 2, 3)), hours=3, capacity=10, trainers=[trainer]
        )
        self.s2 = make_session(
            course=planning, starts_at=at(date(2030, 3, 10)), hours=7, capacity=12, trainers=[trainer]
        )
        self.s3 = make_session(course=voice, starts_at=at(date(2030, 4, 2)), hours=2, capacity=15, trainers=[trainer])
        self.s4 = make_session(
            course=planning, starts_at=at(date(2030, 5, 20)), hours=3, capacity=10, trainers=[trainer]
        )
        self.s5 = make_session(
            course=planning,
            starts_at=at(date(2030, 3, 1)),
            hours=3,
            capacity=8,
            trainers=[trainer],
            status=SessionStatus.CANCELLED,
        )
        self._money(voice)
        self._registers()
        db.session.commit()

    def _money(self, voice):
        c = self.coordinator
        self.lottery = services.save_grant(
            None,
            services.GrantDetails(
                name="Lottery 2030",
                funder="National Lottery",
                reference="NL-30",
                amount_pence=10_000_00,
                match_funding_pence=0,
                starts_on=date(2030, 1, 1),
                ends_on=date(2030, 12, 31),
                notes="",
                status=GrantStatus.AWARDED,
            ),
            by=c,
        )
        self.council = services.save_grant(
            None,
            services.GrantDetails(
                name="Council 2029",
                funder="Downs Council",
                reference="",
                amount_pence=1_000_00,
                match_funding_pence=0,
                starts_on=date(2029, 1, 1),
                ends_on=date(2029, 12, 31),
                notes="",
                status=GrantStatus.AWARDED,
            ),
            by=c,
        )
        self.health = services.save_grant(
            None,
            services.GrantDetails(
                name="Health 2030",
                funder="NHS",
                reference="",
                amount_pence=2_000_00,
                match_funding_pence=0,
                starts_on=date(2030, 5, 1),
                ends_on=date(2030, 5, 31),
                notes="",
                status=GrantStatus.EXPECTED,
            ),
            by=c,
        )
        family = services.save_allocation(
            None, grant_id=self.lottery.id, by=c, amount_pence=6_000_00, programme=self.family
        )
        youth_course = services.save_allocation(
            None, grant_id=self.lottery.id, by=c, amount_pence=2_500_00, course=voice
        )
        youth = services.save_allocation(
            None, grant_id=self.council.id, by=c, amount_pence=1_000_00, programme=self.youth
        )

        def cost(allocation, amount, on, category, state, session=None, programme=None, reason=""):
            services.add_cost(
                allocation.id,
                services.CostDetails(
                    category=category,
                    amount_pence=amount,
                    state=state,
                    incurred_on=on,
                    session=session,
                    programme=programme,
                    override_reason=reason,
                ),
                by=c,
            )

        cost(family, 500_00, date(2030, 2, 3), CostCategory.TRAINER, CostState.PAID, session=self.s1)
        cost(family, 300_00, date(2030, 3, 10), CostCategory.VENUE, CostState.PAID, session=self.s2)
        cost(family, 700_00, date(2030, 3, 20), CostCategory.MATERIALS, CostState.COMMITTED, programme=self.family)
        cost(youth_course, 500_00, date(2030, 4, 2), CostCategory.TRAINER, CostState.COMMITTED, session=self.s3)
        cost(
            youth,
            1_050_00,
            date(2029, 6, 1),
            CostCategory.TRAVEL,
            CostState.PAID,
            programme=self.youth,
            reason="Extra minibus for the residential",
        )

    def _book(self, session, agency):
        booking = Booking(
            session=session, user=make_user(agency=agency), agency_id=agency.id, status=BookingStatus.CONFIRMED
        )
        _db.session.add(booking)
        session.places_taken += 1
        _db.session.flush()
        return booking

    def _register(self, session, marks, *, walk_in=None, submit=True):
        during = session.starts_at + timedelta(hours=1)
        if walk_in is not None:
            attendance.add_walk_in(session.id, by=self.coordinator, person=walk_in, now=during)
        attendance.mark_register(
            session.id, {b.id: attendance.Mark(s, m) for b, (s, m) in marks.items()}, by=self.coordinator, now=during
        )
        if submit:
            attendance.submit_register(session.id, by=self.coordinator, now=during)

    def _registers(self):
        s1 = [self._book(self.s1, self.partner) for _ in range(6)]
        cancelled = self._book(self.s1, self.partner)
        cancelled.status, cancelled.attendance = BookingStatus.CANCELLED, None
        self.s1.places_taken -= 1
        # A no-show corrected to attended: the charge is raised, then withdrawn.
        self._register(self.s1, {s1[0]: (NO_SHOW, None)}, submit=False)
        self._register(
            self.s1,
            {
                s1[0]: (ATTENDED, None),
                s1[1]: (ATTENDED, None),
                s1[2]: (ATTENDED, None),
                s1[3]: (ATTENDED, None),
                s1[4]: (PARTIAL, 30),
                s1[5]: (NO_SHOW, None),
            },
        )
        s2 = [self._book(self.s2, self.partner) for _ in range(3)] + [self._book(self.s2, self.other)]
        self._register(
            self.s2,
            {**{b: (ATTENDED, None) for b in s2[:3]}, s2[3]: (TURNED_AWAY, None)},
            walk_in=make_user(agency=self.partner),
        )
        turned_away = _db.session.scalars(sa.select(Charge).where(Charge.booking_id == s2[3].id)).one()
        charges.waive(turned_away.id, by=self.coordinator, reason="First time: a warning instead")
        s3 = [self._book(self.s3, self.partner) for _ in range(5)]
        self._register(self.s3, {b: (ATTENDED, None) for b in s3})
        # A late cancellation for the session on Monday 20 May: the last free day is Monday 13 May.
        learner = make_user(agency=self.partner)
        late = bookings.book_place(self.s4.id, learner, by=learner, now=at(date(2030, 5, 1)))
        bookings.cancel_booking(late.id, by=learner, now=at(date(2030, 5, 17)))


@pytest.fixture
def data(db):
    return Dataset(db)


def figures_by_name(today=TODAY):
    return {f.grant.name: f for f in dashboard.grant_figures(today)}


def test_grant_figures_match_the_hand_calculation(db, data):
    grants = dashboard.grant_figures(TODAY)
    assert [f.grant.name for f in grants] == ["Council 2029", "Lottery 2030", "Health 2030"]  # by start date
    lottery, council, health = (figures_by_name()[n] for n in ("Lottery 2030", "Council 2029", "Health 2030"))

    assert (lottery.grant.amount_pence, lottery.allocated, lottery.unallocated) == (10_000_00, 8_500_00, 1_500_00)
    assert (lottery.committed, lottery.paid, lottery.spent, lottery.remaining) == (1_200_00, 800_00, 2_000_00, 8_000_00)
    assert lottery.window_share == pytest.approx(100 / 365)
    assert lottery.spend_share == pytest.approx(0.20)
    assert lottery.forecast == 7_300_00
    assert not lottery.is_overspent

    assert (council.allocated, council.committed, council.paid, council.remaining) == (1_000_00, 0, 1_050_00, -50_00)
    assert council.window_share == 1.0 and council.forecast == 1_050_00
    assert council.is_overspent

    assert (health.allocated, health.committed, health.paid, health.remaining) == (0, 0, 0, 2_000_00)
    assert health.window_share == 0.0 and health.forecast is None and health.spend_share == 0.0


@pytest.mark.parametrize(
    ("today", "share", "forecast"),
    [
        (date(2029, 12, 31), 0.0, None),  # before the window: nothing gone, no forecast
        (date(2030, 1, 1), 1 / 365, 2_000_00 * 365),  # the first day counts as gone
        (date(2030, 7, 2), 183 / 365, 3_989_07),  # £2,000 / (183 / 365) = £3,989.071...
        (date(2030, 12, 31), 1.0, 2_000_00),
        (date(2031, 3, 1), 1.0, 2_000_00),  # after the window: all of it gone
    ],
)
def test_window_share_and_forecast_move_with_today(db, data, today, share, forecast):
    lottery = figures_by_name(today)["Lottery 2030"]
    assert lottery.window_share == pytest.approx(share)
    assert lottery.forecast == forecast


def test_allocation_figures_show_spend_and_the_overspent_allocation(db, data):
    lottery = {
        a.allocation.target_name: (a.allocation.amount_pence, a.spent, a.remaining, a.is_overspent)
        for a in dashboard.allocation_figures(data.lottery.id)
    }
    assert lottery == {
        "Family Practice": (6_000_00, 1_500_00, 4_500_00, False),
        "Youth Voice": (2_500_00, 500_00, 2_000_00, False),
    }
    [council] = dashboard.allocation_figures(data.council.id)
    assert (council.spent, council.remaining, council.is_overspent) == (1_050_00, -50_00, True)


def test_the_burn_down_follows_the_costs_day_by_day(db, data):
    assert dashboard.spend_by_day(data.lottery.id) == [
        (date(2030, 2, 3), 500_00),
        (date(2030, 3, 10), 300_00),
        (date(2030, 3, 20), 700_00),
        (date(2030, 4, 2), 500_00),
    ]
    assert dashboard.spend_by_day(data.health.id) == []


def test_programme_figures_match_the_hand_calculation(db, data):
    programmes = {p.programme.name: p for p in dashboard.programme_figures()}
    assert list(programmes) == ["Family Practice", "Quiet Programme", "Youth Work"]

    family = programmes["Family Practice"]
    assert (family.sessions_delivered, family.places_offered, family.learners_attended) == (2, 22, 9)
    assert family.cost == 1_500_00
    assert family.cost_per_place == 68_18
    assert family.cost_per_learner == 166_67
    assert (family.charges_raised, family.charges_raised_pence) == (2, 70_00)
    assert (family.charges_waived, family.charges_waived_pence) == (1, 90_00)

    youth = programmes["Youth Work"]
    assert (youth.sessions_delivered, youth.places_offered, youth.learners_attended) == (1, 15, 5)
    assert (youth.cost, youth.cost_per_place, youth.cost_per_learner) == (1_550_00, 103_33, 310_00)
    assert (youth.charges_raised, youth.charges_raised_pence, youth.charges_waived) == (0, 0, 0)

    quiet = programmes["Quiet Programme"]
    assert (quiet.sessions_delivered, quiet.places_offered, quiet.learners_attended, quiet.cost) == (0, 0, 0, 0)
    assert quiet.cost_per_place is None and quiet.cost_per_learner is None


def test_the_charges_behind_the_programme_figures(db, data):
    rows = db.session.scalars(sa.select(Charge).order_by(Charge.id)).all()
    assert [(c.reason.value, c.amount_pence, c.status) for c in rows] == [
        ("no_show", 35_00, ChargeStatus.WITHDRAWN),  # corrected to attended
        ("no_show", 35_00, ChargeStatus.RAISED),
        ("turned_away", 90_00, ChargeStatus.WAIVED),
        ("late_cancellation", 35_00, ChargeStatus.RAISED),
    ]


# The pages show the same figures ------------------------------------------------------------


def table_rows(response, caption) -> list[list[str]]:
    """The body rows of the table with this caption, each as its cells' text."""
    return table(response, caption, body_only=True)


@pytest.fixture
def coordinator(app, data, monkeypatch):
    monkeypatch.setattr("trainapp.funding.routes._today", lambda: TODAY)
    client = fresh_client(app)
    assert sign_in(client, data.coordinator).location == "/"
    return client


def test_the_dashboard_page_shows_the_hand_calculated_figures(db, data, coordinator):
    page = coordinator.get("/funding")
    assert page.status_code == 200
    assert table_rows(page, "Spend against each grant") == [
        [
            "Council 2029 Downs Council · Awarded Overspent",
            "£1,000.00",
            "£1,000.00",
            "£0.00",
            "£1,050.00",
            "-£50.00",
            "100%",
            "105%",
        ],
        [
            "Lottery 2030 National Lottery · Awarded",
            "£10,000.00",
            "£8,500.00",
            "£1,200.00",
            "£800.00",
            "£8,000.00",
            "27%",
            "20%",
        ],
        ["Health 2030 NHS · Expected", "£2,000.00", "£0.00", "£0.00", "£0.00", "£2,000.00", "0%", "0%"],
    ]
    assert table_rows(page, "Delivery and cost per programme") == [
        ["Family Practice", "2", "22", "9", "£1,500.00", "£68.18", "£166.67", "2 (£70.00)", "1 (£90.00)"],
        ["Quiet Programme", "0", "0", "0", "£0.00", "–", "–", "0 (£0.00)", "0 (£0.00)"],
        ["Youth Work", "1", "15", "5", "£1,550.00", "£103.33", "£310.00", "0 (£0.00)", "0 (£0.00)"],
    ]


def test_the_grant_page_shows_its_figures_forecast_and_burn_down(db, data, coordinator):
    page = coordinator.get(f"/grants/{data.lottery.id}")
    text = plain(page)
    for shown in (
        "Allocated £8,500 (£1,500 not yet allocated)",
        "Committed £1,200",
        "Paid £800",
        "Remaining £8,000",
        "Window gone / money spent 27% / 20%",
        "Forecast spend by the end £7,300",
    ):
        assert shown in text
    assert "Overspent" not in text
    assert table_rows(page, "Money left, by date") == [
        ["1 January 2030", "£10,000.00"],
        ["3 February 2030", "£9,500.00"],
        ["10 March 2030", "£9,200.00"],
        ["20 March 2030", "£8,500.00"],
        ["2 April 2030", "£8,000.00"],
    ]
    html = page.get_data(as_text=True)
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg"' in html
        and '<title id="chart-title">Money left in Lottery 2030' in html
    )
    assert html.count("<path ") == 2  # the plan and the money left


def test_the_overspent_grant_is_flagged_with_its_reason(db, data, coordinator):
    text = plain(coordinator.get(f"/grants/{data.council.id}"))
    assert "Overspent by £50" in text
    assert "Youth Work Overspent" in text  # the allocation's row
    assert "Over allocation: Extra minibus for the residential" in text
    assert "Forecast spend by the end £1,050" in text


def test_a_grant_not_started_has_no_forecast(db, data, coordinator):
    text = plain(coordinator.get(f"/grants/{data.health.id}"))
    assert "Forecast spend by the end Not started yet" in text
    assert "Window gone / money spent 0% / 0%" in text
