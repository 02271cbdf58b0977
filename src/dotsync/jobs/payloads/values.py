"""Value formatting shared by every payload: dates, money and text as the platform accepts them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

TEXT_LIMIT = 1000
"""The platform's limit for a text data-field value, in characters."""

NUMBER_LIMIT = Decimal("1e15")
"""Largest magnitude (exclusive) dotsync sends as a number: a double still holds it to the cent.

A record with a number beyond it is quarantined (:func:`~dotsync.jobs.payloads.insight.problem`,
:func:`~dotsync.jobs.payloads.datafields.problem`) rather than sent rounded or as ``inf``.
"""

_CENT = Decimal("0.01")

_CONTEXT = Context(prec=28)
"""The context of every amount below 10**25 (built once: a ``Context`` per amount was measurable)."""

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 control characters except tab, LF and CR, and DEL: never meaningful in a shop's text."""


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC with seconds (``2026-11-27T07:53:21Z``); None stays None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    # not strftime("%Y"): it drops the leading zeros of years before 1000 on glibc
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _cents(value: Decimal | float | int) -> Decimal:
    """``value`` rounded to cents, whatever its size (non-finite values are returned as they are)."""
    amount = Decimal(value)
    if not amount.is_finite() or amount.adjusted() >= 100:  # far beyond NUMBER_LIMIT: not rounded
        return amount
    digits = amount.adjusted() + 4  # the default context (28 digits) fails on larger amounts
    context = _CONTEXT if digits <= 28 else Context(prec=digits)
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP, context=context)


def money(value: Decimal | float | int | None) -> float:
    """A money amount rounded to cents, as a JSON number (0.0 for None).

    Never raises: an amount beyond :data:`NUMBER_LIMIT` (or NaN) comes out as a float that
    :func:`~dotsync.jobs.payloads.insight.problem` then reports, so its record is quarantined.
    """
    if value is None:
        return 0.0
    return float(_cents(value))


def money_text(value: Decimal | float | int | None) -> str:
    """A money amount rounded to cents, as text (``"12.30"``, ``"-50.00"``) for CSV data fields."""
    if value is None:
        return ""
    return str(_cents(value))


def number_problem(value: Decimal | float | int) -> str | None:
    """Why the platform cannot take this number (NaN, infinite, beyond :data:`NUMBER_LIMIT`), or None."""
    amount = Decimal(value)
    if not amount.is_finite():
        return f"{value} is not a number"
    if abs(amount) >= NUMBER_LIMIT:
        return f"{amount:.2f} is beyond the platform's number range (+/-{NUMBER_LIMIT:.0e})"
    return None


def strip_controls(value: str) -> str:
    """``value`` without control characters (NUL, BEL, ESC, DEL...); tab, LF and CR are kept."""
    return CONTROL_RE.sub("", value)


def clean_strings(value: Any) -> Any:
    """Every string in a JSON-like value (dicts, lists) with :func:`strip_controls` applied."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, dict):
        return {k: clean_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    return value


def text(value: object, limit: int = TEXT_LIMIT) -> str:
    """Text without control characters (:func:`strip_controls`), cut to ``limit`` characters.

    None becomes ``""``.
    """
    if value is None:
        return ""
    return strip_controls(str(value))[:limit]
