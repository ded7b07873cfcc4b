"""Forms for signing in, registering, passwords, users and agencies."""

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from trainapp.accounts.models import AGENCY_KIND_LABELS, ROLE_LABELS
from trainapp.forms import AppForm, SingleLine

EMAIL_REQUIRED = "Enter your work email address"
# WTForms 3.3 deprecates (value, label) tuples as declared choices: with warnings as
# errors they turn every page with one of these forms into a server error.
ROLE_CHOICES = [SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]


def _email_field(label: str = "Work email address", message: str = EMAIL_REQUIRED):
    return StringField(
        label,
        validators=[DataRequired(message), Length(max=254, message="Email address is too long"), SingleLine()],
        widget=GovTextInput(),
    )


def _new_password_fields():
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter a password")],
        description="At least 12 characters. A few unrelated words together are easy to remember and hard to guess.",
        widget=GovPasswordInput(),
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[
            DataRequired("Confirm your password"),
            EqualTo("password", "The passwords do not match"),
        ],
        widget=GovPasswordInput(),
    )
    return password, confirm


class SignInForm(AppForm):
    email = _email_field("Email address", "Enter your email address")
    password = PasswordField("Password", validators=[DataRequired("Enter your password")], widget=GovPasswordInput())
    remember = BooleanField("Keep me signed in on this device", widget=GovCheckboxInput())
    next = HiddenField()
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class RegisterEmailForm(AppForm):
    email = _email_field()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RegisterDetailsForm(AppForm):
    name = StringField(
        "Full name",
        validators=[DataRequired("Enter your full name"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    job_title = StringField(
        "Job title",
        validators=[DataRequired("Enter your job title"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    agency = RadioField(
        "Which agency do you work for?",
        coerce=int,
        validators=[Optional()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    password, confirm = _new_password_fields()
    submit = SubmitField("Create account", widget=GovSubmitInput())


class AccessRequestForm(AppForm):
    name = RegisterDetailsForm.name
    job_title = RegisterDetailsForm.job_title
    organisation = StringField(
        "Organisation you work for",
        validators=[DataRequired("Enter the organisation you work for"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    password, confirm = _new_password_fields()
    submit = SubmitField("Ask for access", widget=GovSubmitInput())


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password")],
        widget=GovPasswordInput(),
    )
    password, confirm = _new_password_fields()
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ForgotPasswordForm(AppForm):
    email = _email_field("Email address", "Enter your email address")
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


class ResetPasswordForm(AppForm):
    password, confirm = _new_password_fields()
    submit = SubmitField("Set new password", widget=GovSubmitInput())


class AgencyForm(AppForm):
    name = StringField(
        "Agency name",
        validators=[DataRequired("Enter the agency's name"), Length(max=200), SingleLine()],
        widget=GovTextInput(),
    )
    kind = SelectField(
        "Kind of agency",
        choices=[SelectChoice("", "Choose a kind")] + [SelectChoice(k.value, v) for k, v in AGENCY_KIND_LABELS.items()],
        validators=[DataRequired("Choose the kind of agency")],
        widget=GovSelect(),
    )
    domains = TextAreaField(
        "Email domains",
        description="The part after the @ in staff email addresses, one per line. "
        "Staff with these addresses can register themselves.",
        validators=[Length(max=2000)],
        widget=GovTextArea(),
    )
    is_partner = RadioField(
        "Is this a partner agency?",
        choices=[
            SelectChoice("yes", "Yes, a partner agency"),
            SelectChoice("no", "No, a non-partner organisation"),
        ],
        validators=[InputRequired("Say whether this is a partner agency")],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Save agency", widget=GovSubmitInput())


class UserForm(AppForm):
    name = RegisterDetailsForm.name
    job_title = StringField("Job title", validators=[Optional(), Length(max=200), SingleLine()], widget=GovTextInput())
    role = SelectField("Role", choices=ROLE_CHOICES, widget=GovSelect())
    agency = SelectField("Agency", coerce=int, widget=GovSelect())
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ApproveAccessForm(AppForm):
    agency = SelectField("Agency", coerce=int, validators=[DataRequired("Choose an agency")], widget=GovSelect())
    role = SelectField("Role", choices=ROLE_CHOICES, widget=GovSelect())
    submit = SubmitField("Approve and create account", widget=GovSubmitInput())


class RejectAccessForm(AppForm):
    reason = TextAreaField(
        "Reason",
        description="The person will be sent this.",
        validators=[DataRequired("Enter a reason for rejecting the request"), Length(max=2000)],
        widget=GovTextArea(),
    )
    submit = SubmitField("Reject request", widget=GovSubmitInput(), render_kw={})


class UserSearchForm(AppForm):
    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=200)], widget=GovTextInput())
    role = SelectField(
        "Role",
        choices=[SelectChoice("", "Any role"), *ROLE_CHOICES],
        validators=[Optional()],
        widget=GovSelect(),
    )
    agency = SelectField("Agency", coerce=int, validators=[Optional()], widget=GovSelect())
    submit = SubmitField("Search", widget=GovSubmitInput())


def _security_code_field(description: str):
    return StringField(
        "Security code",
        description=description,
        validators=[
            DataRequired("Enter the security code from your authenticator app"),
            Length(max=40),
            SingleLine(),
        ],
        widget=GovTextInput(),
    )


class SecurityCodeForm(AppForm):
    code = _security_code_field(
        "The 6-digit code your authenticator app shows now. If you have lost your phone, "
        "enter one of your recovery codes instead."
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SetUpAuthenticatorForm(AppForm):
    code = _security_code_field("The 6-digit code your authenticator app shows once it has the QR code or key.")
    submit = SubmitField("Turn on", widget=GovSubmitInput())
