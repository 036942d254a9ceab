"""
What every request goes through, as one ASGI middleware: a request id (the caller's `x-request-id` if it is
sane, else a new one, echoed in the answer and on every log line), a log line and metrics per request, and
the last-resort 500 that names the request id instead of leaking a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.logs import request_id
from catalog.metrics import Metrics

log = logging.getLogger("catalog.http")

INCOMING_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Orchestrators poll liveness every few seconds; logging each poll would drown the real traffic.
UNLOGGED_PATHS = {"/healthz"}


def choose_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """Keep the caller's id (nginx sets one) so a request can be followed across hops; reject junk."""
    for name, value in headers:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            if INCOMING_REQUEST_ID.match(incoming):
                return incoming
    return str(uuid.uuid4())


def route_label(scope: Scope) -> str:
    # The route's pattern (/products/{product_id}), never the raw URL, so label cardinality stays bounded.
    route = scope.get("route")
    return getattr(route, "path", "unmatched")


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = choose_request_id(scope["headers"])
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request failed")
            status = 500
            if not response_started:
                await self._internal_error(send_with_id, rid)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        labels = {"method": scope["method"], "route": route_label(scope), "status_code": str(status)}
        self.metrics.http_requests.labels(**labels).inc()
        self.metrics.http_duration.labels(**labels).observe(seconds)
        if scope["path"] not in UNLOGGED_PATHS:
            fields: dict[str, Any] = {
                "method": scope["method"],
                "url": scope["path"],
                "statusCode": status,
                "responseTime": round(seconds * 1000, 1),
            }
            log.info("request completed", extra=fields)

    @staticmethod
    async def _internal_error(send: Send, rid: str) -> None:
        body = json.dumps(
            {
                "error": "Internal Server Error",
                "message": "the request failed; quote the request id when reporting it",
                "requestId": rid,
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})
