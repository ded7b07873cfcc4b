"""Real calendar parsers, each as a function from an .ics file to the events it shows.

- ical.js (Thunderbird's engine) under node: `npm ci --prefix tests/interop`
- libical (Evolution's engine) through Debian's /usr/bin/python3 (python3-gi, gir1.2-ical-3.0)
- icalendar + recurring-ical-events, in this virtualenv

A parser that is not installed skips its tests with the reason, unless TRAINAPP_REQUIRE_INTEROP=1
(CI sets it): then a missing parser is a failure.
"""

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = Path("/usr/bin/python3")
REQUIRED = os.environ.get("TRAINAPP_REQUIRE_INTEROP", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (TRAINAPP_REQUIRE_INTEROP=1, so every parser is required)", pytrace=False)
    pytest.skip(reason)


def _run(command: list[str], path: Path) -> list[dict]:
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"{command[-1]} failed:\n{result.stderr}"
    return json.loads(result.stdout)["events"]


@pytest.fixture(scope="session")
def icaljs():
    node = shutil.which("node")
    if node is None:
        unavailable("ical.js needs node, which is not installed")
    if not (HERE / "node_modules" / "ical.js" / "package.json").exists():
        unavailable("ical.js is not installed: run `npm ci --prefix tests/interop`")
    return lambda path: _run([node, str(HERE / "ical_reader.mjs")], path)


@pytest.fixture(scope="session")
def libical():
    if not SYSTEM_PYTHON.exists():
        unavailable("libical's binding needs Debian's /usr/bin/python3, which is missing")
    probe = subprocess.run(
        [
            str(SYSTEM_PYTHON),
            "-c",
            "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        unavailable("/usr/bin/python3 cannot import gi's ICalGLib: apt-get install python3-gi gir1.2-ical-3.0")
    return lambda path: _run([str(SYSTEM_PYTHON), str(HERE / "libical_reader.py")], path)


def _utc(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="session")
def icalendar_parser():
    try:
        import recurring_ical_events
    except ImportError:
        unavailable("recurring-ical-events is not installed: pip install -e '.[test]'")
    from icalendar import Calendar

    def read(path: Path) -> list[dict]:
        calendar = Calendar.from_ical(path.read_bytes())
        occurrences = recurring_ical_events.of(calendar).between(datetime(2000, 1, 1), datetime(2100, 1, 1))
        return [
            {
                "uid": str(event["uid"]),
                "start": _utc(event.decoded("dtstart")),
                "end": _utc(event.decoded("dtend")),
                "status": str(event["status"]),
                "summary": str(event["summary"]),
                "location": str(event["location"]),
                "sequence": event.get("sequence"),
            }
            for event in occurrences
        ]

    return read


PARSERS = {"ical.js": "icaljs", "libical": "libical", "icalendar": "icalendar_parser"}


@pytest.fixture(params=list(PARSERS))
def parser(request):
    """(name, read) for each parser in turn."""
    return request.param, request.getfixturevalue(PARSERS[request.param])
