"""The security log: one JSON line on stderr per event an information-security team reviews.

Sign-ins, lockouts, second-factor changes, refusals, exports and the like. Each line is a JSON
object, so a name or an address typed by a user is escaped inside a string and can never start
a line of its own. Secrets never appear: fields whose names say they hold one are withheld, and
the request is described by its route pattern (``/reset-password/<token>``), never by a path
that could carry a reset token or a calendar link.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request
from flask_login import current_user

LOGGER_NAME = "trainapp.security"
logger = logging.getLogger(LOGGER_NAME)

# A field whose name has one of these words (split on "_") holds, or leads to, a secret.
_SECRET_WORDS = frozenset(
    {"password", "passwords", "token", "tokens", "code", "codes", "secret", "secrets", "otp", "totp"}
    | {"link", "links", "url", "urls", "key", "keys", "hash", "nonce", "cookie"}
)
WITHHELD = "[withheld]"
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class _JsonLineHandler(logging.StreamHandler):
    """Writes each record's message (already one JSON line) and nothing else."""


def configure(app: Flask) -> None:
    """Send the security log to stderr at the configured level, once per process."""
    logger.setLevel(app.config.get("SECURITY_LOG_LEVEL", "INFO"))
    if not any(isinstance(handler, _JsonLineHandler) for handler in logger.handlers):
        handler = _JsonLineHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    # Flask gives the app's own logger ("trainapp") a handler of its own; propagating there
    # would print every line twice, the second time not as JSON.
    logger.propagate = False


def _is_secret(key: str) -> bool:
    return any(word in _SECRET_WORDS for word in key.lower().split("_"))


def _request_fields() -> dict[str, Any]:
    if not has_request_context():
        return {}
    fields: dict[str, Any] = {
        # ProxyFix (PROXY_HOPS) has already put the client's own address here.
        "client_address": request.remote_addr,
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
    }
    # Whole-number ids from the path (a session, a person) say what was acted on; text
    # arguments can be secrets (reset tokens, calendar links) and are left out.
    ids = {name: value for name, value in (request.view_args or {}).items() if isinstance(value, int)}
    if ids:
        fields["ids"] = ids
    if current_user and getattr(current_user, "is_authenticated", False):
        fields["actor_id"] = current_user.id
    return fields


def event_line(event: str, **fields: Any) -> str:
    """The JSON text logged for one event (exposed so tests can check the encoding alone)."""
    record: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event}
    record.update(_request_fields())
    for key, value in fields.items():
        record[key] = WITHHELD if _is_secret(key) else value
    # ensure_ascii: newlines, other control characters and non-ASCII letters are all escaped,
    # so the line is one line of plain ASCII whatever a user typed.
    return json.dumps(record, ensure_ascii=True, default=str, separators=(",", ":"))


def security_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one security event, e.g. ``security_event("sign_in.failed", email=..., reason="password")``.

    Never pass a password, a token, a one-time code or a secret link: fields named after one
    are written as "[withheld]". Values are JSON-encoded, so user text cannot forge a line."""
    assert _EVENT_NAME.fullmatch(event), f"security event names are dotted lower case, not {event!r}"
    if logger.isEnabledFor(level):
        logger.log(level, event_line(event, **fields))
