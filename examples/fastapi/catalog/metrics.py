"""
Prometheus metrics, on a registry of the app's own so that several apps in one process (the tests) never
clash. Named as the Node sample's are: `_total` only on counters, base units (`_seconds`) in the name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from catalog.config import Release
from catalog.db import ConnectionPool

HTTP_LABELS = ("method", "route", "status_code")
STOCK_SQL = "SELECT coalesce(sum(stock), 0) AS units, count(*) FILTER (WHERE stock = 0) AS out FROM products"


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    http_requests: Counter
    http_duration: Histogram
    cache_hits: Counter
    cache_misses: Counter
    cache_errors: Counter
    orders_placed: Counter


class PoolCollector(Collector):
    """The Postgres pool's state, read at each scrape."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        stats = self.pool.stats
        for name, help_text, value in (
            ("db_pool_connections_open", "Connections open in the Postgres pool", stats["open"]),
            ("db_pool_connections_idle", "Idle connections in the Postgres pool", stats["idle"]),
            ("db_pool_connections_max", "The most connections the Postgres pool opens", stats["max"]),
            ("db_pool_clients_waiting", "Queries waiting for a pool connection", stats["waiting"]),
        ):
            yield GaugeMetricFamily(name, help_text, value)


class StockCollector(Collector):
    """
    The business panel's stock, read at each scrape. With the database down the value is NaN rather than a
    failed scrape, so the instance still counts as up.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        units, out_of_stock = math.nan, math.nan
        try:
            with self.pool.connection() as conn:
                row = conn.execute(STOCK_SQL).fetchone()
            if row:
                units, out_of_stock = float(row["units"]), float(row["out"])
        except Exception:  # noqa: BLE001  (any failure reads as "unknown", never as a failed scrape)
            pass
        yield GaugeMetricFamily("catalog_stock_units", "Units in stock, summed over every product", units)
        yield GaugeMetricFamily("catalog_products_out_of_stock", "Products with no stock left", out_of_stock)


def create_metrics(pool: ConnectionPool, release: Release) -> Metrics:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(PoolCollector(pool))
    registry.register(StockCollector(pool))
    Gauge(
        "app_build_info",
        "Always 1; the release and revision this process runs",
        ("release", "revision"),
        registry=registry,
    ).labels(release.id, release.revision).set(1)
    return Metrics(
        registry=registry,
        http_requests=Counter(
            "http_requests", "HTTP requests by route and status", HTTP_LABELS, registry=registry
        ),
        http_duration=Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route and status",
            HTTP_LABELS,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        ),
        cache_hits=Counter("cache_hits", "Cache hits", ("cache",), registry=registry),
        cache_misses=Counter("cache_misses", "Cache misses", ("cache",), registry=registry),
        cache_errors=Counter(
            "cache_errors",
            "Cache operations that failed (Redis unreachable); the read fell back to Postgres",
            ("cache",),
            registry=registry,
        ),
        orders_placed=Counter(
            "orders_placed", "Orders placed (stock taken and the order stored)", registry=registry
        ),
    )
