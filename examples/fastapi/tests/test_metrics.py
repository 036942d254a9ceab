"""/metrics for Prometheus, and the request id every answer and log line carries."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import new_product


def test_metrics_are_exposed_by_route_pattern(client: TestClient) -> None:
    product = new_product(client, stock=5)
    client.get(f"/products/{product['id']}")
    client.post("/orders", json={"productId": product["id"], "quantity": 2})

    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    # The route's pattern, never the raw URL: label cardinality stays bounded.
    assert 'http_requests_total{method="GET",route="/products/{product_id}",status_code="200"} 1.0' in text
    assert 'http_requests_total{method="POST",route="/orders",status_code="201"} 1.0' in text
    assert "http_request_duration_seconds_bucket{" in text
    assert "orders_placed_total 1.0" in text
    assert "catalog_stock_units 3.0" in text
    assert "db_pool_connections_max 10.0" in text
    assert 'app_build_info{release="dev",revision="unknown"} 1.0' in text
    assert "process_resident_memory_bytes" in text


def test_request_ids_are_kept_from_the_caller_or_made(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"x-request-id": "edge-42.a:b"})
    assert kept.headers["x-request-id"] == "edge-42.a:b"
    replaced = client.get("/healthz", headers={"x-request-id": "no spaces or <html> please"})
    assert replaced.headers["x-request-id"] != "no spaces or <html> please"
    assert len(replaced.headers["x-request-id"]) == 36  # a UUID
