"""Forms for uploading a staff or leavers list and confirming what it will do."""

from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovFileInput, GovRadioInput, GovSelect, GovSubmitInput
from wtforms import BooleanField, RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired

from trainapp.forms import AppForm, choices
from trainapp.people.models import ImportKind

KIND_LABELS = {
    ImportKind.STAFF: "New and existing staff",
    ImportKind.LEAVERS: "Leavers",
}


class UploadForm(AppForm):
    # Coordinators only: an agency lead's rows always belong to their own agency.
    agency = SelectField(
        "Agency",
        coerce=int,
        default=0,
        description="The agency everyone in the file works for",
        widget=GovSelect(),
    )
    file = FileField(
        "Upload a file",
        validators=[FileRequired("Select a CSV or Excel file")],
        description="A CSV file or an Excel workbook (.xlsx)",
        widget=GovFileInput(),
        render_kw={"accept": ".csv,.xlsx"},
    )
    kind = RadioField(
        "What is in the file?",
        choices=choices((kind.value, label) for kind, label in KIND_LABELS.items()),
        validators=[InputRequired("Select what is in the file")],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class ApplyForm(AppForm):
    apply_valid = BooleanField(
        "Apply the valid rows and leave out the rows with errors",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Apply", widget=GovSubmitInput())
