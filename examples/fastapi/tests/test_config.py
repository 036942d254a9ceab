"""Configuration from the environment: defaults, the release's names, and every problem reported at once."""

from __future__ import annotations

import pytest

from catalog.config import ConfigError, load_database_url, load_release, load_settings

REQUIRED = {
    "DATABASE_URL": "postgres://app:secret@db:5432/app",
    "REDIS_URL": "redis://:secret@cache:6379/0",
    "ADMIN_TOKEN": "0123456789abcdef",
}


def test_defaults_fill_what_is_unset_or_empty() -> None:
    settings = load_settings({**REQUIRED, "PORT": "", "LOG_LEVEL": ""})
    assert (settings.port, settings.host, settings.log_level) == (8000, "0.0.0.0", "info")
    assert (settings.db_pool_max, settings.cache_ttl_seconds, settings.shutdown_timeout_seconds) == (10, 60, 10)
    assert settings.release.id == "dev"


def test_the_release_is_read_as_the_deploy_names_it() -> None:
    assert load_release({"RELEASE_ID": "r7", "GIT_REVISION": "abc123"}).id == "r7"
    assert load_release({"RELEASE": "r8"}).id == "r8"
    assert load_release({"RELEASE_ID": "r7", "RELEASE": "r8"}).id == "r7"


def test_every_bad_variable_is_named_and_no_value_echoed() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"DATABASE_URL": "mysql://hunter2@db/app", "DB_POOL_MAX": "0", "LOG_LEVEL": "loud"})
    message = str(raised.value)
    for name in ("DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN", "DB_POOL_MAX", "LOG_LEVEL"):
        assert name in message
    assert "hunter2" not in message


def test_migrations_need_only_the_database() -> None:
    assert load_database_url({"DATABASE_URL": "postgresql://db/app"}) == "postgresql://db/app"
    with pytest.raises(ConfigError, match="DATABASE_URL is not set"):
        load_database_url({})
