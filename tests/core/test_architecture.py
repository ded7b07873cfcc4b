"""Imports point only downward, as trainapp/layers.py says: every import statement in trainapp/,
at module level or inside a function, is checked against the layers."""

from ast import AsyncFunctionDef, FunctionDef, Import, ImportFrom, parse, walk
from fnmatch import fnmatch
from pathlib import Path

import pytest

from trainapp import layers

PACKAGE = Path(__file__).resolve().parents[2] / "trainapp"
FOUNDATION, TOP = "foundation", "top"


def _source_files() -> dict[str, Path]:
    """Every module under trainapp/, by its dotted name."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _covers(entry: str, module: str) -> bool:
    # An entry names a module or a package and everything in it; "trainapp" only the package itself.
    return module == entry or (entry != "trainapp" and module.startswith(entry + "."))


def layer_of(module: str) -> str | None:
    """The module's layer: "top", "foundation" or a feature's name; None when layers.py does not place it."""
    placed = [(entry, TOP) for entry in layers.TOP] + [(entry, FOUNDATION) for entry in layers.FOUNDATION]
    covering = [(len(entry), layer) for entry, layer in placed if _covers(entry, module)]
    if covering:
        return max(covering)[1]
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in layers.FEATURES:
        return parts[1]
    return None


def is_route_module(module: str) -> bool:
    return any(fnmatch(module.rsplit(".", 1)[-1], pattern) for pattern in layers.ROUTE_MODULE_NAMES)


def imported_modules(module: str, source: str, known: set[str]) -> list[tuple[int, str]]:
    """(line, module) for each trainapp module this source imports, wherever the statement is."""
    found = []
    package = module if module in known and _is_package(module) else module.rsplit(".", 1)[0]
    for node in walk(parse(source)):
        if isinstance(node, Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from trainapp.bookings import services` imports a module; `import Booking` a name in one.
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if candidate in known else base))
    return [(line, name) for line, name in found if name == "trainapp" or name.startswith("trainapp.")]


def imports_inside_functions(source: str) -> list[int]:
    """Lines of trainapp imports written inside a function body."""
    lines = set()
    for function in walk(parse(source)):
        if isinstance(function, FunctionDef | AsyncFunctionDef):
            for node in walk(function):
                if isinstance(node, Import | ImportFrom):
                    names = [alias.name for alias in node.names] if isinstance(node, Import) else [node.module or ""]
                    if node.level or any(name == "trainapp" or name.startswith("trainapp.") for name in names):
                        lines.add(node.lineno)
    return sorted(lines)


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def problem(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when the import points the right way."""
    if is_route_module(imported) and importer != "trainapp":
        return "imports a route module: only create_app does; move the shared helper to a non-route module"
    low, high = layer_of(importer), layer_of(imported)
    if low is None or high is None:
        return None  # reported by test_every_module_has_a_place
    if low == TOP or high == FOUNDATION:
        return None
    if high == TOP:
        return "imports top-level wiring (app factory, CLI, jobs, demo data or shell pages)"
    if low == FOUNDATION:
        return f"a foundation module imports the {high} feature"
    order = layers.FEATURES.index
    if high == "calendars" and order(low) < order("calendars"):
        if any(_covers(builder, imported) for builder in layers.CALENDAR_BUILDERS):
            return None
        return "a feature below calendars may use only its builders " + ", ".join(layers.CALENDAR_BUILDERS)
    if order(high) > order(low):
        return f"upward import: {low} sits below {high}"
    return None


def problems(sources: dict[str, str], known: set[str]) -> list[str]:
    found = [
        f"{module}:{line} imports {imported}: {why}"
        for module, source in sorted(sources.items())
        for line, imported in imported_modules(module, source, known)
        if (why := problem(module, imported))
    ]
    return list(dict.fromkeys(found))  # one line per statement, however many names it imports


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    return {module: path.read_text(encoding="utf-8") for module, path in _source_files().items()}


def test_every_module_has_a_place(tree):
    unplaced = [module for module in tree if layer_of(module) is None]
    assert not unplaced, f"say in trainapp/layers.py where these sit: {unplaced}"


def test_imports_point_only_downward_and_no_route_module_imports_another(tree):
    found = problems(tree, set(tree))
    assert not found, "\n".join(found)


def test_only_the_top_imports_inside_functions(tree):
    # An import tucked into a function hides a dependency, usually to dodge a cycle: fix the
    # cycle instead. The app factory wires features up and CLI commands load what they run.
    tucked = [
        f"{module}:{line}"
        for module, source in sorted(tree.items())
        if layer_of(module) != TOP
        for line in imports_inside_functions(source)
    ]
    assert not tucked, "import these at the top of the module: " + ", ".join(tucked)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("trainapp.bookings.services", "from trainapp.funding import charges"),
        ("trainapp.catalogue.queries", "def f():\n    from trainapp.bookings.models import Booking\n"),
        ("trainapp.bookings.messages", "from trainapp.calendars.feeds import personal"),
        ("trainapp.reports.routes", "from trainapp.funding.routes import bp"),
        ("trainapp.money", "import trainapp.accounts.models"),
        ("trainapp.accounts.services", "from trainapp import jobs"),
        ("trainapp.bookings.services", "from ..funding import charges"),
    ],
)
def test_the_check_catches_imports_that_point_the_wrong_way(tree, module, source):
    assert problems({module: source}, set(tree))


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("trainapp.funding.charges", "from trainapp.bookings.models import Booking"),
        ("trainapp.bookings.messages", "from trainapp.calendars.events import invitation_for"),
        ("trainapp.reports.queries", "from trainapp.calendars import feeds"),
        ("trainapp.cli", "def run():\n    from trainapp.demo.large import load_large\n"),
        ("trainapp", "from trainapp.reports import routes"),
        ("trainapp.notifications.services", "from trainapp import audit, text"),
    ],
)
def test_the_check_lets_downward_imports_through(tree, module, source):
    assert not problems({module: source}, set(tree))
