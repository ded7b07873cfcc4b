"""Money as people type it and read it: one parser, one format, integer pence throughout."""

import pytest

from trainapp.errors import DomainError
from trainapp.money import MAX_PENCE, format_money, parse_money, to_input


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("£1,234.56", 123456),
        ("1234.56", 123456),
        ("1234", 123400),
        ("1,234", 123400),
        ("£1234", 123400),
        ("£ 12.5", 1250),
        ("  99.99  ", 9999),
        ("0", 0),
        ("0.01", 1),
        ("£12,345,678.90", 1234567890),
        ("100000000", MAX_PENCE),  # £100 million exactly is still allowed
    ],
)
def test_amounts_as_people_type_them_become_pence(typed, pence):
    assert parse_money(typed) == pence
    assert isinstance(parse_money(typed), int)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount, like 1,234.56"),
        ("   ", "Enter an amount, like 1,234.56"),
        (None, "Enter an amount, like 1,234.56"),
        ("-5", "Enter an amount of zero or more"),
        ("-0.01", "Enter an amount of zero or more"),
        ("£-5.00", "Enter an amount of zero or more"),
        ("12.345", "Enter an amount with no more than 2 decimal places, like 12.34"),
        ("£1,234.567", "Enter an amount with no more than 2 decimal places, like 12.34"),
        ("twelve pounds", "Enter an amount in pounds, like 1,234.56"),
        ("12abc", "Enter an amount in pounds, like 1,234.56"),
        ("£12.34p", "Enter an amount in pounds, like 1,234.56"),
        ("1,23", "Enter an amount in pounds, like 1,234.56"),
        ("12,34.56", "Enter an amount in pounds, like 1,234.56"),
        ("1 234", "Enter an amount in pounds, like 1,234.56"),
        ("12.", "Enter an amount in pounds, like 1,234.56"),
        (".5", "Enter an amount in pounds, like 1,234.56"),
        ("1e3", "Enter an amount in pounds, like 1,234.56"),
        ("NaN", "Enter an amount in pounds, like 1,234.56"),
        ("$12", "Enter an amount in pounds, like 1,234.56"),
        ("=1+1", "Enter an amount in pounds, like 1,234.56"),
        ("100000000.01", "That amount is too large"),
    ],
)
def test_bad_amounts_are_refused_with_a_message(typed, message):
    with pytest.raises(DomainError) as refused:
        parse_money(typed, "amount")
    assert refused.value.message == message
    assert refused.value.field == "amount"


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (0, "£0"),
        (5, "£0.05"),
        (50, "£0.50"),
        (100, "£1"),
        (123456, "£1,234.56"),
        (100_000_000_00, "£100,000,000"),
        (-150, "-£1.50"),
        (None, ""),
    ],
)
def test_pence_are_shown_as_pounds_with_commas(pence, shown):
    assert format_money(pence) == shown


@pytest.mark.parametrize("pence", [0, 1, 99, 100, 123456, 100_000_000_00])
def test_what_is_shown_and_put_back_in_a_form_reads_back_the_same(pence):
    assert parse_money(format_money(pence)) == pence
    assert parse_money(to_input(pence)) == pence


def test_a_form_shows_amounts_without_the_pound_sign_or_commas():
    assert to_input(123456) == "1234.56"
    assert to_input(5) == "0.05"
    assert to_input(None) == ""


@pytest.mark.parametrize(
    ("pence", "by", "share"),
    [
        (5, 2, 3),  # 2.5p: halves go up, not to the even penny
        (25, 10, 3),
        (1_000_005, 2, 500_003),
        (1_500_00, 22, 68_18),  # £68.1818...
        (1_500_00, 9, 166_67),  # £166.666...
        (2_000_00 * 365, 183, 3_989_07),
        (5 * 365, 2, 913),  # a forecast: 912.5p
        (0, 7, 0),
    ],
)
def test_a_share_of_an_amount_is_rounded_half_up_to_the_penny(pence, by, share):
    from trainapp.money import divide_pence

    assert divide_pence(pence, by) == share


def test_dividing_money_by_nothing_is_refused():
    from trainapp.money import divide_pence

    with pytest.raises(ZeroDivisionError):
        divide_pence(100, 0)
