"""Secret calendar links: unguessable, shown again on request, killed by a new one."""

import hashlib
import hmac
import re
import secrets
from urllib.parse import unquote

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from trainapp import audit
from trainapp.accounts.models import User
from trainapp.calendars.models import CalendarLink
from trainapp.extensions import db
from trainapp.security_log import security_event

# After "calendars/", whatever the next path segment is (the token), unless it is the public
# feed. Matched on decoded text, so percent-encoding cannot hide it.
TOKEN_IN_PATH = re.compile(r"(/+calendars/+)(?!public\.ics(?:[/?#]|$))[^/?#]+", re.IGNORECASE)
# One logged "word": a request line, a path or a URL, between spaces and quotes.
_WORD = re.compile(r"""[^\s"'<>]+""")


def _token(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"calendar-link:{nonce}".encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for(user: User) -> str:
    """The person's current link token, made on first use (256 random bits behind it)."""
    link = db.session.scalar(sa.select(CalendarLink).where(CalendarLink.user_id == user.id))
    if link is None:
        link = CalendarLink(user=user)
        db.session.add(link)
        _renew(link)
    return _token(link.nonce)


def _renew(link: CalendarLink) -> None:
    link.nonce = secrets.token_hex(32)
    link.token_hash = _hash(_token(link.nonce))


def new_link(user: User) -> str:
    """Replace the person's link; the old one stops working at once."""
    link = db.session.scalar(sa.select(CalendarLink).where(CalendarLink.user_id == user.id))
    if link is None:
        return token_for(user)
    _renew(link)
    audit.record(user, "calendar.link_renewed", link)
    security_event("calendar.link_renewed", user_id=user.id)
    return _token(link.nonce)


def user_for_token(token: str) -> User | None:
    """The active person a token belongs to, or None (unknown, old, truncated or deactivated)."""
    if not re.fullmatch(r"[0-9a-f]{64}", token):
        return None
    digest = _hash(token)
    link = db.session.scalar(
        sa.select(CalendarLink).options(joinedload(CalendarLink.user)).where(CalendarLink.token_hash == digest)
    )
    if link is None or not hmac.compare_digest(link.token_hash, digest) or not link.user.active:
        return None
    return link.user


def _decoded(word: str) -> str:
    """Percent-decoded until nothing changes (a client may encode some characters, or twice)."""
    for _ in range(3):
        decoded = unquote(word)
        if decoded == word:
            break
        word = decoded
    return word


def _redact_word(match: re.Match) -> str:
    word = match.group(0)
    decoded = _decoded(word)
    if not TOKEN_IN_PATH.search(decoded):
        return word
    return TOKEN_IN_PATH.sub(r"\1[secret]", decoded)


def redact(text: str) -> str:
    """Take link tokens out of anything that is logged, in whatever form the path takes:
    percent-encoded, with or without a file name after it, with doubled slashes."""
    return _WORD.sub(_redact_word, text)
