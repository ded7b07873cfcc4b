"""Reads an .ics file with libical (Evolution's engine) and prints the events as JSON.

Run with Debian's /usr/bin/python3 (packages python3-gi and gir1.2-ical-3.0): the binding
is not importable from the project's virtualenv.

    /usr/bin/python3 tests/interop/libical_reader.py feed.ics

Exit status 3 means libical's binding cannot be imported here.
"""

import json
import sys
from datetime import UTC, datetime

try:
    import gi

    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib
except (ImportError, ValueError) as exc:
    print(f"libical binding not available: {exc}", file=sys.stderr)
    sys.exit(3)


def utc(time) -> str:
    # The zone is the one libical bound from the file's own VTIMEZONE (or UTC for "Z").
    seconds = time.as_timet_with_zone(time.get_timezone())
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def events(calendar):
    kind = ICalGLib.ComponentKind.VEVENT_COMPONENT
    component = calendar.get_first_component(kind)
    while component is not None:
        status = component.get_first_property(ICalGLib.PropertyKind.STATUS_PROPERTY)
        yield {
            "uid": component.get_uid(),
            "start": utc(component.get_dtstart()),
            "end": utc(component.get_dtend()),
            "status": status.get_value_as_string() if status is not None else None,
            "summary": component.get_summary(),
            "location": component.get_location(),
            "sequence": component.get_sequence(),
        }
        component = calendar.get_next_component(kind)


def main(path: str) -> None:
    with open(path, encoding="utf-8", newline="") as ics:
        calendar = ICalGLib.Component.new_from_string(ics.read())
    if calendar is None or calendar.isa() != ICalGLib.ComponentKind.VCALENDAR_COMPONENT:
        sys.exit("libical could not parse the file as a VCALENDAR")
    version = ICalGLib.get_version() if hasattr(ICalGLib, "get_version") else ""
    json.dump({"parser": f"libical {version}".strip(), "events": list(events(calendar))}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
