"""One-line text: what may not be in it, and how stored text is made safe for headers and calendars.

Names, titles and the like end up in email headers, calendar SUMMARY and LOCATION lines and
download filenames, where a line break ends a field and starts a new one. So they refuse:

- control characters (Unicode category Cc): line feed, carriage return, tab, NUL, escape, NEL...;
- the Unicode line and paragraph separators (U+2028, U+2029), which some programs treat as
  line breaks;
- the bidirectional embedding, override and isolate controls (U+202A to U+202E, U+2066 to
  U+2069), which can make a name read differently from what it is ("Trojan Source").

Other format characters (category Cf) stay allowed: the zero-width joiner builds emoji and
is needed by several scripts, and the left-to-right and right-to-left marks (U+200E, U+200F)
help names that mix scripts show in the right order.
"""

import re
import unicodedata
from decimal import Decimal
from urllib.parse import quote

_SEPARATORS_AND_BIDI = "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _is_refused(character: str) -> bool:
    return unicodedata.category(character) == "Cc" or character in _SEPARATORS_AND_BIDI


# The same characters as a pattern (category Cc is exactly U+0000-U+001F and U+007F-U+009F), so
# feeds of thousands of titles do not look at each character in Python.
_REFUSED_RUNS = re.compile(f"[\x00-\x1f\x7f-\x9f{_SEPARATORS_AND_BIDI}]+")
_SPACES = re.compile(" {2,}")
_REFUSED_BUT_LINE_FEED = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_SEPARATORS_AND_BIDI}]")


def has_line_breaks_or_controls(text: str) -> bool:
    """Whether the text holds anything that cannot be in one-line text."""
    return any(_is_refused(character) for character in text)


def has_controls_other_than_line_breaks(text: str) -> bool:
    """Whether multi-line text (line feeds allowed) holds any other refused character."""
    return _REFUSED_BUT_LINE_FEED.search(text) is not None


def one_line(text: str | None) -> str:
    """The text with each run of refused characters (and the spaces around it) made one space.

    For text stored before one-line fields refused these characters, where it is written into
    a header, a calendar line or a filename.
    """
    if not text:
        return ""
    return _SPACES.sub(" ", _REFUSED_RUNS.sub(" ", text)).strip()


def lines_only(text: str | None) -> str:
    """Multi-line text (summaries, notes, reasons) keeping its line breaks, with every other
    refused character made a space: iCalendar TEXT may hold no control characters but LF."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _REFUSED_BUT_LINE_FEED.sub(" ", text)


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """A Content-Disposition header that any filename fits in (RFC 6266 with RFC 5987's filename*).

    Agency names and course titles go into filenames: the plain ``filename`` gets an ASCII
    version without quotes or backslashes, and ``filename*`` carries the real name in UTF-8.
    This is what Flask's ``send_file(download_name=...)`` writes, except that the ASCII name is
    always quoted and has no quote, backslash, percent or semicolon for an old client to misread.
    """
    name = one_line(filename) or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'["\\%;]', "", ascii_name).strip() or "download"
    header = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def format_number(value: int | float | Decimal | None) -> str:
    """A number as people read it: '4' (never '4.0' or '4.00'), '1.5', '12,000'."""
    if value is None:
        return ""
    number = Decimal(str(value)).normalize()
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,f}"
