"""Errors the sandbox answers with, in the platform's own formats.

v2 calls answer ``{"message": "<text> ERROR_CODE"}``; v3 calls answer
``{"errorCode": "area:code", "description": "...", "details": [{"item", "description"}]}``.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

V2_CODE = re.compile(r"\s*(?:Error:\s*)?(ERROR_[A-Z0-9_]+)\s*$")
V3_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9]*:[A-Za-z][A-Za-z0-9]*$")


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


def is_v3(path: str) -> bool:
    """Whether ``path`` is in the v3 family (``/contacts/v3/...``, ``/insightData/v3/...``, ``/v3/...``)."""
    return "/v3/" in path or path.endswith("/v3")


def v3_area(path: str) -> str:
    """The ``area`` of a v3 ``errorCode`` for ``path``: the segment before ``v3`` (``insightData``...)."""
    parts = [p for p in path.split("/") if p]
    if "v3" in parts:
        at = parts.index("v3")
        if at > 0 and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", parts[at - 1]):
            return parts[at - 1]
    return "general"


V3_NAMES = {"ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE": "serviceTemporarilyUnavailable"}
"""v2 codes whose words run together, spelled for v3 (the client's policy table knows these names)."""


def camel(code: str) -> str:
    """``ERROR_RATE_LIMIT_EXCEEDED`` -> ``rateLimitExceeded`` (a v2 code as a v3 ``code``)."""
    if code in V3_NAMES:
        return V3_NAMES[code]
    words = [w for w in code.removeprefix("ERROR_").lower().split("_") if w] or ["unknown"]
    return words[0] + "".join(w.title() for w in words[1:])


def upper_snake(code: str) -> str:
    """``insightData:validationFailed`` -> ``ERROR_VALIDATION_FAILED`` (a v3 code as a v2 code)."""
    name = code.rpartition(":")[2] or "unknown"
    return "ERROR_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def in_family(err: ApiError, path: str) -> ApiError:
    """``err`` in the error family of ``path``: v3 paths answer v3 bodies, every other path v2 bodies.

    A v2 error met on a v3 path keeps its text and becomes ``area:code`` (``ERROR_PARAMETER_INVALID`` on
    ``/insightData/v3/...`` -> ``insightData:parameterInvalid``); a v3 error on a v2 path becomes
    ``"<description> ERROR_X"``.
    """
    if is_v3(path):
        if isinstance(err, V3Error):
            if V3_CODE.match(err.code):
                return err
            code = f"{v3_area(path)}:{camel(err.code)}"
            return V3Error(err.status, code, err.message, err.details, err.headers)
        match = V2_CODE.search(err.message)
        code = match.group(1) if match else "ERROR_UNKNOWN"
        text = err.message[: match.start()].strip() if match else err.message
        text = text or code.removeprefix("ERROR_").replace("_", " ").capitalize()
        return V3Error(err.status, f"{v3_area(path)}:{camel(code)}", text, None, err.headers)
    if isinstance(err, V3Error):
        return ApiError(err.status, f"{err.message} {upper_snake(err.code)}", err.headers)
    return err


def error_response(
    path: str, status: int, description: str, code: str, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error in the family of ``path`` from a description and a v2 ``ERROR_X`` code."""
    return render(ApiError(status, f"{description} {code}", headers), path)


def render(err: ApiError, path: str) -> Response:
    """The JSON response for ``err`` on ``path`` (converted to the path's family)."""
    err = in_family(err, path)
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers or None)
