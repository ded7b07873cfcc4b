"""Form pieces shared by every feature: one-line text, dates, times, money and agency choices."""

import re
from collections.abc import Callable
from datetime import date, time
from typing import TypeVar

from flask import flash, get_flashed_messages, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovDateInput, GovSelect, GovSubmitInput, GovTextInput
from jinja2 import pass_context
from markupsafe import Markup
from wtforms import DateField, Field, SelectChoice, StringField, SubmitField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from trainapp.errors import DomainError
from trainapp.money import parse_money, to_input
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

    field_flags: dict[str, object] = {}

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and has_line_breaks_or_controls(field.data):
            raise ValidationError(single_line_message(field.label.text))


def check_single_line(value: str, label: str) -> str | None:
    """The message for a value that is not one line, or None when it is."""
    return single_line_message(label) if has_line_breaks_or_controls(value or "") else None


def _subject(label: str) -> str:
    """A field's label as it reads inside a sentence: 'Places to hold' -> 'places to hold', 'CPD hours' stays."""
    first = label.split(" ", 1)[0]
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]


def _is_choice(field) -> bool:
    return hasattr(field, "choices")


def gov_uk_message(field, default: str) -> str | None:
    """The GOV.UK-style wording, naming the field, for one of the form library's own messages.

    Every field's message goes through here (see AppForm), so "Not a valid integer value" or
    "This field is required" never reaches a person. None when the text is not one of them."""
    label = field.label.text.rstrip("?: ") if field.label else field.name
    # Messages the library fills in later with "%" values must not be broken by a "%" in a label.
    safe_label = label.replace("%", "%%")
    subject = _subject(label)
    if default == "This field is required.":
        return f"Select {subject}" if _is_choice(field) else f"Enter {subject}"
    if default == "Not a valid integer value.":
        return f"{label} must be a whole number"
    if default in ("Not a valid decimal value.", "Not a valid float value."):
        return f"{label} must be a number"
    if default in ("Not a valid date value.", "Not a valid datetime value."):
        return f"{label} must be a real date"
    if default == "Not a valid time value.":
        return f"Enter {subject} as a time, like 10:00 or 14:30"
    if default in (
        "Not a valid choice.",
        "Invalid Choice: could not coerce.",
        "Invalid choice(s): one or more data inputs could not be coerced.",
        "'%(value)s' is not a valid choice for this field.",
        "Choices cannot be None.",
    ):
        in_a_list = field.type.startswith("Select")
        return f"Choose {subject} from the list" if in_a_list else f"Select an answer for {subject}"
    if default.startswith("Field cannot be longer than"):
        return f"{safe_label} must be %(max)d characters or fewer"
    if default.startswith("Field must be at least"):
        return f"{safe_label} must be %(min)d characters or more"
    if default.startswith(("Field must be between", "Field must be exactly")):
        return f"{safe_label} must be between %(min)d and %(max)d characters"
    if default == "Number must be at least %(min)s.":
        return f"{safe_label} must be %(min)s or more"
    if default == "Number must be at most %(max)s.":
        return f"{safe_label} must be %(max)s or less"
    if default == "Number must be between %(min)s and %(max)s.":
        return f"{safe_label} must be between %(min)s and %(max)s"
    if default == "Invalid email address.":
        return "Enter an email address in the correct format, like name@example.com"
    if default == "Field must be equal to %(other_name)s.":
        return f"{safe_label} must match %(other_label)s"
    if default in ("Invalid input.", "Invalid value, must be one of: %(values)s."):
        return f"Enter {subject} in the correct format"
    return None


class _GovUkMessages:
    """The translations one field's messages go through: the library's wording swapped for GOV.UK's."""

    def __init__(self, field, fallback):
        self.field = field
        self.fallback = fallback

    def gettext(self, string: str) -> str:
        return gov_uk_message(self.field, string) or self.fallback.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return gov_uk_message(self.field, singular) or self.fallback.ngettext(singular, plural, n)


_DRAWN: dict[str, Markup] = {}
_MOST_DRAWN = 512


class _DrawnOnce:
    """Draws a control once for each distinct set of GOV.UK params, then reuses the HTML.

    The GOV.UK macros cost about a tenth of a millisecond an option, and a filter form draws
    the same lists, with the same choice, on nearly every request. The params hold everything
    the macro reads (labels, options, the choice, errors), so equal params draw equal HTML."""

    def render(self, params):
        key = f"{self.template}\n{params!r}"  # type: ignore[attr-defined]
        drawn = _DRAWN.get(key)
        if drawn is None:
            drawn = super().render(params)  # type: ignore[misc]
            if len(_DRAWN) >= _MOST_DRAWN:
                _DRAWN.clear()
            _DRAWN[key] = drawn
        return drawn


class DrawnOnceSelect(_DrawnOnce, GovSelect):
    pass


class DrawnOnceCheckbox(_DrawnOnce, GovCheckboxInput):
    pass


class DrawnOnceSubmit(_DrawnOnce, GovSubmitInput):
    pass


class AppForm(FlaskForm):
    """The base of every form in the service: the form library's messages in the GOV.UK style."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = unbound_field.bind(form=form, **options)
            field._translations = _GovUkMessages(field, field._translations)
            return field


class ConfirmForm(AppForm):
    """A button and a CSRF token: for actions that need no other input."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


def show_domain_error(form: FlaskForm, error) -> None:
    """Put a service's refusal beside the field it is about, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if field.errors else [error.message]
    else:
        form.form_errors.append(error.message)
        if error.field:
            # A control the page draws itself (a register row's box): the summary links to it by id.
            _drawn_controls(form)[error.message] = error.field


def _drawn_controls(form: FlaskForm) -> dict[str, str]:
    if not hasattr(form, "_drawn_controls"):
        form._drawn_controls = {}
    return form._drawn_controls


def _whole_form_target(form: FlaskForm) -> str | None:
    """Where an error about the whole form (a wrong password) is put right: its first required field.

    Only a required field is sure to be on the page; a form with none gives no link rather than
    a link to a box the page may not show.
    """
    first = next((field for field in form if field.flags.required and field.type != "HiddenField"), None)
    return first.id if first else None


def error_list(form: FlaskForm) -> list[dict]:
    """Items for the error summary: each field's first error, linked to the field.

    An error about the whole form links to the control the refusal named, or else to the form's
    first required field, where a person starts putting it right.
    """
    items = []
    for message in form.form_errors:
        target = _drawn_controls(form).get(message) or _whole_form_target(form)
        items.append({"text": message, "href": f"#{target}"} if target else {"text": message})
    for field in form:
        if field.errors:
            items.append({"text": field.errors[0], "href": f"#{field.id}"})
    return items


def flash_error(message: str, control_id: str | None = None) -> None:
    """Carry a refusal to the next page's error summary, linked to the control that puts it right.

    ``control_id`` is the id of that control on the page redirected to; without one the item
    is shown as text (a refusal nothing on the page can resolve).
    """
    item = {"text": message, "href": f"#{control_id}"} if control_id else {"text": message}
    # Flask keeps any JSON value in the session; its signature only admits text.
    flash(item, "error")  # type: ignore[arg-type]


def flash_form_errors(form: FlaskForm, control_id: Callable[[Field], str] = lambda field: field.id) -> None:
    """Carry a failed form's errors to the next page, each linked to its field there.

    For forms repeated on the page redirected to (one per row), ``control_id`` gives the id of
    the field on the row the form was sent from.
    """
    for field in form:
        if field.errors:
            flash_error(field.errors[0], control_id(field))


@pass_context
def error_summary_items(context) -> list[dict]:
    """The page's one error summary: refusals carried from the last request, then this page's failed form.

    Every failed form in the page's context counts, so a failed second form (a reason box
    beside the main form) is summarised in the same place.
    """
    items = [
        dict(message) if isinstance(message, dict) else {"text": message}
        for message in get_flashed_messages(category_filter=["error"])
    ]
    for value in context.get_all().values():
        if isinstance(value, FlaskForm) and value.errors:
            items.extend(error_list(value))
    return items


def form_action() -> str:
    """Where a form posts: this page's path and query, written out.

    A form without an action posts to the address in the bar, fragment included, and the
    redirect after it keeps that fragment; after "Skip to main content" ("#main-content")
    the browser would then move to the main content instead of the error summary or banner.
    """
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


@pass_context
def page_has_errors(context) -> bool:
    """Whether the page shows an error summary: any form it was given failed, or a refusal was flashed.

    Looked at from the page's context rather than one variable's name, so a page whose failed
    form is not called `form` (a second form beside the main one) still gets "Error: " in its title.
    """
    if get_flashed_messages(category_filter=["error"]):
        return True
    return any(isinstance(value, FlaskForm) and value.errors for value in context.get_all().values())


# Dates, times and money: typed as people type them, turned into values once, here -----------


class GovDateField(DateField):
    """Three boxes (day, month, year); a date that does not exist gets a clear message."""

    # Set by WTForms' Field, which has no type hints: what was sent, before parsing.
    raw_data: list[str] | None

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", widget=GovDateInput(), **kwargs)

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        # The widget shows exactly three boxes: anything else sent is shown as empty boxes.
        if self.raw_data is not None and len(self.raw_data) != 3:
            self.raw_data = None

    def process_formdata(self, valuelist):
        if not valuelist or not any(v.strip() for v in valuelist):
            self.data = None
            self.raw_data = valuelist
            return
        try:
            day, month, year = (int(v) for v in valuelist)
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2027") from None

    def pre_validate(self, form):
        # Stop here, or DataRequired would replace "must be a real date" with "Enter the date".
        if self.process_errors:
            raise StopValidation()


_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)


def parse_time(text: str) -> time:
    """Accept '10:00', '10.00', '14:30', '10am', '2:30pm'."""
    match = _TIME.match(text or "")
    if not match:
        raise ValueError(text)
    hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if suffix:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return time(hour, minute)


class TimeText(StringField):
    """A time of day typed as text, so every phone and browser shows the same field."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.time = None
        if self.data:
            try:
                self.time = parse_time(self.data)
            except ValueError:
                self.time = None

    def pre_validate(self, form):
        if self.data and self.time is None:
            raise ValidationError(f"Enter {self.label.text.lower()} as a time, like 10:00 or 14:30")


class MoneyField(Field):
    """An amount typed in pounds ('£1,234.56'); its ``data`` is integer pence, or None when left blank.

    Parsed once, by ``money.parse_money``, so every form gives the same messages. What was typed is
    shown again when it is refused.
    """

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist and valuelist[0] else ""
        self.data = None
        if text:
            try:
                self.data = parse_money(text)
            except DomainError as error:
                raise ValueError(error.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return to_input(self.data) if isinstance(self.data, int) else ""

    def pre_validate(self, form):
        # A refused amount says why; "Enter the amount" would only repeat that it is missing.
        if self.process_errors:
            raise StopValidation()


class Entered:
    """Required, for fields whose value may be falsy (an amount of £0.00 is an amount)."""

    def __init__(self, message: str):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        if field.data is None:
            raise StopValidation(self.message)


T = TypeVar("T")


def validated(value: T | None) -> T:
    """A required field's value once its form has validated.

    A date or time field holds None until something is entered, so its value is typed as
    optional; a view reads a required one only after validation, when it is always there.
    """
    if value is None:
        raise ValueError("a required field was read before its form was validated")
    return value


def agency_choices(agencies, blank_label: str | None = "Choose an agency") -> list[tuple[int, str]]:
    """Options for an agency select: its agencies by id and name, after a blank option (value 0) if labelled."""
    blank = [(0, blank_label)] if blank_label is not None else []
    return blank + [(agency.id, agency.name) for agency in agencies]
