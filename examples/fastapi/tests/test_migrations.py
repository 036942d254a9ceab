"""Alembic revisions applied over psycopg: idempotent, versioned, and what readiness makes of the version."""

from __future__ import annotations

import subprocess
import sys

from catalog.migrations import expected_revision, known_revisions, render_upgrade_sql, schema_state
from tests.support import EXAMPLE_DIR


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catalog", *args],
        cwd=EXAMPLE_DIR,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_schema_is_ready_at_the_release_or_newer_never_older() -> None:
    known = ["0001", "0002"]
    assert schema_state("0002", "0002", known).ready
    assert schema_state("0003", "0002", known).ready  # written by a newer release
    assert not schema_state("0001", "0002", known).ready
    assert not schema_state(None, "0002", known).ready
    assert "run the migrate command" in (schema_state(None, "0002", known).reason or "")


def test_revisions_render_as_one_transaction() -> None:
    assert known_revisions()[-1] == expected_revision()
    sql = render_upgrade_sql(None)
    assert sql.lstrip().startswith("BEGIN;")
    assert sql.rstrip().endswith("COMMIT;")
    assert "CREATE TABLE products" in sql
    assert "INSERT INTO alembic_version" in sql


def test_migrate_is_idempotent_and_reports_the_version(database_url: str) -> None:
    # The session fixture migrated already: a second run applies nothing.
    again = cli("migrate", DATABASE_URL=database_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert '"applied": []' in again.stdout

    version = cli("migration-version", DATABASE_URL=database_url)
    assert version.returncode == 0
    assert version.stdout == f"current: {expected_revision()}\nexpected: {expected_revision()}\n"


def test_bad_configuration_names_every_variable_and_echoes_no_secret() -> None:
    result = cli("serve", REDIS_URL="http://wrong-scheme", ADMIN_TOKEN="short-secret", PORT="eighty")
    assert result.returncode == 78
    assert "DATABASE_URL is not set" in result.stderr
    assert "REDIS_URL is invalid: expected a redis://" in result.stderr
    assert "ADMIN_TOKEN is invalid: expected a secret of at least 16 characters" in result.stderr
    assert "PORT is invalid: expected an integer from 1 to 65535" in result.stderr
    assert "short-secret" not in result.stderr + result.stdout


def test_an_unknown_command_prints_the_usage() -> None:
    result = cli("deploy")
    assert result.returncode == 64
    assert "usage: python3 -m catalog <serve | migrate | migration-version | seed>" in result.stderr
