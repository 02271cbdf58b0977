"""Read dotdigital's error answers: the ``ERROR_*`` code, the message, the wait the platform asked for.

v2 answers ``{"message": "<text>"}`` where the text comes in two styles, ``"Text. ERROR_X"`` and
``"Error: ERROR_X"``; v3 answers ``{"errorCode": "contacts:invalidId", "description": "...",
"details": [...]}``. Both are reduced to an :class:`ErrorBody` so :mod:`.policy` can pick the exception.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

ERROR_CODE_RE = re.compile(r"\bERROR_[A-Z0-9_]+")
"""An ``ERROR_*`` code anywhere in a v2 message, whatever the message style."""

EPOCH_THRESHOLD = 1_000_000_000
"""``x-ratelimit-reset`` values above this are read as a Unix time, below it as seconds to wait."""

_MAX_MESSAGE = 300


@dataclass(frozen=True)
class ErrorBody:
    """What an error response said.

    Attributes:
        message: the human text (v2 ``message`` or v3 ``description``), trimmed.
        code: the ``ERROR_*`` code (v2) or the ``errorCode`` (v3), if any.
    """

    message: str
    code: str | None


def parse_error_code(text: str | None) -> str | None:
    """Return the ``ERROR_*`` code in a v2 message, or None.

    Works for both styles: ``"Contact is suppressed. ERROR_CONTACT_SUPPRESSED"`` and
    ``"Error: ERROR_CONTACT_NOT_FOUND"`` (also with the trailing space some messages carry).

    Args:
        text: the message text.

    Returns:
        The code, e.g. ``"ERROR_CONTACT_SUPPRESSED"``, or None when the text holds none.
    """
    if not text:
        return None
    match = ERROR_CODE_RE.search(text)
    return match.group(0) if match else None


def parse_error_body(response: httpx.Response) -> ErrorBody:
    """Read the message and code of an error response (v2 or v3 shape, or plain text).

    Args:
        response: a non-2xx response whose body has been read.

    Returns:
        The message (at most 300 characters, never the request payload) and the code.
    """
    text = response.text.strip()
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        lowered = {str(k).lower(): v for k, v in body.items()}
        if "errorcode" in lowered:  # v3
            message = str(lowered.get("description") or lowered["errorcode"])
            return ErrorBody(message[:_MAX_MESSAGE], str(lowered["errorcode"]))
        for key in ("message", "title", "detail"):  # v2, then RFC 7807 ProblemDetails
            if lowered.get(key):
                message = str(lowered[key])
                return ErrorBody(message[:_MAX_MESSAGE], parse_error_code(message))
    message = text or response.reason_phrase or f"HTTP {response.status_code}"
    return ErrorBody(message[:_MAX_MESSAGE], parse_error_code(message))


def retry_after_seconds(response: httpx.Response, *, now: float | None = None) -> float | None:
    """How long a throttled response asks us to wait.

    ``Retry-After`` wins (seconds or an HTTP date). Otherwise ``x-ratelimit-reset`` is used: dotdigital's
    PHP SDK documents it as seconds until the limit resets; a value that looks like a Unix time is
    converted to a delay, since that reading is also published (UNCONFIRMED which one the API sends).

    Args:
        response: the 429 (or other) response.
        now: the current Unix time, for tests.

    Returns:
        Seconds to wait (never negative), or None when neither header is usable.
    """
    now = time.time() if now is None else now
    raw = response.headers.get("retry-after")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - now)
            except (TypeError, ValueError):
                pass
    raw = response.headers.get("x-ratelimit-reset")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            return None
        return max(0.0, value - now) if value > EPOCH_THRESHOLD else max(0.0, value)
    return None
