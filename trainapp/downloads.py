"""Who took which data out of the service: every report, statement and certificate downloaded."""

from datetime import date
from typing import Any

from trainapp import audit
from trainapp.security_log import security_event


def _plain(value: Any) -> Any:
    # Audit rows hold JSON: dates as ISO text, as the security log writes them.
    return value.isoformat() if isinstance(value, date) else value


def record_download(what: str, *, by, filters: dict[str, Any], rows: int | None = None, entity=None) -> None:
    """An audit row (in the caller's transaction: the view commits) and a security-log line."""
    plain_filters = {name: _plain(value) for name, value in filters.items()}
    audit.record(by, "export.downloaded", entity, after={"what": what, "filters": plain_filters, "rows": rows})
    security_event("export.downloaded", what=what, filters=plain_filters, rows=rows)
