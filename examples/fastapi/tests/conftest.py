"""
The suite runs against a real Postgres and Redis, named by DATABASE_URL and REDIS_URL (the Dockerfile's
`test` stage, the Dagger module's test step and the host test all set them). The session brings the schema to
this build's head first; every test then starts from empty tables and an empty Redis database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from catalog.app import AppDeps, create_app
from catalog.db import ConnectionPool, connect
from catalog.migrations import expected_revision, known_revisions, migrate
from catalog.server import connect_redis
from tests.support import AppFactory, settings_for


def pytest_configure(config: pytest.Config) -> None:
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError(
            f"{' and '.join(missing)} must name a Postgres and a Redis the tests may empty: "
            "DATABASE_URL=postgres://… REDIS_URL=redis://… python3 -m pytest"
        )


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ["DATABASE_URL"]
    migrate(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ["REDIS_URL"]


@pytest.fixture(autouse=True)
def empty_state(database_url: str, redis_url: str) -> None:
    """Each test owns its state: no rows, ids from 1, no cache entries."""
    with connect(database_url) as conn:
        conn.execute("TRUNCATE orders, products RESTART IDENTITY CASCADE")
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()


@pytest.fixture
def make_client(database_url: str, redis_url: str) -> Iterator[AppFactory]:
    opened: list[tuple[TestClient, ConnectionPool, redis.Redis]] = []

    def build(expected: str | None = None, known: list[str] | None = None, **env: str) -> TestClient:
        settings = settings_for(env.pop("DATABASE_URL", database_url), env.pop("REDIS_URL", redis_url), **env)
        pool = ConnectionPool(settings.database_url, settings.db_pool_max, wait_timeout=2)
        cache = connect_redis(settings.redis_url)
        deps = AppDeps(
            settings=settings,
            pool=pool,
            redis=cache,
            expected_revision=expected if expected is not None else expected_revision(),
            known_revisions=known if known is not None else known_revisions(),
        )
        client = TestClient(create_app(deps), raise_server_exceptions=False)
        opened.append((client, pool, cache))
        return client

    yield build
    for client, pool, cache in opened:
        client.close()
        pool.close()
        cache.close()


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()

