"""Every page each role can reach in the demo data, and each form's error state, checked with axe-core
(WCAG 2.2 A and AA rules at 1024 px, those that depend on the layout again at 320 px) and for sideways
scrolling at 320 px (WCAG 1.4.10 reflow) and at 1024 px.

Each role gets its own copy of one demo database and its own server, so an empty form that does save
something (a register, a decline with an optional reason) cannot change what another role sees.

How much is visited: every same-site link is followed breadth-first from "/", but at most
PAGES_PER_PATTERN pages per URL pattern, where a pattern is the path with every run of digits replaced
(/sessions/12 and /sessions/40 are one pattern) plus the query's keys, keeping values that are plain
words (?tab=waiting is its own view) and replacing any other value (?page=2, ?next=/x, ?month=2026-05).
So the 200 demo sessions are represented by two of them, yet every kind of page and tab is seen.
Not visited: sign-out, downloads (.ics, .csv, .pdf, anything sent as an attachment or not HTML) and
calendar feeds. Each POST form (known by its action's pattern and its fields, so a form shown on many
pages counts once) is submitted empty — text cleared, boxes unticked, selects unchosen — after the
role's pages have all been visited, and the page that comes back is checked if it shows an error
summary; a form with no control but its button (sign out, "Mark everyone attended") is not submitted.
"""

import re
import shutil
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from flask import got_request_exception
from werkzeug.serving import make_server

from tests.e2e.conftest import TIMEOUT_MS, _browser_unavailable
from tests.factories import migrate_database
from trainapp import create_app
from trainapp.config import test_config as settings_for_tests
from trainapp.extensions import db as _db

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Every WCAG rule runs at 1024px; these, whose outcome changes with the layout, run again at 320px.
PHONE_RULES = ["scrollable-region-focusable", "target-size"]
PAGES_PER_PATTERN = 2
# A runaway guard only: the demo data's largest role reaches far fewer patterns than this.
MAX_PAGES_PER_ROLE = 400
# The crawl's own size comes last, so each page is left as it was found.
VIEWPORTS = ({"width": 320, "height": 640}, {"width": 1024, "height": 768})
ROLES = ["anonymous", "staff", "trainer", "agency lead", "coordinator"]

# (axe rule id, CSS selector the element matches, why the pattern is deliberate). Only for GOV.UK
# Frontend patterns knowingly kept despite the rule.
ALLOWED_VIOLATIONS: list[tuple[str, str, str]] = [
    (
        "aria-allowed-attr",
        ".govuk-radios__input[aria-controls][aria-expanded], .govuk-checkboxes__input[aria-controls][aria-expanded]",
        "GOV.UK Frontend's conditional reveal marks a radio or checkbox with aria-expanded, which ARIA does not"
        " list for those roles; GOV.UK keeps it because screen readers announce it (alphagov/govuk-frontend#979).",
    ),
]

SKIPPED_SUFFIXES = (".ics", ".csv", ".pdf")
SKIPPED_PATHS = ("/sign-out", "/calendars/")

# Names what pushes the page wider, for whoever fixes it: the run of text reaching furthest past the
# right edge (a long email address or link cannot wrap; the boxes around it only grow to hold it), or,
# when no text does, the box that does (an image, a fixed-width input). Anything inside a region that
# scrolls or clips on its own (a table's scroll region, visually hidden text) is left out.
WIDEST_ELEMENT_JS = """
() => {
  const root = document.documentElement;
  const limit = root.clientWidth;
  if (root.scrollWidth <= limit) return null;
  const contained = (element) => {
    for (let e = element; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== 'visible') return true;
    }
    return false;
  };
  const describe = (element) => {
    const parts = [];
    for (let e = element; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + '#' + e.id); break; }
      const classes = [...e.classList].slice(0, 2);
      if (classes.length) part += '.' + classes.join('.');
      parts.unshift(part);
    }
    const text = (element.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    return parts.join(' > ') + (text ? ` ("${text}")` : '');
  };
  const widest = (candidates) => {
    let found = null;
    let right = limit + 0.5;
    // Each candidate: the element to name, how far right it reaches, where to start looking for a
    // container that scrolls or clips (text: its own element; a box: the box's parent).
    for (const [element, edge, inside] of candidates) {
      if (edge > right && !contained(inside)) { found = element; right = edge; }
    }
    return found;
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width > 0) texts.push([node.parentElement, box.right, node.parentElement]);
  }
  const boxes = [...document.body.querySelectorAll('*')].map((e) => [e, e.getBoundingClientRect()])
    .filter(([, box]) => box.width > 0 && box.height > 0).map(([e, box]) => [e, box.right, e.parentElement]);
  const culprit = widest(texts) || widest(boxes);
  return {scrollWidth: root.scrollWidth, clientWidth: limit, selector: culprit ? describe(culprit) : null};
}
"""

AXE_JS = """
async ([runOnly, allowed]) => {
  const result = await axe.run(document, {runOnly, resultTypes: ['violations']});
  const isAllowed = (rule, node) => allowed.some(([id, selector]) => id === rule
    && node.target.length === 1 && document.querySelector(node.target[0])?.matches(selector));
  return result.violations.map((v) => ({id: v.id, help: v.help,
    targets: v.nodes.filter((n) => !isAllowed(v.id, n)).map((n) => n.target.join(' '))}));
}
"""

# The links to follow, and the POST forms worth submitting empty: those with at least one control a
# person fills in. A form is known by its action and fields, so one shown on many pages is tried once.
PAGE_OUTLINE_JS = """
() => ({
  links: [...document.querySelectorAll('a[href]:not([download])')].map((a) => a.href),
  forms: [...document.forms].map((form, index) => ({
    index,
    post: form.method === 'post',
    action: form.action,
    fields: [...form.elements]
      .filter((c) => c.name && !['hidden', 'submit', 'button', 'image'].includes(c.type))
      .map((c) => c.name),
  })).filter((f) => f.post && f.fields.length > 0),
})
"""

SUBMIT_EMPTY_JS = """
(index) => {
  const form = document.forms[index];
  for (const control of form.elements) {
    if (control.type === 'hidden' || control.type === 'submit' || control.type === 'button') continue;
    if (control.type === 'checkbox' || control.type === 'radio') control.checked = false;
    else if (control.tagName === 'SELECT') control.selectedIndex = -1;
    else control.value = '';
  }
  const button = form.querySelector('button:not([type]), button[type=submit], input[type=submit]');
  form.requestSubmit(button || undefined);
}
"""


def url_pattern(url: str) -> str:
    """The pattern a page counts against: digits in the path replaced, query values that are not words too."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "#", parts.path)
    query = sorted(
        f"{key}={value if re.fullmatch(r'[a-z_-]+', value) else '*'}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return path + ("?" + "&".join(query) if query else "")


def normalise(url: str) -> str:
    parts = urlsplit(url)
    # Sorted by key only: a date split into day, month and year fields repeats its key in that order.
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True), key=lambda pair: pair[0]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def is_crawlable(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return False
    return not parts.path.endswith(SKIPPED_SUFFIXES) and not parts.path.startswith(SKIPPED_PATHS)


@dataclass
class Findings:
    pages: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    sideways: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    error_states: list[str] = field(default_factory=list)
    saved_without_error: list[str] = field(default_factory=list)
    rules: dict[str, int] = field(default_factory=dict)


def check_page(page, label: str, findings: Findings) -> None:
    """axe and the sideways-scroll check at phone width, then at the crawl's own width."""
    allowed = [[rule, selector] for rule, selector, _ in ALLOWED_VIOLATIONS]
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        width = viewport["width"]
        overflow = page.evaluate(WIDEST_ELEMENT_JS)
        if overflow:
            findings.sideways.append(
                f"{label} at {width}px: scrollWidth {overflow['scrollWidth']} >"
                f" {overflow['clientWidth']}, widest: {overflow['selector']}"
            )
        run_only = {"type": "tag", "values": WCAG_TAGS} if width >= 1024 else {"type": "rule", "values": PHONE_RULES}
        for violation in page.evaluate(AXE_JS, [run_only, allowed]):
            for target in violation["targets"]:
                findings.rules[violation["id"]] = findings.rules.get(violation["id"], 0) + 1
                findings.violations.append(f"{label} at {width}px: {violation['id']} at {target} ({violation['help']})")


def crawl(page, origin: str) -> tuple[Findings, list[tuple[str, int]]]:
    findings = Findings()
    seen: set[str] = set()
    per_pattern: dict[str, int] = {}
    forms: list[tuple[str, int]] = []
    form_kinds: set[tuple[str, tuple[str, ...]]] = set()
    queue = deque([origin + "/"])
    while queue and len(findings.pages) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        try:
            response = page.goto(url)
        except Exception as exc:  # noqa: BLE001 - Playwright raises a plain Error when a link downloads
            if "Download is starting" in str(exc):
                continue
            raise
        assert response is not None
        disposition = response.headers.get("content-disposition", "")
        if "attachment" in disposition or "text/html" not in response.headers.get("content-type", ""):
            continue
        path = urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
        if response.status >= 400:
            findings.broken.append(f"{path}: {response.status}")
        final = normalise(page.url)
        seen.add(final)
        findings.pages.append(path)
        check_page(page, path, findings)
        outline = page.evaluate(PAGE_OUTLINE_JS)
        for form in outline["forms"]:
            kind = (
                url_pattern(form["action"].split("?")[0]),
                tuple(sorted({re.sub(r"\d+", "#", f) for f in form["fields"]})),
            )
            if kind not in form_kinds:
                form_kinds.add(kind)
                forms.append((final, form["index"]))
        for href in outline["links"]:
            link = normalise(urljoin(page.url, href))
            if link in seen or not is_crawlable(link, origin):
                continue
            pattern = url_pattern(link)
            if per_pattern.get(pattern, 0) >= PAGES_PER_PATTERN:
                continue
            per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
            seen.add(link)
            queue.append(link)
    return findings, forms


def check_error_states(page, forms: list[tuple[str, int]], findings: Findings) -> None:
    for url, index in forms:
        page.goto(url)
        path = urlsplit(url).path
        if not page.evaluate("(index) => document.forms[index]?.method === 'post'", index):
            # An earlier empty form did save something (a cancellation), and this form went with it.
            findings.saved_without_error.append(f"{path} form {index + 1} no longer shown")
            continue
        with page.expect_navigation():
            page.evaluate(SUBMIT_EMPTY_JS, index)
        label = f"{path} form {index + 1} submitted empty"
        if page.locator(".govuk-error-summary").count() == 0:
            findings.saved_without_error.append(f"{label} -> {urlsplit(page.url).path}")
            continue
        findings.error_states.append(label)
        check_page(page, label, findings)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        _browser_unavailable(f"the accessibility crawl needs axe-core at {AXE}: run npm ci --prefix tests/e2e")
    return AXE


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> tuple[Path, dict[str, str], str]:
    """One migrated SQLite file with the demo data; returns its path, an email per role and the password."""
    from trainapp.demo import load_demo_data

    tmp = tmp_path_factory.mktemp("a11y-demo")
    path = tmp / "demo.db"
    app = create_app(settings_for_tests(f"sqlite:///{path}", tmp))
    with app.app_context():
        migrate_database("upgrade")
        logins, password = load_demo_data()
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    emails: dict[str, str] = {}
    for role, email in logins:
        emails.setdefault(role.lower(), email)
    return path, emails, password


@pytest.fixture
def role_server(demo_database, tmp_path):
    """The demo served from the role's own copy of the database; yields the origin and any server errors."""
    source, _, _ = demo_database
    copy = tmp_path / "demo.db"
    # The backup API gives a consistent copy whatever WAL state the source file was left in.
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    app = create_app(settings_for_tests(f"sqlite:///{copy}", tmp_path))
    errors: list[BaseException] = []

    def _record(sender, exception, **extra):
        errors.append(exception)

    got_request_exception.connect(_record, app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="a11y-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", errors
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    got_request_exception.disconnect(_record, app)
    with app.app_context():
        _db.engine.dispose()
    shutil.rmtree(tmp_path / "mail", ignore_errors=True)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_and_error_state_has_no_axe_violation_and_no_sideways_scroll(
    role, browser, axe_script, demo_database, role_server
):
    _, emails, password = demo_database
    origin, server_errors = role_server
    started = time.monotonic()
    context = browser.new_context(base_url=origin, viewport={"width": 1024, "height": 768})
    context.set_default_timeout(TIMEOUT_MS)
    # axe-core goes into every page before the page's own scripts: cheaper than a script tag added to
    # each page afterwards, and not subject to the page's strict Content-Security-Policy, so the pages
    # are checked exactly as they are served.
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    try:
        if role != "anonymous":
            page.goto("/sign-in")
            page.get_by_label("Email address", exact=True).fill(emails[role])
            page.get_by_label("Password", exact=True).fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("button", name="Sign out").wait_for()
        findings, forms = crawl(page, origin)
        check_error_states(page, forms, findings)
    finally:
        context.close()

    print(
        f"\n{role}: {len(findings.pages)} pages and {len(findings.error_states)} error states checked"
        f" in {time.monotonic() - started:.1f}s; violations by rule: {findings.rules or 'none'}"
    )
    for line in findings.saved_without_error:
        print(f"  no error summary (not checked): {line}")
    problems = [f"server error: {error!r}" for error in server_errors]
    problems += [f"axe: {line}" for line in findings.violations]
    problems += [f"scrolls sideways: {line}" for line in findings.sideways]
    problems += [f"link to an error page: {line}" for line in findings.broken]
    assert not problems, f"{len(problems)} problems for {role}:\n" + "\n".join(problems)
