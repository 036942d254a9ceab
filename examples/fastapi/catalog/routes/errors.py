"""The one shape of every error answer: `{"error": "Not Found", "message": "…"}`, as the Node sample's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse


class ErrorBody(BaseModel):
    error: str
    message: str


def error(status: int, title: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": title, "message": message, **extra}, status_code=status)
