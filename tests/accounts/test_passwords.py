import pytest

from trainapp.accounts import passwords
from trainapp.errors import WeakPassword


@pytest.mark.parametrize(
    "password",
    ["short-pass1", "password1234", "qwerty123456", "123456789012", "aaaaaaaaaaaaaa", "Password!!!!"],
)
def test_short_or_common_passwords_are_refused(password):
    with pytest.raises(WeakPassword):
        passwords.check_policy(password)


@pytest.mark.parametrize(
    "password", ["harbour-lights-training", "correct horse battery staple", "x" * 30 + "Yz9", "café-lantern-río"]
)
def test_long_uncommon_passwords_are_accepted(password):
    passwords.check_policy(password)


def test_at_least_64_characters_are_accepted_and_more_than_128_refused():
    passwords.check_policy("a1b2c3d4" * 8)  # 64
    passwords.check_policy("river stone lantern " * 6)  # 120
    with pytest.raises(WeakPassword, match="128 characters or fewer"):
        passwords.check_policy("a1b2c3d4" * 17)
