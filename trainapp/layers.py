"""Which way imports may point: the one statement of trainapp's layering.

Nothing in the application reads this at run time. tests/core/test_architecture.py checks every
import in trainapp/ against it (module level and inside functions), and docs/ARCHITECTURE.md
explains it. A new module under trainapp/ outside a feature package gets its place here.
"""

# Features, lowest first. A feature imports the foundation, itself and the features before it;
# to react to a higher feature it sends a signal declared beside it (see the architecture page).
# calendars reads bookings and catalogue, so it sits just above bookings; people (staff lists
# and leavers) cancels a leaver's bookings, so it sits above bookings too.
FEATURES = (
    "accounts",
    "catalogue",
    "bookings",
    "calendars",
    "people",
    "attendance",
    "funding",
    "reports",
    "governance",
)

# What features below calendars may use of it: the builders that turn a session into iCalendar
# text for an invitation. ical.py is pure; events.py binds it to this deployment's host, links
# and zone from the app's configuration, but never queries or writes.
CALENDAR_BUILDERS = ("trainapp.calendars.ical", "trainapp.calendars.events")

# Shared modules below every feature. They import only each other (and libraries).
FOUNDATION = (
    "trainapp.config",
    "trainapp.db",
    "trainapp.extensions",
    "trainapp.errors",
    "trainapp.audit",
    "trainapp.acting",  # the act-and-commit beat of views that change data
    "trainapp.forms",
    "trainapp.filters",
    "trainapp.text",
    "trainapp.money",
    "trainapp.timezones",
    "trainapp.workdays",
    "trainapp.security",
    "trainapp.inputs",  # ids, whole numbers and form sizes a request may carry
    "trainapp.paging",  # a page of a list built in Python, for the shared pagination links
    "trainapp.security_log",  # JSON lines on stderr for the information-security team
    "trainapp.charts",
    "trainapp.csv_export",
    "trainapp.downloads",  # who downloaded which data: an audit row and a security-log line
    "trainapp.notifications",  # the outbox: model, transports, queue_email and delivery
    "trainapp.layers",
)

# Wiring above everything, which may import anything: the app factory (the package itself), the
# command line, scheduled jobs, demo data, the whole-schema import, the application shell (home
# and error pages) and the outbox page, which needs accounts' coordinator rule.
TOP = (
    "trainapp",
    "trainapp.cli",
    "trainapp.jobs",
    "trainapp.retention",  # personal data past its period, across every feature
    "trainapp.demo",
    "trainapp.models",
    "trainapp.core",
    "trainapp.notifications.routes",
)

# Only the app factory imports these; a helper several pages need lives in a non-route module.
ROUTE_MODULE_NAMES = ("routes", "*_routes")
