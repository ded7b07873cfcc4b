"""Money is integer pence: one parser for what people type, one format for what they read."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from trainapp.errors import DomainError

_MONEY = re.compile(r"^£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
MAX_PENCE = 100_000_000_00  # £100 million: larger is a typing mistake


def parse_money(text: str, field: str | None = None) -> int:
    """'£1,234.56', '1234.56' or '1234' to pence; anything else is refused with a message."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise DomainError("Enter an amount, like 1,234.56", field)
    if cleaned.startswith("-") or cleaned.startswith("£-"):
        raise DomainError("Enter an amount of zero or more", field)
    if not _MONEY.match(cleaned):
        if re.match(r"^£?\s*[\d,]+\.\d{3,}$", cleaned):
            raise DomainError("Enter an amount with no more than 2 decimal places, like 12.34", field)
        raise DomainError("Enter an amount in pounds, like 1,234.56", field)
    try:
        pence = int((Decimal(cleaned.lstrip("£").strip().replace(",", "")) * 100).to_integral_exact())
    except InvalidOperation as error:
        raise DomainError("Enter an amount in pounds, like 1,234.56", field) from error
    if pence > MAX_PENCE:
        raise DomainError("That amount is too large", field)
    return pence


def format_money(pence: int | None) -> str:
    """1234567 -> '£12,345.67', 3500 -> '£35'; negative amounts keep their sign in front.

    The GOV.UK style guide drops ".00" from whole pounds in sentences, headings, summaries,
    messages and emails. Columns of figures use format_money_column instead."""
    if pence is None:
        return ""
    if int(pence) % 100:
        return format_money_column(pence)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(int(pence)) // 100:,}"


def format_money_column(pence: int | None) -> str:
    """1234567 -> '£12,345.67', 3500 -> '£35.00': always with pence.

    For right-aligned table columns of money, where "£35" above "£12.50" would put the pounds
    out of line and make a column harder to compare and add up by eye."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def to_input(pence: int | None) -> str:
    """Pence as a person would type them back into a form: '1234.56'."""
    if pence is None:
        return ""
    pounds, rest = divmod(int(pence), 100)
    return f"{pounds}.{rest:02d}"


def divide_pence(numerator_pence: int, denominator: int | Decimal) -> int:
    """A share of an amount (cost per place, a forecast) to the nearest penny, halves rounded up.

    Every money figure worked out by division comes through here, so each page and export
    gives the same penny: floats and Python's round() (which rounds halves to even) never do.
    """
    if not denominator:
        raise ZeroDivisionError("divide_pence needs a denominator other than zero")
    exact = Decimal(int(numerator_pence)) / Decimal(denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_pounds(pence: int | None) -> Decimal | None:
    """Pence as a plain number of pounds (Decimal('55.00')), for files a spreadsheet sums."""
    if pence is None:
        return None
    return (Decimal(int(pence)) / 100).quantize(Decimal("0.01"))
