"""Forms for booking, cancelling, transferring, approving and holding places."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import IntegerField, RadioField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from trainapp.catalogue.forms import CancelSessionForm
from trainapp.forms import AppForm, GovDateField, choices


class BookForm(AppForm):
    submit = SubmitField("Confirm booking", widget=GovSubmitInput())


class BookForOthersForm(AppForm):
    people = SelectMultipleField(
        "Who to book",
        coerce=int,
        # Someone not offered is a forged request, which the view refuses with 400.
        validate_choice=False,
        widget=GovCheckboxesInput(),
        validators=[DataRequired("Choose at least one person")],
    )
    submit = SubmitField("Book places", widget=GovSubmitInput())


class ChooseAgencyForm(AppForm):
    class Meta:
        csrf = False

    agency = SelectField("Agency", coerce=int, validators=[Optional()], widget=GovSelect())
    show = SubmitField("Show staff", widget=GovSubmitInput())


class CancelBookingForm(AppForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)], widget=GovTextArea())
    submit = SubmitField("Cancel the booking", widget=GovSubmitInput())


class TransferForm(AppForm):
    colleague = RadioField(
        "Colleague to send instead",
        coerce=int,
        validate_choice=False,
        validators=[InputRequired("Choose the colleague who will go instead")],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Transfer the place", widget=GovSubmitInput())


class DecisionForm(AppForm):
    submit = SubmitField("Approve", widget=GovSubmitInput())


class DeclineForm(AppForm):
    reason = TextAreaField(
        "Reason",
        description="The person will be told this.",
        validators=[DataRequired("Enter a reason: the person will be told it"), Length(max=1000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Decline the request", widget=GovSubmitInput())


class MoveForm(AppForm):
    position = IntegerField(
        "New position",
        validators=[InputRequired("Enter the new position"), NumberRange(min=1, message="Enter 1 or more")],
        widget=GovTextInput(),
    )
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Enter a reason for moving this person"), Length(max=1000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Move", widget=GovSubmitInput())


class ReservationForm(AppForm):
    agency = SelectField("Agency", coerce=int, validators=[DataRequired("Choose an agency")], widget=GovSelect())
    places = IntegerField(
        "Places to hold",
        validators=[
            InputRequired("Enter how many places to hold"),
            NumberRange(min=1, max=500, message="Enter 1 to 500"),
        ],
        widget=GovTextInput(),
    )
    release_on = GovDateField(
        "Release unused places on",
        description="Leave empty to release them when the cancellation notice starts.",
        validators=[Optional()],
    )
    submit = SubmitField("Hold places", widget=GovSubmitInput())


class CancelSeriesForm(AppForm):
    which = RadioField(
        "Which sessions do you want to cancel?",
        choices=choices([("all", "Every session still to come"), ("from", "Sessions on or after a date")]),
        validators=[InputRequired("Choose which sessions to cancel")],
        widget=GovRadioInput(),
    )
    from_on = GovDateField(
        "Cancel sessions on or after", description="Only when cancelling sessions on or after a date"
    )
    reason = CancelSessionForm.reason
    submit = SubmitField("Cancel these sessions", widget=GovSubmitInput())

    def validate_from_on(self, field):
        if self.which.data == "from" and field.data is None:
            raise ValidationError("Enter the date to cancel from")
