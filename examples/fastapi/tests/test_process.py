"""The service as a deploy runs it: JSON logs, and a SIGTERM that lets the request in flight finish."""

from __future__ import annotations

import json
import threading

import httpx

from catalog.db import connect
from tests.support import ServiceProcess, new_product, wait_until


def test_sigterm_finishes_the_request_in_flight_then_exits_0(database_url: str, redis_url: str) -> None:
    service = ServiceProcess(database_url, redis_url, RELEASE_ID="r42")
    try:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            product = new_product(http, stock=3)
        answers: list[int] = []
        with connect(database_url) as blocker:
            # Hold the product's row: the order below waits on it, in flight, while the signal arrives.
            blocker.autocommit = False
            blocker.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product["id"],))
            buyer = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(
                        f"{service.url}/orders",
                        json={"productId": product["id"], "quantity": 1},
                        headers={"x-request-id": "in-flight-1"},
                        timeout=30,
                    ).status_code
                )
            )
            buyer.start()
            wait_until("the order to wait on the row lock", lambda: waiting_on_lock(database_url))
            service.process.terminate()
            # Shutdown has begun: new connections are refused while the order is still waiting.
            wait_until("the listener to close", lambda: refused(service.url), timeout=10)
            blocker.commit()
        buyer.join(timeout=30)
        exit_code = service.process.wait(timeout=30)
    finally:
        service.stop()

    assert answers == [201]
    assert exit_code == 0
    lines = [json.loads(line) for line in service.output().splitlines() if line.startswith("{")]
    assert lines, "the service logged nothing"
    assert {(line["service"], line["release"]) for line in lines} == {("catalog", "r42")}
    assert all(line["hostname"] for line in lines)
    order_line = next(line for line in lines if line.get("url") == "/orders")
    assert order_line["requestId"] == "in-flight-1"
    assert order_line["statusCode"] == 201
    assert any(line["msg"] == "shutdown complete" for line in lines)


def waiting_on_lock(database_url: str) -> bool:
    with connect(database_url) as conn:
        row = conn.execute(
            """SELECT count(*) AS waiting FROM pg_stat_activity
               WHERE wait_event_type = 'Lock' AND application_name = 'catalog'"""
        ).fetchone()
    return bool(row and row["waiting"])


def refused(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False
    return False
