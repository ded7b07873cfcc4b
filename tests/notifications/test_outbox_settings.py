"""The outbox's retry and keeping periods come from the environment, checked when the app starts."""

import pytest

from trainapp.config import OUTBOX_SETTINGS, ConfigError, DefaultConfig, from_environment


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.setenv("TRAINAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-secret-for-this-test-only")
    for name in OUTBOX_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_unset_settings_take_the_documented_defaults(environment, tmp_path):
    settings = from_environment(tmp_path)

    assert {name: settings[name] for name in OUTBOX_SETTINGS} == {
        "OUTBOX_RETRY_FOR_HOURS": 72,
        "OUTBOX_RETRY_CEILING_MINUTES": 30,
        "OUTBOX_KEEP_SENT_DAYS": 30,
        "OUTBOX_KEEP_FAILED_DAYS": 30,
    }
    assert all(getattr(DefaultConfig, name) == settings[name] for name in OUTBOX_SETTINGS)


def test_a_setting_from_the_environment_is_used(environment, tmp_path):
    environment.setenv("OUTBOX_RETRY_FOR_HOURS", "120")
    environment.setenv("OUTBOX_KEEP_SENT_DAYS", " 7 ")

    settings = from_environment(tmp_path)

    assert (settings["OUTBOX_RETRY_FOR_HOURS"], settings["OUTBOX_KEEP_SENT_DAYS"]) == (120, 7)


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "three days"])
def test_a_setting_that_is_not_a_whole_number_above_zero_is_refused_by_name(environment, tmp_path, value):
    environment.setenv("OUTBOX_KEEP_FAILED_DAYS", value)

    with pytest.raises(ConfigError) as refused:
        from_environment(tmp_path)

    assert str(refused.value) == (f"OUTBOX_KEEP_FAILED_DAYS must be a whole number of days above zero, not {value!r}.")
