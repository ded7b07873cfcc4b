"""Forms for the register, walk-ins, evaluations and the certificate check."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, Form, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from trainapp.bookings.models import AttendanceStatus, Booking
from trainapp.forms import AppForm, SingleLine, choices

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


class MinutesMissedField(Field):
    """Minutes missed, typed by a person: blank is None, and anything that is not a whole number is 0,
    which the register refuses with a message for a partial mark and ignores for any other."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        try:
            self.data = int(text) if text else None
        except ValueError:
            self.data = 0

    def _value(self) -> str:
        # What was typed is shown again as typed, so a mistake can be seen and corrected.
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class RegisterRowForm(Form):
    """One learner's row of the register: the mark chosen and, for a partial mark, the minutes missed.

    Its inputs are named after the booking (``mark-<id>``, ``minutes-<id>``), not its place in the
    list, so a row keeps its name if someone joins or leaves the register while the page is open.
    """

    class Meta:
        def bind_field(self, form, unbound_field, options):
            booking_id = options["prefix"].rstrip("-")
            return unbound_field.bind(form=form, **{**options, "name": f"{options['name']}-{booking_id}", "prefix": ""})

    # Checked by ``RegisterForm.marks``: a status that does not exist is a forged form, a bad request.
    mark = RadioField(choices=choices((s.value, s.label) for s in AttendanceStatus), validate_choice=False)
    minutes = MinutesMissedField("Minutes missed")

    def __init__(self, booking: Booking, formdata=None):
        self.booking = booking
        # Posted rows show what was sent: a row sent with no mark is "no choice", not what was saved.
        saved = {"mark": booking.attendance.value if booking.attendance else "", "minutes": booking.minutes_missed}
        super().__init__(formdata, prefix=str(booking.id), data=saved if formdata is None else None)


class RegisterForm(AppForm):
    """The register: a row for each booking, and the reason for correcting a locked register."""

    reason = TextAreaField("Reason for the correction", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    save = SubmitField("Save marks", widget=GovSubmitInput())
    submit = SubmitField("Submit the register", widget=GovSubmitInput())

    def __init__(self, bookings: list[Booking], *args, **kwargs):
        self.bookings = bookings
        super().__init__(*args, **kwargs)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data, extra_filters, **kwargs)
        self._row_data = self.meta.wrap_formdata(self, formdata)
        self.show_rows(self.bookings)

    def show_rows(self, bookings: list[Booking]) -> None:
        """A row for each booking, holding what was sent for it, or what is saved when nothing was sent."""
        self.bookings = bookings
        self.rows = [RegisterRowForm(booking, self._row_data) for booking in bookings]

    def marks(self) -> dict[int, tuple[AttendanceStatus, int | None]]:
        """(status, minutes missed) for each row with a mark chosen; a row with no choice is left as it was.

        Raises ValueError for a status that does not exist (only a forged form sends one).
        """
        return {
            row.booking.id: (AttendanceStatus(row.mark.data), row.minutes.data) for row in self.rows if row.mark.data
        }


class EveryoneAttendedForm(AppForm):
    reason = TextAreaField("Reason for the correction", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    submit = SubmitField("Mark everyone attended", widget=GovSubmitInput())


class WalkInForm(AppForm):
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


class EvaluationForm(AppForm):
    confidence_before = RadioField(
        "Before the course, how confident did you feel about this topic?",
        choices=SCORES,
        validators=[InputRequired("Choose a score from 1 to 5")],
        invalid_choice_message="Choose a score from 1 to 5",
        widget=GovRadioInput(),
    )
    confidence_after = RadioField(
        "Now, how confident do you feel?",
        choices=SCORES,
        validators=[InputRequired("Choose a score from 1 to 5")],
        invalid_choice_message="Choose a score from 1 to 5",
        widget=GovRadioInput(),
    )
    comments = TextAreaField(
        "Anything else to tell us? (optional)",
        validators=[Optional(), Length(max=4000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Send", widget=GovSubmitInput())


class VerifyForm(AppForm):
    class Meta:
        csrf = False

    number = StringField(
        "Certificate number",
        description="For example, KQ7MX-2PR9T",
        validators=[InputRequired("Enter the certificate number"), Length(max=40)],
        widget=GovTextInput(),
    )
    submit = SubmitField("Check", widget=GovSubmitInput())
