"""Orders take stock in one statement: never more than there is, whatever the concurrency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support import ADMIN, ServiceProcess, new_product


def test_an_order_takes_stock_and_records_the_price(client: TestClient) -> None:
    product = new_product(client, priceCents=1200, stock=10)
    placed = client.post("/orders", json={"productId": product["id"], "quantity": 3})
    assert placed.status_code == 201
    order = placed.json()
    assert order["unitPriceCents"] == 1200
    assert order["totalCents"] == 3600
    assert placed.headers["location"] == f"/orders/{order['id']}"
    assert client.get(f"/products/{product['id']}").json()["stock"] == 7
    assert client.get(f"/orders/{order['id']}").json() == order
    assert client.get("/orders").json() == {"items": [order], "nextAfter": None}


def test_an_unknown_product_is_404_and_short_stock_is_409(client: TestClient) -> None:
    missing = client.post("/orders", json={"productId": 999, "quantity": 1})
    assert missing.status_code == 404
    assert missing.json()["message"] == "product 999 does not exist"

    product = new_product(client, stock=2)
    short = client.post("/orders", json={"productId": product["id"], "quantity": 3})
    assert short.status_code == 409
    assert short.json() == {"error": "Conflict", "message": "only 2 in stock, 3 requested", "available": 2}
    assert client.get(f"/products/{product['id']}").json()["stock"] == 2
    assert client.get("/orders").json()["items"] == []
    assert client.post("/orders", json={"productId": product["id"], "quantity": 0}).status_code == 400


def test_a_product_with_orders_cannot_be_deleted(client: TestClient) -> None:
    product = new_product(client)
    client.post("/orders", json={"productId": product["id"], "quantity": 1})
    refused = client.delete(f"/products/{product['id']}", headers=ADMIN)
    assert refused.status_code == 409
    assert "has orders" in refused.json()["message"]


@pytest.fixture
def service(database_url: str, redis_url: str) -> Iterator[ServiceProcess]:
    running = ServiceProcess(database_url, redis_url, DB_POOL_MAX="8")
    yield running
    running.stop()


def test_concurrent_orders_never_oversell(service: ServiceProcess) -> None:
    buyers, stock = 40, 7
    with httpx.Client(base_url=service.url, timeout=30) as http:
        product = new_product(http, stock=stock)

        def buy(_: int) -> int:
            with httpx.Client(base_url=service.url, timeout=30) as own:
                return own.post("/orders", json={"productId": product["id"], "quantity": 1}).status_code

        with ThreadPoolExecutor(max_workers=buyers) as pool:
            answers = Counter(pool.map(buy, range(buyers)))

        assert answers == {201: stock, 409: buyers - stock}
        assert http.get(f"/products/{product['id']}").json()["stock"] == 0
        orders = http.get("/orders?limit=100").json()["items"]
        assert len(orders) == stock
        assert {order["productId"] for order in orders} == {product["id"]}
