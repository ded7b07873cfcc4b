"""Reading pages as a person would, and sending forms as a browser does (with the CSRF token)."""

import re
from html import unescape

from tests.factories import csrf_token, sign_in


def plain(response) -> str:
    """The page as a person reads it: tags gone, runs of white space made one space."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def signed_in(client, user):
    assert sign_in(client, user).location == "/"
    return client


def submit(client, path, data, form_page=None, **kw):
    """Open the page holding the form, then post it with that page's CSRF token."""
    token = csrf_token(client.get(form_page or path))
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def error_summary(response) -> list[str]:
    """The messages in the page's error summary, in order."""
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, flags=re.S)
    if summary is None:
        return []
    return [
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", item))).strip()
        for item in re.findall(r"<li>(.*?)</li>", summary.group(0), flags=re.S)
    ]


def field_error(response, field_id) -> str | None:
    """The error message shown beside one field (GOV.UK: <p id="<field>-error">)."""
    match = re.search(
        rf'<p id="{re.escape(field_id)}-error" class="govuk-error-message">(.*?)</p>',
        response.get_data(as_text=True),
        flags=re.S,
    )
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", match.group(1)))).strip() if match else None
