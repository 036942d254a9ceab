"""Liveness, readiness and version: what orchestrators and the deploy pipeline ask the service."""

from __future__ import annotations

from collections.abc import Callable

import redis
from fastapi import APIRouter
from starlette.responses import JSONResponse

from catalog.config import Release
from catalog.db import ConnectionPool
from catalog.migrations import current_revision, schema_state

OK = "ok"


def unreachable(failure: Exception) -> str:
    lines = str(failure).strip().splitlines()
    return f"unreachable: {lines[0] if lines else type(failure).__name__}"


def check(probe: Callable[[], str | None]) -> str:
    """`ok`, or what is wrong in an operator's words. Each probe is bounded by its client's timeout."""
    try:
        return probe() or OK
    except Exception as failure:  # noqa: BLE001  (any failure is the answer, not a 500)
        return unreachable(failure)


def health_routes(
    pool: ConnectionPool,
    cache: redis.Redis,
    expected: str | None,
    known: list[str],
    release: Release,
) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def alive() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/version")
    def version() -> dict[str, str]:
        return {"release": release.id, "revision": release.revision}

    def postgres_and_schema() -> tuple[str, str]:
        try:
            with pool.connection() as conn:
                conn.execute("SELECT 1")
                state = schema_state(current_revision(conn), expected, known)
        except Exception as failure:  # noqa: BLE001
            return unreachable(failure), "unknown: Postgres did not answer"
        return OK, OK if state.ready else (state.reason or "not ready")

    def readiness() -> JSONResponse:
        postgres, schema = postgres_and_schema()
        checks = {
            "postgres": postgres,
            "schema": schema,
            "redis": check(lambda: None if cache.ping() else "unexpected PING reply"),
        }
        ready = all(result == OK for result in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, 200 if ready else 503)

    router.add_api_route("/readyz", readiness, methods=["GET"])
    # The name most monitors and load balancers ask by default; the same answer as /readyz.
    router.add_api_route("/health", readiness, methods=["GET"])
    return router

