"""Form pieces shared by every feature."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SelectChoice, SubmitField
from wtforms.validators import ValidationError

from trainapp.text import has_line_breaks_or_controls


def choices(pairs) -> list[SelectChoice]:
    """Declared choices as WTForms wants them: (value, label) pairs become SelectChoice."""
    return [SelectChoice(value, label) for value, label in pairs]


def single_line_message(label: str) -> str:
    return f"{label} must be on one line, with no tabs or other special characters"


class SingleLine:
    """For every one-line field: no line breaks, tabs or other control characters.

    What counts is decided once, in ``trainapp.text``; the command line and services ask the
    same question through ``check_single_line``.
    """

    field_flags = {}

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and has_line_breaks_or_controls(field.data):
            raise ValidationError(single_line_message(field.label.text))


def check_single_line(value: str, label: str) -> str | None:
    """The message for a value that is not one line, or None when it is."""
    return single_line_message(label) if has_line_breaks_or_controls(value or "") else None


class ConfirmForm(FlaskForm):
    """A button and a CSRF token: for actions that need no other input."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


def show_domain_error(form: FlaskForm, error) -> None:
    """Put a service's refusal beside the field it is about, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if field.errors else [error.message]
    else:
        form.form_errors.append(error.message)


def error_list(form: FlaskForm) -> list[dict]:
    """Items for the error summary: each field's first error, linked to the field."""
    items = [{"text": message} for message in form.form_errors]
    for field in form:
        if field.errors:
            items.append({"text": field.errors[0], "href": f"#{field.id}"})
    return items
