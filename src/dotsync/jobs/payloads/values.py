"""Value formatting shared by every payload: dates, money and text as the platform accepts them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

TEXT_LIMIT = 1000
"""The platform's limit for a text data-field value, in characters."""

_CENT = Decimal("0.01")


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC with seconds (``2026-11-27T07:53:21Z``); None stays None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Decimal | float | int | None) -> float:
    """A money amount rounded to cents, as a JSON number (0.0 for None)."""
    if value is None:
        return 0.0
    return float(Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP))


def money_text(value: Decimal | float | int | None) -> str:
    """A money amount rounded to cents, as text (``"12.30"``) for CSV data fields."""
    if value is None:
        return ""
    return str(Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP))


def text(value: object, limit: int = TEXT_LIMIT) -> str:
    """Text cut to ``limit`` characters; None becomes ``""``."""
    if value is None:
        return ""
    out = str(value)
    return out[:limit]
