"""Each rule is written once: searching the code for it finds its one definition and the callers.

These read the source rather than run it: a second copy of a rule works until the day the two
disagree, so it is the copy itself that fails here.
"""

import ast
import re
from pathlib import Path

from trainapp.bookings.models import BookingStatus

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "trainapp"
TEMPLATES = ROOT / "templates"

STATUS_HOME = PACKAGE / "bookings" / "models.py"
ACCESS_HOME = PACKAGE / "accounts" / "access.py"
STATUS_VALUES = {status.value for status in BookingStatus}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*") if path.suffix in {".html", ".txt"})


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def _status_strings(node: ast.AST) -> list[str]:
    """Booking status values written as strings in this operand: "confirmed", or a list of them."""
    items = node.elts if isinstance(node, ast.List | ast.Tuple | ast.Set) else [node]
    return [item.value for item in items if isinstance(item, ast.Constant) and item.value in STATUS_VALUES]


def _is_status_in(node: ast.AST) -> bool:
    """A query's ``<something>.status.in_(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "in_"
        and "status" in ast.unparse(node.func.value)
    )


def status_literals(source: str) -> list[int]:
    """Lines comparing something named status with a booking status spelled as a string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_status_strings(operand) for operand in operands) and any(
                "status" in ast.unparse(operand) for operand in operands
            ):
                found.append(node.lineno)
        elif _is_status_in(node) and any(_status_strings(arg) for arg in node.args):
            found.append(node.lineno)
    return found


TEMPLATE_STATUS_LITERAL = re.compile(
    r"status(?:\.value)?\s*(?:==|!=|(?:not\s+)?in)\s*[(\[]?\s*['\"](?:" + "|".join(sorted(STATUS_VALUES)) + r")['\"]"
)


def template_status_literals(text: str) -> list[int]:
    return [text.count("\n", 0, match.start()) + 1 for match in TEMPLATE_STATUS_LITERAL.finditer(text)]


def test_code_never_spells_a_booking_status_as_a_string():
    offences = [
        _where(path, line)
        for path in _modules()
        if path != STATUS_HOME
        for line in status_literals(path.read_text(encoding="utf-8"))
    ]
    assert offences == [], "compare with BookingStatus members or ask the status (booking.status.is_waiting)"


def test_pages_and_emails_ask_the_status_rather_than_compare_its_string():
    offences = [
        _where(path, line) for path in _templates() for line in template_status_literals(path.read_text("utf-8"))
    ]
    assert offences == [], "use the status's predicates: b.status.is_confirmed, b.status.is_live, ..."


def test_the_checks_catch_the_ways_a_status_was_spelled_before():
    assert status_literals('ok = booking.status.value == "confirmed"\n') == [1]
    assert status_literals('q = q.where(Booking.status.in_(["confirmed", "awaiting_approval"]))\n') == [1]
    assert status_literals('if tab == "waiting":\n    pass\n') == []
    assert template_status_literals("{% if b.status.value not in ('confirmed', 'waiting') %}") == [1]
    assert template_status_literals("{% if booking.status.value == 'waiting' %}") == [1]
    assert template_status_literals("{% if session.status.value == 'delivered' %}") == []


def _defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_the_coordinator_only_rule_is_written_once():
    checks = [
        path
        for path in _modules()
        if any("require_coordinator" in name for name in _defined_functions(path))
        or "Only a coordinator can" in path.read_text(encoding="utf-8")
        or re.search(r"roles\(\s*Role\.COORDINATOR\s*\)", path.read_text(encoding="utf-8"))
    ]
    assert checks == [ACCESS_HOME], "views use @coordinator_only, services require_coordinator(user, to=...)"


def test_views_leave_committing_and_rolling_back_after_a_refusal_to_act():
    # The health check rolls back a session whose connection was lost: no rule refused anything.
    allowed = {PACKAGE / "core" / "routes.py"}
    offences = [
        _where(path, number)
        for path in _modules()
        if re.fullmatch(r"(.*_)?routes\.py", path.name) and path not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ".rollback()" in line
    ]
    assert offences == []


def test_who_was_there_is_listed_once():
    offences = []
    for path in _modules():
        if path == STATUS_HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                members = {ast.unparse(item) for item in node.elts}
                if {"AttendanceStatus.ATTENDED", "AttendanceStatus.PARTIAL"} <= members:
                    offences.append(_where(path, node.lineno))
    assert offences == [], "ask AttendanceStatus.was_there, or completion.was_present() in a query"


def test_the_approval_window_is_one_constant():
    pattern = re.compile(r"\b(5|five) working days", re.IGNORECASE)
    offences = [
        path.relative_to(ROOT).as_posix()
        for path in [*_modules(), *_templates()]
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offences == [], "use bookings.rules.APPROVAL_WORKING_DAYS"
