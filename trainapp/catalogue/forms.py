"""Forms for programmes, courses, venues, sessions and series; local times in, UTC out."""

from decimal import Decimal

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from trainapp.accounts.models import AGENCY_KIND_LABELS
from trainapp.catalogue.models import MAX_CAPACITY, CourseStatus, DeliveryMode
from trainapp.forms import (
    AppForm,
    DrawnOnceCheckbox,
    DrawnOnceSelect,
    DrawnOnceSubmit,
    GovDateField,
    SingleLine,
    TimeText,
    choices,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _yes_no(label: str):
    return BooleanField(label, widget=GovCheckboxInput())


class ProgrammeForm(AppForm):
    name = StringField(
        "Programme name",
        validators=[DataRequired("Enter the programme's name"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)], widget=GovTextArea())
    submit = SubmitField("Save programme", widget=GovSubmitInput())


class VenueForm(AppForm):
    name = StringField(
        "Venue name",
        validators=[DataRequired("Enter the venue's name"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    address = TextAreaField(
        "Address",
        validators=[DataRequired("Enter the venue's address"), Length(max=1000)],
        widget=GovTextArea(),
    )
    active = _yes_no("Available for new sessions")
    submit = SubmitField("Save venue", widget=GovSubmitInput())


class CourseForm(AppForm):
    programme = SelectField(
        "Programme", coerce=int, validators=[DataRequired("Choose a programme")], widget=GovSelect()
    )
    title = StringField(
        "Course title",
        validators=[DataRequired("Enter the course title"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    level = SelectField(
        "Level",
        choices=choices([("", "No level")] + [(str(n), f"Level {n}") for n in range(1, 5)]),
        validators=[Optional()],
        widget=GovSelect(),
    )
    summary = TextAreaField(
        "Summary", validators=[DataRequired("Enter a summary"), Length(max=4000)], widget=GovTextArea()
    )
    audience = TextAreaField("Who it is for", validators=[Optional(), Length(max=2000)], widget=GovTextArea())
    duration_hours = DecimalField(
        "Duration in hours",
        places=2,
        validators=[
            InputRequired("Enter the duration in hours, like 3 or 1.5"),
            NumberRange(min=Decimal("0.25"), max=24, message="Duration must be between 0.25 and 24 hours"),
        ],
        widget=GovTextInput(),
    )
    cpd_hours = DecimalField(
        "CPD hours",
        places=1,
        validators=[
            InputRequired("Enter the CPD hours, or 0"),
            NumberRange(min=0, max=100, message="CPD hours must be between 0 and 100"),
        ],
        widget=GovTextInput(),
    )
    refresher_months = IntegerField(
        "Refresher period in months",
        description="Leave empty if the course does not need refreshing.",
        validators=[
            Optional(),
            NumberRange(min=1, max=240, message="Refresher period must be 1 to 240 months"),
        ],
        widget=GovTextInput(),
    )
    prerequisite = SelectField("Course that must be completed first", coerce=int, widget=GovSelect())
    eligible_kinds = SelectMultipleField(
        "Kinds of agency that may book",
        description="Tick none to open the course to every agency.",
        choices=choices((k.value, label) for k, label in AGENCY_KIND_LABELS.items()),
        widget=GovCheckboxesInput(),
    )
    requires_approval = _yes_no("An agency lead must approve each booking")
    certificate_needs_evaluation = _yes_no("Learners give feedback before they get a certificate")
    partial_counts_as_completed = _yes_no("Partial attendance counts as having done the course")
    default_capacity = IntegerField(
        "Places per session",
        default=20,
        validators=[
            InputRequired("Enter the number of places"),
            NumberRange(min=1, max=MAX_CAPACITY, message=f"Places must be between 1 and {MAX_CAPACITY}"),
        ],
        widget=GovTextInput(),
    )
    cancellation_notice_days = IntegerField(
        "Cancellation notice in working days",
        default=5,
        description="Cancelling later than this counts as a late cancellation.",
        validators=[
            InputRequired("Enter the notice in working days, or 0"),
            NumberRange(min=0, max=60, message="Notice must be between 0 and 60 working days"),
        ],
        widget=GovTextInput(),
    )
    status = RadioField(
        "Status",
        choices=choices(
            [
                (CourseStatus.DRAFT.value, "Draft: only coordinators see it"),
                (CourseStatus.PUBLISHED.value, "Published: staff can find and book it"),
            ]
        ),
        default=CourseStatus.DRAFT.value,
        widget=GovRadioInput(),
    )
    submit = SubmitField("Save course", widget=GovSubmitInput())


class _SessionFields(AppForm):
    delivery_mode = RadioField(
        "How it is delivered",
        choices=choices((m.value, m.label) for m in DeliveryMode),
        validators=[InputRequired("Choose how the session is delivered")],
        widget=GovRadioInput(),
    )
    venue = SelectField("Venue", coerce=int, widget=GovSelect())
    joining_link = StringField(
        "Joining link",
        description="For online and hybrid sessions, starting https://",
        validators=[Optional(), Length(max=500), SingleLine()],
        widget=GovTextInput(),
    )
    capacity = IntegerField(
        "Places",
        validators=[
            InputRequired("Enter the number of places"),
            NumberRange(min=1, max=MAX_CAPACITY, message=f"Places must be between 1 and {MAX_CAPACITY}"),
        ],
        widget=GovTextInput(),
    )
    trainers = SelectMultipleField(
        "Trainers",
        coerce=int,
        widget=GovCheckboxesInput(),
        validators=[DataRequired("Choose at least one trainer")],
        # A trainer chosen may have left (or the id been altered) since the page was shown.
        invalid_choice_message="Choose each trainer from the list of active trainers",
    )
    notes = TextAreaField("Notes for attendees", validators=[Optional(), Length(max=4000)], widget=GovTextArea())
    confirm_clashes = BooleanField("Save anyway, despite the clashes", widget=GovCheckboxInput())


class SessionForm(_SessionFields):
    course = SelectField("Course", coerce=int, validators=[DataRequired("Choose a course")], widget=GovSelect())
    day = GovDateField("Date", validators=[DataRequired("Enter the date of the session")])
    start_time = TimeText("Start time", validators=[DataRequired("Enter the start time")], widget=GovTextInput())
    end_time = TimeText("End time", validators=[DataRequired("Enter the end time")], widget=GovTextInput())
    end_day = GovDateField(
        "End date",
        description="Only for a session that ends on a later day, such as an overnight session.",
        validators=[Optional()],
    )
    booking_opens_on = GovDateField(
        "Booking opens", description="Leave empty to open booking now.", validators=[Optional()]
    )
    booking_closes_on = GovDateField(
        "Booking closes", description="Leave empty to close booking at the start.", validators=[Optional()]
    )
    submit = SubmitField("Save session", widget=GovSubmitInput())


class SeriesForm(_SessionFields):
    course = SessionForm.course
    weekday = RadioField(
        "Day of the week",
        coerce=int,
        choices=choices(enumerate(WEEKDAYS)),
        validators=[InputRequired("Choose the day of the week")],
        widget=GovRadioInput(),
    )
    start_time = SessionForm.start_time
    end_time = SessionForm.end_time
    first_on = GovDateField("First date", validators=[DataRequired("Enter the first date")])
    last_on = GovDateField("Last date", validators=[DataRequired("Enter the last date")])
    skip = SelectMultipleField("Dates to leave out", widget=GovCheckboxesInput(), validate_choice=False)
    confirm_past = BooleanField("Create sessions on dates that have passed", widget=GovCheckboxInput())
    check = SubmitField("Check the dates", widget=GovSubmitInput())
    submit = SubmitField("Create the sessions", widget=GovSubmitInput())


class CancelSessionForm(AppForm):
    reason = TextAreaField(
        "Reason for cancelling",
        description="Everyone booked or waiting will be told this.",
        validators=[DataRequired("Enter a reason for cancelling"), Length(max=2000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Cancel the session", widget=GovSubmitInput())


class CancelSeriesForm(AppForm):
    from_on = GovDateField("Cancel sessions on or after", validators=[DataRequired("Enter the date to cancel from")])
    reason = CancelSessionForm.reason
    submit = SubmitField("Cancel these sessions", widget=GovSubmitInput())


class BrowseForm(AppForm):
    class Meta:
        csrf = False

    programme = SelectField("Programme", coerce=int, validators=[Optional()], widget=DrawnOnceSelect())
    course = SelectField("Course", coerce=int, validators=[Optional()], widget=DrawnOnceSelect())
    month = SelectField("Month", validators=[Optional()], widget=DrawnOnceSelect())
    mode = SelectField(
        "Delivery",
        choices=choices([("", "Any")] + [(m.value, m.label) for m in DeliveryMode]),
        validators=[Optional()],
        widget=DrawnOnceSelect(),
    )
    places = BooleanField("Only sessions with places left", widget=DrawnOnceCheckbox())
    when = SelectField(
        "Sessions",
        choices=choices([("upcoming", "Upcoming"), ("past", "Past"), ("all", "All")]),
        default="upcoming",
        validators=[Optional()],
        widget=DrawnOnceSelect(),
    )
    submit = SubmitField("Filter", widget=DrawnOnceSubmit())
