"""Configuration from the environment: defaults, the release's names, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

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


def test_secrets_come_from_the_files_their_FILE_variables_name(tmp_path: Path) -> None:
    (tmp_path / "database").write_text(REQUIRED["DATABASE_URL"] + "\n")
    (tmp_path / "admin").write_text(REQUIRED["ADMIN_TOKEN"])
    settings = load_settings(
        {
            "DATABASE_URL_FILE": str(tmp_path / "database"),
            "REDIS_URL": REQUIRED["REDIS_URL"],
            "ADMIN_TOKEN_FILE": str(tmp_path / "admin"),
        }
    )
    assert (settings.database_url, settings.admin_token) == (REQUIRED["DATABASE_URL"], REQUIRED["ADMIN_TOKEN"])
    assert load_database_url({"DATABASE_URL_FILE": str(tmp_path / "database")}) == REQUIRED["DATABASE_URL"]


def test_a_secret_file_that_cannot_be_read_or_a_secret_set_twice_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    with pytest.raises(ConfigError) as raised:
        load_settings({**REQUIRED, "REDIS_URL": "", "REDIS_URL_FILE": str(missing), "ADMIN_TOKEN_FILE": str(missing)})
    message = str(raised.value)
    assert f"REDIS_URL_FILE names {missing}, which cannot be read (ENOENT)" in message
    assert "ADMIN_TOKEN and ADMIN_TOKEN_FILE are both set: set one of them" in message
