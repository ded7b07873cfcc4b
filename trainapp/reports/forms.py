"""The report filter (dates, presets, programme, agency) and coverage targets."""

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

from trainapp.forms import AppForm, GovDateField, choices

PRESETS = [
    ("", "Choose dates below"),
    ("this-quarter", "This quarter"),
    ("last-quarter", "Last quarter"),
    ("this-year", "This financial year"),
    ("last-year", "Last financial year"),
]


class ReportForm(AppForm):
    class Meta:
        csrf = False

    preset = SelectField("Period", choices=choices(PRESETS), validators=[Optional()], widget=GovSelect())
    start = GovDateField("From", validators=[Optional()])
    end = GovDateField("To", validators=[Optional()])
    # The period the page last showed: dates left as the page filled them are not "typed".
    shown = HiddenField()
    programme = SelectField("Programme", coerce=int, validators=[Optional()], widget=GovSelect())
    agency = SelectField("Agency", coerce=int, validators=[Optional()], widget=GovSelect())
    submit = SubmitField("Show report", widget=GovSubmitInput())


class CoverageTargetForm(AppForm):
    agency = SelectField("Agency", coerce=int, validators=[InputRequired("Choose an agency")], widget=GovSelect())
    course = SelectField("Course", coerce=int, validators=[InputRequired("Choose a course")], widget=GovSelect())
    staff_needed = IntegerField(
        "Staff who need this course",
        validators=[
            InputRequired("Enter how many staff need this course"),
            NumberRange(min=0, max=100000, message="Enter a number from 0 to 100,000"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save target", widget=GovSubmitInput())
