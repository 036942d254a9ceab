"""
Schema migrations: written as Alembic revisions in migrations/versions, applied with psycopg 3.

SQLAlchemy 1.4 (Debian bookworm's) has no psycopg 3 driver, so Alembic renders each upgrade as SQL
(its offline mode, `alembic upgrade --sql`) and this module runs that SQL on a psycopg connection, under
an advisory lock so two replicas starting at once apply it once. Alembic's `alembic_version` table records
the schema's revision, as it would if Alembic had connected itself.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from catalog.db import connect

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
ALEMBIC_INI = EXAMPLE_DIR / "alembic.ini"
# Any constant shared by every replica; the Node sample's migrator uses its own.
MIGRATION_LOCK_KEY = 0x0CA7A106


def alembic_config() -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(EXAMPLE_DIR / "migrations"))
    return config


def expected_revision(config: Config | None = None) -> str | None:
    """The newest revision this build ships: the schema must be at it (or newer) for the app to be ready."""
    return ScriptDirectory.from_config(config or alembic_config()).get_current_head()


def known_revisions(config: Config | None = None) -> list[str]:
    """Every revision this build ships, oldest first."""
    script = ScriptDirectory.from_config(config or alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(conn: psycopg.Connection[dict[str, object]]) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL AS migrated").fetchone()
    if not row or not row["migrated"]:
        return None
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(version["version_num"]) if version else None


@dataclass(frozen=True)
class SchemaState:
    ready: bool
    reason: str | None = None


def schema_state(current: str | None, expected: str | None, known: list[str]) -> SchemaState:
    """
    Whether a release that ships `known` revisions (newest `expected`) can run on a schema at `current`.

    A newer schema is fine: migrations are expand-only for the release before (expand/contract), which is what
    lets the previous release keep serving, and be rolled back to, after a newer one migrated. A revision this
    build does not know was written by a newer release; one it knows but older than `expected` is not enough.
    """
    if expected is None or current == expected:
        return SchemaState(ready=True)
    if current in known or current is None:
        at = current or "no migration"
        return SchemaState(False, f"schema at {at}, this release needs {expected}: run the migrate command")
    return SchemaState(ready=True)


def render_upgrade_sql(current: str | None, config: Config | None = None) -> str:
    """The SQL that takes a schema at `current` to this build's head, as `alembic upgrade --sql` prints it."""
    config = config or alembic_config()
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, f"{current}:head" if current else "head", sql=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str | None

    @property
    def applied(self) -> list[str]:
        """The revisions this run applied, oldest first."""
        if self.before == self.after or self.after is None:
            return []
        revisions = known_revisions()
        start = revisions.index(self.before) + 1 if self.before else 0
        return revisions[start : revisions.index(self.after) + 1]


def migrate(database_url: str) -> MigrationResult:
    """Applies every revision the database lacks, in one transaction; safe to repeat."""
    expected = expected_revision()
    with connect(database_url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            before = current_revision(conn)
            if before != expected and schema_state(before, expected, known_revisions()).ready:
                # A newer release already migrated past this build: nothing to apply, and no downgrade.
                return MigrationResult(before, before)
            if before != expected:
                # Alembic's offline script holds its own BEGIN/COMMIT: all of it applies, or none.
                conn.execute(render_upgrade_sql(before))
            return MigrationResult(before, current_revision(conn))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
