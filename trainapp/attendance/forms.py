"""Forms for the register, walk-ins, evaluations and the certificate check."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from trainapp.bookings.models import AttendanceStatus
from trainapp.forms import SingleLine, choices

SCORES = choices(
    (str(n), label)
    for n, label in [
        (1, "1 – not at all confident"),
        (2, "2"),
        (3, "3"),
        (4, "4"),
        (5, "5 – very confident"),
    ]
)


def parse_marks(form_data, booking_ids: list[int]) -> dict[int, tuple[AttendanceStatus, int | None]]:
    """Read 'mark-<id>' and 'minutes-<id>' fields; a row with no choice is left as it was.

    Raises ValueError for a status that does not exist (only a forged form sends one).
    Minutes that are not a whole number are typed by people: they come back as 0, which
    the register refuses with a message for a partial mark and ignores for any other.
    """
    marks = {}
    for booking_id in booking_ids:
        raw = form_data.get(f"mark-{booking_id}", "")
        if not raw:
            continue
        status = AttendanceStatus(raw)
        minutes_text = form_data.get(f"minutes-{booking_id}", "").strip()
        try:
            minutes = int(minutes_text) if minutes_text else None
        except ValueError:
            minutes = 0
        marks[booking_id] = (status, minutes)
    return marks


class RegisterForm(FlaskForm):
    reason = TextAreaField("Reason for the correction", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    save = SubmitField("Save marks", widget=GovSubmitInput())
    submit = SubmitField("Submit the register", widget=GovSubmitInput())


class EveryoneAttendedForm(FlaskForm):
    reason = TextAreaField("Reason for the correction", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    submit = SubmitField("Mark everyone attended", widget=GovSubmitInput())


class WalkInForm(FlaskForm):
    email = StringField(
        "Email address",
        validators=[InputRequired("Enter the walk-in's email address"), Length(max=254), SingleLine()],
        widget=GovTextInput(),
    )
    name = StringField(
        "Full name",
        description="Only needed if they have no account yet.",
        validators=[Optional(), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    agency = SelectField(
        "Agency",
        coerce=int,
        description="Only needed if they have no account yet.",
        validators=[Optional()],
        widget=GovSelect(),
    )
    reason = TextAreaField("Reason for the correction", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    submit = SubmitField("Add the walk-in", widget=GovSubmitInput())


class EvaluationForm(FlaskForm):
    confidence_before = RadioField(
        "Before the course, how confident did you feel about this topic?",
        choices=SCORES,
        validators=[InputRequired("Choose a score from 1 to 5")],
        widget=GovRadioInput(),
    )
    confidence_after = RadioField(
        "Now, how confident do you feel?",
        choices=SCORES,
        validators=[InputRequired("Choose a score from 1 to 5")],
        widget=GovRadioInput(),
    )
    comments = TextAreaField(
        "Anything else to tell us? (optional)",
        validators=[Optional(), Length(max=4000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Send", widget=GovSubmitInput())


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False

    number = StringField(
        "Certificate number",
        description="For example, KQ7MX-2PR9T",
        validators=[InputRequired("Enter the certificate number"), Length(max=40)],
        widget=GovTextInput(),
    )
    submit = SubmitField("Check", widget=GovSubmitInput())
