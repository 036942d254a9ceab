"""Products: the admin's writes, everyone's reads, and input that never reaches Postgres unchecked."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import ADMIN, new_product


def test_creates_reads_updates_and_deletes_a_product(client: TestClient) -> None:
    created = client.post(
        "/products",
        json={"sku": "  MUG-1 ", "name": "Enamel mug", "priceCents": 1200, "stock": 10},
        headers=ADMIN,
    )
    assert created.status_code == 201
    product = created.json()
    assert product["sku"] == "MUG-1"  # trimmed
    assert product["description"] == ""
    assert created.headers["location"] == f"/products/{product['id']}"
    assert product["createdAt"].endswith("Z")

    assert client.get(f"/products/{product['id']}").json() == product

    updated = client.patch(f"/products/{product['id']}", json={"priceCents": 900}, headers=ADMIN)
    assert updated.status_code == 200
    assert updated.json()["priceCents"] == 900
    assert updated.json()["name"] == "Enamel mug"

    assert client.delete(f"/products/{product['id']}", headers=ADMIN).status_code == 204
    assert client.get(f"/products/{product['id']}").status_code == 404


def test_lists_products_in_keyset_pages(client: TestClient) -> None:
    ids = [new_product(client, sku=f"SKU-{n}")["id"] for n in range(5)]
    first = client.get("/products?limit=2").json()
    second = client.get(f"/products?limit=2&after={first['nextAfter']}").json()
    last = client.get(f"/products?limit=2&after={second['nextAfter']}").json()
    assert [p["id"] for p in first["items"] + second["items"] + last["items"]] == ids
    assert last["nextAfter"] is None


def test_writes_need_the_admin_token_before_the_body_is_read(client: TestClient) -> None:
    body = {"sku": "X", "name": "x", "priceCents": 1, "stock": 1}
    assert client.post("/products", json=body).status_code == 401
    wrong = client.post("/products", json=body, headers={"authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    # A body that is not even JSON still answers 401, not a 400 that would describe the route's schema.
    garbage = client.post("/products", content=b"{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 401
    product = new_product(client)
    assert client.patch(f"/products/{product['id']}", json={"stock": 0}).status_code == 401
    assert client.delete(f"/products/{product['id']}").status_code == 401
    assert client.get("/products").json()["items"] == [product]


def test_bad_input_is_a_400_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"sku": "X", "name": "x", "priceCents": 1.5, "stock": 1}, "priceCents"),
        ({"sku": "X", "name": "x", "priceCents": "1", "stock": 1}, "priceCents"),
        ({"sku": "X", "name": "x", "priceCents": 1, "stock": -1}, "stock"),
        ({"sku": "X", "name": "   ", "priceCents": 1, "stock": 1}, "name"),
        ({"sku": "X", "name": "bad\u0000name", "priceCents": 1, "stock": 1}, "name"),
        ({"sku": "X", "name": "x", "priceCents": 1, "stock": 1, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = client.post("/products", json=body, headers=ADMIN)
        assert response.status_code == 400, body
        assert response.json()["error"] == "Bad Request"
        assert f"body/{field}" in response.json()["message"], response.json()
    assert client.get("/products/0").status_code == 400
    assert client.get("/products/2147483648").status_code == 400
    assert client.get("/products?limit=101").status_code == 400
    nothing = client.patch("/products/1", json={}, headers=ADMIN)
    assert nothing.json()["message"] == "body: send at least one field to change"


def test_a_duplicate_sku_is_a_conflict(client: TestClient) -> None:
    new_product(client, sku="MUG-1")
    again = client.post(
        "/products", json={"sku": "MUG-1", "name": "x", "priceCents": 1, "stock": 1}, headers=ADMIN
    )
    assert again.status_code == 409
    assert "MUG-1" in again.json()["message"]


def test_unknown_routes_and_products_answer_404_in_the_same_shape(client: TestClient) -> None:
    assert client.get("/products/42").json() == {"error": "Not Found", "message": "product 42 does not exist"}
    assert client.get("/nowhere").json() == {"error": "Not Found", "message": "no route GET /nowhere"}
