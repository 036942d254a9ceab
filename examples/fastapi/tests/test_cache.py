"""Product reads come from Redis until a write changes them; without Redis they come from Postgres."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from tests.support import ADMIN, AppFactory, free_port, new_product


def metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_second_read_is_a_cache_hit(client: TestClient, redis_url: str) -> None:
    product = new_product(client)
    first = client.get(f"/products/{product['id']}")
    second = client.get(f"/products/{product['id']}")
    assert first.content == second.content  # the hit is sent as stored, in the same bytes
    assert metric(client, "cache_misses_total") == 1
    assert metric(client, "cache_hits_total") == 1
    with redis.Redis.from_url(redis_url) as direct:
        assert direct.exists(f"catalog:entry:product:{product['id']}")


def test_an_order_invalidates_the_product_and_the_list(client: TestClient) -> None:
    product = new_product(client, stock=10)
    for _ in range(2):  # warm both entries
        assert client.get(f"/products/{product['id']}").json()["stock"] == 10
        assert client.get("/products").json()["items"][0]["stock"] == 10

    assert client.post("/orders", json={"productId": product["id"], "quantity": 4}).status_code == 201

    assert client.get(f"/products/{product['id']}").json()["stock"] == 6
    assert client.get("/products").json()["items"][0]["stock"] == 6


def test_an_edit_and_a_create_invalidate_what_they_change(client: TestClient) -> None:
    product = new_product(client, name="Old name")
    client.get(f"/products/{product['id']}")
    client.get("/products")
    client.patch(f"/products/{product['id']}", json={"name": "New name"}, headers=ADMIN)
    assert client.get(f"/products/{product['id']}").json()["name"] == "New name"
    new_product(client, sku="SECOND")
    assert len(client.get("/products").json()["items"]) == 2


def test_reads_fall_back_to_postgres_when_redis_is_down(make_client: AppFactory, client: TestClient) -> None:
    product = new_product(client)
    offline = make_client(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert offline.get(f"/products/{product['id']}").json() == product
    assert offline.get("/products").json()["items"] == [product]
    placed = offline.post("/orders", json={"productId": product["id"], "quantity": 1})
    assert placed.status_code == 201  # an order does not need the cache; its invalidation failure is logged
    assert metric(offline, "cache_errors_total") >= 3
