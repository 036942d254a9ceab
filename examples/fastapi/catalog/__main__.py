"""
The service's one entry point, the same commands as the Node sample's (app/src/cli.ts):

    python3 -m catalog serve | migrate | migration-version | seed
"""

from __future__ import annotations

import logging
import os
import sys

from catalog.config import ConfigError, load_database_url, load_release, load_settings
from catalog.db import connect
from catalog.logs import configure_logging
from catalog.migrations import current_revision, expected_revision, known_revisions, migrate, schema_state
from catalog.seed import seed_demo_data

USAGE = "usage: python3 -m catalog <serve | migrate | migration-version | seed>"
# EX_CONFIG and EX_USAGE from sysexits.h: let an orchestrator tell "misconfigured" from "crashed".
EXIT_CONFIG = 78
EXIT_USAGE = 64
# migration-version: the database lacks this release's newest revision.
EXIT_SCHEMA_BEHIND = 3

log = logging.getLogger("catalog")


def run(command: str) -> int:
    env = os.environ
    if command == "serve":
        settings = load_settings(env)
        configure_logging(settings.log_level, settings.release.id)
        from catalog.server import serve  # uvicorn and FastAPI load only for this command

        return serve(settings)
    if command == "migrate":
        result = migrate(load_database_url(env))
        log.info("migrations applied", extra={"applied": result.applied, "version": result.after})
        return 0
    if command == "migration-version":
        expected = expected_revision()
        with connect(load_database_url(env)) as conn:
            current = current_revision(conn)
        # Plain output: read by people and by deploy scripts (`current expected`).
        print(f"current: {current or 'none'}\nexpected: {expected or 'none'}")
        # A newer schema is fine (expand/contract); one without this release's migrations is not.
        return 0 if schema_state(current, expected, known_revisions()).ready else EXIT_SCHEMA_BEHIND
    if command == "seed":
        log.info("demo data seeded", extra={"inserted": seed_demo_data(load_database_url(env))})
        return 0
    print(USAGE, file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str]) -> int:
    configure_logging("info", load_release(os.environ).id)
    try:
        return run(argv[1] if len(argv) > 1 else "")
    except ConfigError as problem:
        print(problem, file=sys.stderr)
        return EXIT_CONFIG
    except Exception:
        log.critical("command failed", exc_info=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
