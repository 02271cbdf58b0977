"""What every sandbox handler gets: the request, the store, the knobs and the caller's account."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dotsync.platform.sandbox.errors import ApiError, V3Error, is_v3
from dotsync.platform.sandbox.faults import FaultState
from dotsync.platform.sandbox.storage import Store


@dataclass
class Ctx:
    """One API call in progress."""

    request: Request
    store: Store
    faults: FaultState
    account: sqlite3.Row

    @property
    def account_id(self) -> int:
        """The caller's account id."""
        return int(self.account["id"])

    @property
    def v3(self) -> bool:
        """Whether this is a v3 call (errors use the v3 body)."""
        return is_v3(self.request.url.path)

    def path(self, name: str) -> str:
        """A path parameter."""
        return str(self.request.path_params[name])

    def path_int(self, name: str, code: str = "ERROR_PARAMETER_INVALID") -> int:
        """An int32 path parameter, or 400 (also for values beyond 32 bits and non-ASCII digits)."""
        value = int32(self.path(name))
        if value is None:
            raise ApiError(400, f"The {name} parameter is not a valid number. {code}")
        return value

    def paging(self, default_select: int = 1000, max_select: int = 1000) -> tuple[int, int]:
        """The ``select``/``skip`` query parameters, validated as the platform does."""
        q = self.request.query_params
        select = int32(q.get("select", str(default_select)), signed=True)
        skip = int32(q.get("skip", "0"), signed=True)
        if select is None or skip is None:
            raise ApiError(400, "select and skip must be whole numbers. ERROR_PARAMETER_INVALID")
        if not 1 <= select <= max_select or skip < 0:
            raise ApiError(
                400,
                f"select must be between 1 and {max_select} and skip must not be negative. "
                "ERROR_PARAMETER_INVALID",
            )
        return select, skip

    def flag(self, name: str) -> bool:
        """A boolean query parameter (``true``/``false``)."""
        return self.request.query_params.get(name, "false").lower() == "true"

    async def json(self) -> Any:
        """The JSON request body, or 400."""
        raw = await self.request.body()
        try:
            return json.loads(raw or b"null")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
            if self.v3:
                raise V3Error(400, "insightData:badJson", "The request JSON is badly formed") from None
            raise ApiError(400, "The request body is not valid JSON. ERROR_MALFORMED_REQUEST") from None

    async def json_object(self) -> dict[str, Any]:
        """The JSON request body, which must be an object."""
        body = await self.json()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object. ERROR_MALFORMED_REQUEST")
        return body


INT32_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")
_SIGNED = re.compile(r"[-+]?[0-9]{1,10}")


def int32(text: str, *, signed: bool = False) -> int | None:
    """``text`` as an int32 (ASCII digits only; ``signed`` allows a sign), or None when it is not one.

    Ids and paging values are int32 on the platform; anything larger would not fit SQLite's 64-bit
    integers either, so it is a 400, never an overflow.
    """
    text = text.strip()
    if not (_SIGNED if signed else _DIGITS).fullmatch(text):
        return None
    value = int(text)
    return value if -INT32_MAX - 1 <= value <= INT32_MAX else None


def is_id(value: Any) -> bool:
    """Whether a JSON value is an int32 id (not a bool, not beyond 32 bits)."""
    return isinstance(value, int) and not isinstance(value, bool) and -INT32_MAX - 1 <= value <= INT32_MAX


def id_list(value: Any, field: str) -> list[int]:
    """A JSON list of int32 ids (None: empty), or 400."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(is_id(v) for v in value):
        raise ApiError(400, f"{field} must be a list of ids. ERROR_PARAMETER_INVALID")
    return list(value)


Handler = Callable[[Ctx], Awaitable[Response]]


@dataclass(frozen=True)
class Api:
    """One API operation: method, Starlette path template (same spelling as the spec) and handler."""

    method: str
    path: str
    handler: Handler


def get(body: dict[str, Any], name: str, default: Any = None) -> Any:
    """A request field, matched case-insensitively (the platform binds ``Email`` and ``email`` alike)."""
    if name in body:
        return body[name]
    lowered = name.lower()
    for key, value in body.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return default


def enum(value: Any, allowed: Iterable[str], field: str, default: str | None = None) -> str:
    """An enum value matched case-insensitively and returned in the platform's spelling, or 400."""
    if value is None or value == "":
        if default is None:
            raise ApiError(400, f"{field} is required. ERROR_PARAMETER_INVALID")
        return default
    for option in allowed:
        if str(value).lower() == option.lower():
            return option
    raise ApiError(400, f"{field} is not valid: {value!r}. ERROR_PARAMETER_INVALID")


def ok(body: Any, status: int = 200) -> Response:
    """A JSON response."""
    return JSONResponse(body, status_code=status)


def no_content() -> Response:
    """204 with no body."""
    return Response(status_code=204)


def csv_response(text: str, media_type: str = "application/octet-stream") -> Response:
    """A CSV file (UTF-8), as the platform returns report-faults."""
    return Response(text.encode("utf-8"), status_code=200, media_type=media_type)
