"""The password rules: long enough, not too long, not one everyone else uses."""

import re
from functools import cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from trainapp.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")  # source and licence in its header

# Hashing a throwaway value when the account is unknown keeps the response time
# the same, so timing does not reveal which emails have accounts.
_UNKNOWN_ACCOUNT_HASH = generate_password_hash("no account has this password", "pbkdf2")


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    """True for a password in the 30,000 most used (or one plus digits), or digits alone."""
    lowered = password.lower()
    if len(set(lowered)) <= 2 or lowered.isdigit():
        return True
    core = re.sub(r"[\d\W_]+$", "", lowered)
    return lowered in _common_passwords() or (len(core) >= 4 and core in _common_passwords())


def check_policy(password: str) -> None:
    """Raise WeakPassword with a message the person can act on."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Password must be {MIN_LENGTH} characters or more")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Password must be {MAX_LENGTH} characters or fewer")
    if is_common(password):
        raise WeakPassword("This password is too common and easy to guess. Try a few unrelated words together")


def hash_password(password: str) -> str:
    return generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])


def matches(password_hash: str | None, password: str) -> bool:
    # An empty hash is an account whose password was removed (anonymised): nothing opens it.
    if not password_hash:
        check_password_hash(_UNKNOWN_ACCOUNT_HASH, password)
        return False
    return check_password_hash(password_hash, password)
