"""Forms for booking, cancelling, transferring, approving and holding places."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, IntegerField, RadioField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from trainapp.bookings.access_needs import DETAILS_LABEL, NeedsAnswer, answer_problem, clean_details
from trainapp.bookings.models import AccessNeed, BookingAccessNeeds, SavedAccessNeeds
from trainapp.catalogue.forms import CancelSessionForm
from trainapp.forms import AppForm, GovDateField, choices

NEED_CHOICES = choices((need.value, need.label) for need in AccessNeed)


def _needs_field(label: str) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=NEED_CHOICES,
        description="Select all that apply, or none. We tell only the people who arrange and run the session.",
        # Checked against the list below, with a message that names the question.
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )


class _NeedsQuestion(AppForm):
    """The optional question about adjustments, on every form that books or changes a booking.

    Without JavaScript the details box is simply shown below the checkboxes."""

    needs = _needs_field("Do you need any adjustments to take part?")
    needs_details = TextAreaField(
        DETAILS_LABEL,
        description="Needed if you select Other or Dietary requirement.",
        widget=GovTextArea(),
    )
    # Whose needs these are: the wording of the question and its messages follows it.
    for_someone_else = False

    def validate_needs(self, field):
        known = {need.value for need in AccessNeed}
        if any(value not in known for value in field.data or []):
            raise ValidationError("Select adjustments from the list")

    def validate_needs_details(self, field):
        if self.needs.errors:
            return
        problem = answer_problem(self._chosen(), field.data or "", for_someone_else=self.for_someone_else)
        if problem:
            raise ValidationError(problem)

    def _chosen(self) -> list[AccessNeed]:
        return [need for need in AccessNeed if need.value in (self.needs.data or [])]

    def answer(self) -> NeedsAnswer:
        save = getattr(self, "save_needs", None)
        return NeedsAnswer(self._chosen(), clean_details(self.needs_details.data), bool(save and save.data))

    def fill_from(self, needs: SavedAccessNeeds | BookingAccessNeeds | None) -> None:
        """Show what was saved before (on a page opened, never on one sent)."""
        if needs is not None:
            self.needs.data = [need.value for need in needs.needs]
            self.needs_details.data = needs.details


class BookForm(_NeedsQuestion):
    save_needs = BooleanField("Save these for my next booking", widget=GovCheckboxInput())
    submit = SubmitField("Confirm booking", widget=GovSubmitInput())


class AccessNeedsForm(_NeedsQuestion):
    """The needs on a booking already made, or saved on a person's profile."""

    save_needs = BooleanField("Save these for my next booking", widget=GovCheckboxInput())
    submit = SubmitField("Save access needs", widget=GovSubmitInput())


class BookingAccessNeedsForOthersForm(_NeedsQuestion):
    """The same, for someone changing the needs on a booking they made for someone else."""

    needs = _needs_field("Do they need any adjustments to take part?")
    for_someone_else = True
    submit = SubmitField("Save access needs", widget=GovSubmitInput())


class SavedAccessNeedsForm(_NeedsQuestion):
    """The needs a person keeps on their profile, offered again each time they book."""

    submit = SubmitField("Save access needs", widget=GovSubmitInput())
    clear = SubmitField("Clear my access needs", widget=GovSubmitInput())

    def validate_needs_details(self, field):
        # Clearing forgets whatever is in the boxes: nothing in them can be wrong.
        if not self.clear.data:
            super().validate_needs_details(field)


class BookForOthersForm(_NeedsQuestion):
    people = SelectMultipleField(
        "Who to book",
        coerce=int,
        # Someone not offered is a forged request, which the view refuses with 400.
        validate_choice=False,
        widget=GovCheckboxesInput(),
        validators=[DataRequired("Choose at least one person")],
    )
    needs = _needs_field("Do they need any adjustments to take part?")
    for_someone_else = True
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
