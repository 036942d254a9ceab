"""
Routes that need `Authorization: Bearer <ADMIN_TOKEN>`.

The check runs before FastAPI reads the body, so a caller without the token learns nothing about the route's
schema (a bad body answers 401, not a 400 listing the fields) and cannot make the app parse a body it will
refuse anyway. A dependency would run only after the body was read and parsed. Both sides are hashed first,
so the comparison is constant-time and does not leak the token's length.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Handler = Callable[[Request], Awaitable[Response]]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def is_admin(authorization: str, admin_token: str) -> bool:
    given = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else ""
    return hmac.compare_digest(_digest(given), _digest(admin_token))


UNAUTHORIZED = {
    "error": "Unauthorized",
    "message": "this call needs the admin token: Authorization: Bearer <token>",
}


def admin_route(admin_token: str) -> type[APIRoute]:
    """An APIRoute class for a router whose every route needs the admin token."""

    class AdminRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                if not is_admin(request.headers.get("authorization", ""), admin_token):
                    return JSONResponse(UNAUTHORIZED, 401, {"www-authenticate": 'Bearer realm="catalog"'})
                return await handler(request)

            return guarded

    return AdminRoute
