"""The shared form fields: money typed in pounds becomes pence once, in the field; an amount of
nothing is still an amount; agency choices are built one way."""

from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import Optional

from trainapp.forms import Entered, MoneyField, agency_choices


class AmountForm(Form):
    amount = MoneyField("Amount", validators=[Entered("Enter the amount")])
    extra = MoneyField("Extra", validators=[Optional()])


def _posted(**data) -> AmountForm:
    form = AmountForm(MultiDict(data))
    form.validate()
    return form


@pytest.mark.parametrize(("typed", "pence"), [("£1,234.56", 123456), ("1234.5", 123450), ("0", 0), (" 7 ", 700)])
def test_an_amount_typed_in_pounds_is_pence_in_the_field(typed, pence):
    form = _posted(amount=typed)
    assert form.amount.data == pence and form.errors == {}


def test_a_blank_amount_is_missing_but_nought_is_an_amount():
    assert _posted(amount="   ").errors == {"amount": ["Enter the amount"]}
    assert _posted(amount="0.00").amount.data == 0


def test_a_refused_amount_says_why_once_and_is_shown_as_typed():
    form = _posted(amount="12.345")
    assert form.errors == {"amount": ["Enter an amount with no more than 2 decimal places, like 12.34"]}
    assert form.amount._value() == "12.345"


def test_an_optional_amount_left_blank_is_none():
    form = _posted(amount="5")
    assert form.extra.data is None and form.errors == {}


def test_an_amount_from_the_database_is_shown_ready_to_edit():
    form = AmountForm(data={"amount": 123456})
    assert form.amount._value() == "1234.56"


def test_agency_choices_put_the_blank_option_first_only_when_labelled():
    agencies = [SimpleNamespace(id=3, name="Downs Council"), SimpleNamespace(id=1, name="Wessex Police")]
    assert agency_choices(agencies) == [(0, "Choose an agency"), (3, "Downs Council"), (1, "Wessex Police")]
    assert agency_choices(agencies, None) == [(3, "Downs Council"), (1, "Wessex Police")]
