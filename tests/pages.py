"""Reading pages as a person would, and sending forms as a browser does (with the CSRF token).

Pages are read with an HTML parser (BeautifulSoup over the standard library's parser), so a
``>`` in an attribute, a comment or a script never turns up as text, and an element is found
by what it is rather than by how its tag happens to be spelled.
"""

import re

from bs4 import BeautifulSoup

from tests.factories import csrf_token, sign_in


def parse(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _one_spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def plain(response) -> str:
    """The page as a person reads it: tags gone, runs of white space made one space."""
    return _one_spaced(parse(response).get_text(" "))


def signed_in(client, user):
    assert sign_in(client, user).location == "/"
    return client


def submit(client, path, data, form_page=None, **kw):
    """Open the page holding the form, then post it with that page's CSRF token."""
    token = csrf_token(client.get(form_page or path))
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def error_summary(response) -> list[str]:
    """The messages in the page's error summary, in order."""
    summary = parse(response).find("div", class_="govuk-error-summary")
    if summary is None or summary.ul is None:
        return []
    return [_one_spaced(item.get_text()).strip() for item in summary.ul.find_all("li")]


def field_error(response, field_id) -> str | None:
    """The error message shown beside one field (GOV.UK: <p id="<field>-error">)."""
    message = parse(response).find("p", id=f"{field_id}-error", class_="govuk-error-message")
    return _one_spaced(message.get_text()).strip() if message else None


def table(response, caption: str, *, body_only: bool = False) -> list[list[str]]:
    """The rows of the table with this caption (or only its <tbody> rows), each as its cells' text."""
    captions = [c for c in parse(response).find_all("caption") if _one_spaced(c.get_text()).strip() == caption]
    assert captions, f"no table captioned {caption!r}"
    found = captions[0].find_parent("table")
    rows = found.tbody.find_all("tr") if body_only else found.find_all("tr")
    return [[_one_spaced(cell.get_text(" ")).strip() for cell in row.find_all(["th", "td"])] for row in rows]
