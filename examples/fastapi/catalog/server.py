"""
Runs the service under uvicorn, and shuts it down cleanly on SIGTERM/SIGINT: stop accepting, let in-flight
requests finish, close the pools, exit 0. If that takes longer than SHUTDOWN_TIMEOUT_SECONDS, exit 1 so the
orchestrator knows requests were cut.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType

import redis
import uvicorn

from catalog.app import AppDeps, create_app
from catalog.config import Settings
from catalog.db import ConnectionPool
from catalog.migrations import expected_revision, known_revisions

log = logging.getLogger("catalog.server")

# Without these, a Redis that is down would hold each cached read for the OS's TCP timeout.
REDIS_TIMEOUT_SECONDS = 1.0


def connect_redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


class GracefulServer(uvicorn.Server):
    """uvicorn's own shutdown (it waits for open connections to finish their responses), with a bound."""

    def __init__(self, config: uvicorn.Config, timeout_seconds: float) -> None:
        super().__init__(config)
        self.timeout_seconds = timeout_seconds
        self.cut_short = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            log.info(
                "shutting down: finishing in-flight requests",
                extra={"signal": signal.Signals(sig).name, "timeoutSeconds": self.timeout_seconds},
            )
            asyncio.get_event_loop().call_later(self.timeout_seconds, self._give_up)
        super().handle_exit(sig, frame)

    def _give_up(self) -> None:
        if self.server_state.connections:
            log.error("shutdown timed out; exiting with requests still open")
            self.cut_short = True
        self.force_exit = True


def serve(settings: Settings) -> int:
    """Serves until a signal; the process's exit code."""
    pool = ConnectionPool(settings.database_url, settings.db_pool_max)
    cache = connect_redis(settings.redis_url)
    # Start even when Redis or Postgres is down: reads fall back to Postgres, and /readyz says 503 meanwhile.
    app = create_app(
        AppDeps(
            settings=settings,
            pool=pool,
            redis=cache,
            expected_revision=expected_revision(),
            known_revisions=known_revisions(),
        )
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our JSON handler (catalog/logs.py) formats uvicorn's lines too
        access_log=False,  # catalog/requests.py logs each request, with its id
        proxy_headers=False,
        server_header=False,
    )
    server = GracefulServer(config, settings.shutdown_timeout_seconds)
    log.info("catalog service starting", extra={"port": settings.port, "revision": settings.release.revision})
    try:
        server.run()
    finally:
        # After uvicorn has waited for in-flight requests, so no request loses its connections.
        pool.close()
        cache.close()
    if server.cut_short:
        return 1
    log.info("shutdown complete")
    return 0
