"""Errors the sandbox answers with, in the platform's own formats.

v2 calls answer ``{"message": "<text> ERROR_CODE"}``; v3 calls answer
``{"errorCode": "area:code", "description": "...", "details": [{"item", "description"}]}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A v2-style error: HTTP status plus the platform's ``message`` text."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body the platform sends for this error."""
        return {"message": self.message}


class V3Error(ApiError):
    """A v3-style error (``errorCode`` / ``description`` / ``details``)."""

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, description, headers)
        self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body the platform sends for this error."""
        out: dict[str, Any] = {"errorCode": self.code, "description": self.message}
        if self.details:
            out["details"] = self.details
        return out


def bad_request(code: str, text: str = "") -> ApiError:
    """400 with ``"<text> ERROR_X"`` (or ``"Error: ERROR_X"`` when no text is given)."""
    return ApiError(400, f"{text} {code}" if text else f"Error: {code}")


def not_found(code: str, text: str = "") -> ApiError:
    """404 with the platform's not-found message."""
    return ApiError(404, f"{text} {code}" if text else f"Error: {code}")


UNAUTHORIZED = "Authorization has been denied for this request."
