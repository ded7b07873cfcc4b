"""Money is integer pence: one parser for what people type, one format for what they read."""

import re
from decimal import Decimal, InvalidOperation

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
    """1234567 -> '£12,345.67'; negative amounts keep their sign in front."""
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
