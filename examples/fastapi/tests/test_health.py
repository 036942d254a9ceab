"""Liveness and readiness: /readyz and /health report Postgres, the schema and Redis, each by name."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient

from tests.support import AppFactory, CuttableLink, free_port

READY = {"status": "ready", "checks": {"postgres": "ok", "schema": "ok", "redis": "ok"}}


def through(url: str, link: CuttableLink) -> str:
    """The same URL with the link's address in place of the server's."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{link.port}"))


@pytest.fixture
def postgres_link(database_url: str) -> Iterator[CuttableLink]:
    parts = urlsplit(database_url)
    link = CuttableLink(parts.hostname or "127.0.0.1", parts.port or 5432)
    link.up()
    yield link
    link.down()


def test_liveness_needs_nothing(make_client: AppFactory) -> None:
    offline = make_client(DATABASE_URL=f"postgres://nobody:x@127.0.0.1:{free_port()}/none")
    assert offline.get("/healthz").json() == {"status": "alive"}


def test_ready_when_postgres_the_schema_and_redis_are(client: TestClient) -> None:
    for path in ("/readyz", "/health"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.json() == READY


def test_reports_postgres_going_down_and_coming_back(
    make_client: AppFactory, database_url: str, postgres_link: CuttableLink
) -> None:
    app = make_client(DATABASE_URL=through(database_url, postgres_link))
    assert app.get("/health").status_code == 200

    postgres_link.down()
    down = app.get("/health")
    assert down.status_code == 503
    assert down.json()["status"] == "not ready"
    assert down.json()["checks"]["postgres"].startswith("unreachable")
    assert down.json()["checks"]["redis"] == "ok"
    assert "secret" not in down.text and "@" not in down.text  # no connection string in the answer

    postgres_link.up()
    assert app.get("/health").json() == READY


def test_reports_redis_down(make_client: AppFactory) -> None:
    offline = make_client(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    answer = offline.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["postgres"] == "ok"
    assert answer.json()["checks"]["redis"].startswith("unreachable")


def test_not_ready_on_a_schema_older_than_the_release(make_client: AppFactory) -> None:
    # A build that ships a 0002 on a database at 0001: the migrate step has not run yet.
    ahead = make_client(expected="0002", known=["0001", "0002"])
    answer = ahead.get("/readyz")
    assert answer.status_code == 503
    schema = answer.json()["checks"]["schema"]
    assert schema == "schema at 0001, this release needs 0002: run the migrate command"


def test_ready_on_a_schema_newer_than_the_release(make_client: AppFactory) -> None:
    # The release before keeps serving after a newer one migrated (expand/contract): 0001 is unknown to it.
    older = make_client(expected="0000", known=["0000"])
    assert older.get("/readyz").status_code == 200
