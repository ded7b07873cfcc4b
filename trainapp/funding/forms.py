"""Forms for grants, allocations, costs, the charging policy and charges. Money is typed as text."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from trainapp.forms import AppForm, Entered, GovDateField, MoneyField, SingleLine, choices
from trainapp.funding.models import CostCategory, CostState, GrantStatus


def _money(label: str, required: str | None = None, description: str | None = None):
    return MoneyField(
        label,
        description=description or "In pounds, for example 1,234.56",
        validators=[Entered(required)] if required else [Optional()],
    )


class GrantForm(AppForm):
    name = StringField(
        "Grant name",
        validators=[DataRequired("Enter the grant's name"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    funder = StringField(
        "Funder", validators=[DataRequired("Enter the funder"), Length(max=200), SingleLine()], widget=GovTextInput()
    )
    reference = StringField(
        "Funder's reference", validators=[Optional(), Length(max=100), SingleLine()], widget=GovTextInput()
    )
    amount = _money("Amount", "Enter the grant's amount")
    match_funding = _money("Match funding expected")
    starts_on = GovDateField("Delivery window starts", validators=[DataRequired("Enter the start of the window")])
    ends_on = GovDateField("Delivery window ends", validators=[DataRequired("Enter the end of the window")])
    status = RadioField(
        "Status",
        choices=choices((s.value, s.label) for s in GrantStatus),
        default=GrantStatus.EXPECTED.value,
        widget=GovRadioInput(),
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)], widget=GovTextArea())
    submit = SubmitField("Save grant", widget=GovSubmitInput())


class AllocationForm(AppForm):
    target = SelectField(
        "Programme or course", validators=[DataRequired("Choose a programme or a course")], widget=GovSelect()
    )
    amount = _money("Amount", "Enter the amount to allocate")
    submit = SubmitField("Save allocation", widget=GovSubmitInput())


class CostForm(AppForm):
    allocation = SelectField(
        "Charge to",
        coerce=int,
        validators=[DataRequired("Choose the allocation to charge")],
        widget=GovSelect(),
    )
    category = SelectField("Category", choices=choices((c.value, c.label) for c in CostCategory), widget=GovSelect())
    amount = _money("Amount", "Enter the amount")
    state = RadioField(
        "Committed or paid",
        choices=choices([(CostState.COMMITTED.value, "Committed"), (CostState.PAID.value, "Paid")]),
        default=CostState.COMMITTED.value,
        widget=GovRadioInput(),
    )
    incurred_on = GovDateField("Date", validators=[DataRequired("Enter the date of the cost")])
    supplier = StringField("Supplier", validators=[Optional(), Length(max=200), SingleLine()], widget=GovTextInput())
    reference = StringField(
        "Invoice or order reference", validators=[Optional(), Length(max=100), SingleLine()], widget=GovTextInput()
    )
    override_reason = TextAreaField(
        "Reason for going over the allocation",
        description="Only needed if this cost takes the allocation over its amount.",
        validators=[Optional(), Length(max=2000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Add cost", widget=GovSubmitInput())


class PolicyForm(AppForm):
    partner_day = _money("Partner agencies: full day", "Enter the partner day rate")
    partner_half_day = _money("Partner agencies: half day", "Enter the partner half-day rate")
    non_partner_day = _money("Non-partner organisations: full day", "Enter the non-partner day rate")
    non_partner_half_day = _money("Non-partner organisations: half day", "Enter the non-partner half-day rate")
    half_day_hours = IntegerField(
        "A half day is up to (hours)",
        validators=[
            InputRequired("Enter the length of a half day in hours"),
            NumberRange(min=1, max=12, message="A half day must be between 1 and 12 hours"),
        ],
        widget=GovTextInput(),
    )
    credit_grant = SelectField("Credit charge income to", coerce=int, widget=GovSelect())
    submit = SubmitField("Save rates", widget=GovSubmitInput())


class ExemptionForm(AppForm):
    agency = SelectField("Agency", coerce=int, validators=[DataRequired("Choose an agency")], widget=GovSelect())
    reason = TextAreaField("Reason it is not charged", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    exempt = RadioField(
        "Charge this agency?",
        choices=choices([("yes", "Do not charge this agency"), ("no", "Charge this agency again")]),
        default="yes",
        widget=GovRadioInput(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class WaiveForm(AppForm):
    reason = TextAreaField(
        "Reason for waiving",
        validators=[DataRequired("Enter the reason for waiving this charge"), Length(max=1000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Waive the charge", widget=GovSubmitInput())


class StatementForm(AppForm):
    class Meta:
        csrf = False

    agency = SelectField("Agency", coerce=int, validators=[DataRequired("Choose an agency")], widget=GovSelect())
    month = StringField(
        "Month",
        description="For example, 2026-11",
        validators=[DataRequired("Enter the month, like 2026-11"), Length(max=7)],
        widget=GovTextInput(),
    )
    submit = SubmitField("Show statement", widget=GovSubmitInput())
