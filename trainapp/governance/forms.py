"""The audit trail's search form."""

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from trainapp.forms import AppForm, GovDateField


class AuditSearchForm(AppForm):
    class Meta:
        csrf = False

    person = StringField(
        "Person",
        description="Who did it or who it was about: part of a name, or a whole email address for one person",
        validators=[Optional(), Length(max=254)],
        widget=GovTextInput(),
    )
    session = IntegerField(
        "Session number",
        description="The number at the end of the session's web address, like 1234 in /sessions/1234",
        validators=[Optional()],
        widget=GovTextInput(),
    )
    action = SelectField("What happened", validators=[Optional()], widget=GovSelect())
    start = GovDateField("From", validators=[Optional()])
    end = GovDateField("To", validators=[Optional()])
    submit = SubmitField("Search", widget=GovSubmitInput())
