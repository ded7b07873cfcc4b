"""Secret calendar links: unguessable, shown again on request, killed by a new one."""

import hashlib
import hmac
import re
import secrets

import sqlalchemy as sa
from flask import current_app

from trainapp import audit
from trainapp.accounts.models import User
from trainapp.calendars.models import CalendarLink
from trainapp.extensions import db

TOKEN_IN_PATH = re.compile(r"(/calendars/)[A-Za-z0-9_-]{20,}(/)")


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
    return _token(link.nonce)


def user_for_token(token: str) -> User | None:
    """The active person a token belongs to, or None (unknown, old, truncated or deactivated)."""
    if not re.fullmatch(r"[0-9a-f]{64}", token):
        return None
    digest = _hash(token)
    link = db.session.scalar(sa.select(CalendarLink).where(CalendarLink.token_hash == digest))
    if link is None or not hmac.compare_digest(link.token_hash, digest) or not link.user.active:
        return None
    return link.user


def redact(text: str) -> str:
    """Take tokens out of anything that is logged."""
    return TOKEN_IN_PATH.sub(r"\1[secret]\2", text)
