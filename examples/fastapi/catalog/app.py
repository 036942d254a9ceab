"""Assembles the HTTP service from its routes. Pure wiring: connections are made and owned by the caller."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from catalog.cache import ProductCache
from catalog.config import Settings
from catalog.db import ConnectionPool
from catalog.metrics import create_metrics
from catalog.orders import OrderStore
from catalog.products import ProductStore
from catalog.requests import RequestObserver
from catalog.routes.errors import error
from catalog.routes.health import health_routes
from catalog.routes.metrics import metrics_route
from catalog.routes.orders import order_routes
from catalog.routes.products import product_routes


@dataclass(frozen=True)
class AppDeps:
    settings: Settings
    pool: ConnectionPool
    redis: redis.Redis
    # The newest revision this build ships and all it knows; /readyz compares them with the database.
    expected_revision: str | None
    known_revisions: list[str]


def validation_message(failure: RequestValidationError) -> str:
    """One line naming each bad field: `body/priceCents: ensure this value is less than or equal to 10`."""
    return "; ".join(
        f"{'/'.join(str(part) for part in problem['loc'] if part != '__root__')}: {problem['msg']}"
        for problem in failure.errors()
    )


def create_app(deps: AppDeps) -> FastAPI:
    app = FastAPI(title="catalog", version=deps.settings.release.id)
    metrics = create_metrics(deps.pool, deps.settings.release)
    cache = ProductCache(deps.redis, deps.settings.cache_ttl_seconds, metrics)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, failure: RequestValidationError) -> JSONResponse:
        return error(400, "Bad Request", validation_message(failure))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, failure: HTTPException) -> JSONResponse:
        if failure.status_code == 404:
            return error(404, "Not Found", f"no route {request.method} {request.url.path}")
        return error(failure.status_code, str(failure.detail), str(failure.detail))

    release = deps.settings.release
    revisions = (deps.expected_revision, deps.known_revisions)
    app.include_router(health_routes(deps.pool, deps.redis, *revisions, release))
    app.include_router(metrics_route(metrics))
    app.include_router(product_routes(ProductStore(deps.pool), cache, deps.settings.admin_token))
    app.include_router(order_routes(OrderStore(deps.pool), cache, metrics.orders_placed))
    app.add_middleware(RequestObserver, metrics=metrics)
    return app

