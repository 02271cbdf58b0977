"""Insight records (v3 import shape) and the checks that keep one bad record out of a batch.

A record is ``{"key": str, "contactIdentity": {"identifier": "email", "value": email}, "json": {...}}``
for contact-scoped collections, or ``{"key": str, "json": {...}}`` for account-scoped ones.

:func:`problem` catches what the platform would reject per record (``JsonContainsNestedArray``,
``JsonKeyInvalidCharacters``, ``JsonContainsDashUnderscoreClash``, over-long keys), so the job can
quarantine that record and send the rest.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from dotsync.jobs.payloads.values import CONTROL_RE, NUMBER_LIMIT, number_problem, strip_controls

KEY_LIMIT = 128
"""Longest JSON property name dotsync sends (the platform's limit is not published)."""

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")

_LIMIT = int(NUMBER_LIMIT)


def clean(value: Any) -> Any:
    """Drop ``None`` values from objects, recursively (a null gives the platform no type to infer).

    Strings lose their control characters (:func:`~dotsync.jobs.payloads.values.strip_controls`).
    Called once per record on every record sent, so plain strings and numbers are handled inline.
    """
    if isinstance(value, dict):
        return {k: _clean_item(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean_item(v) for v in value]
    if isinstance(value, str):
        return strip_controls(value)
    return value


def _clean_item(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return CONTROL_RE.sub("", value)  # strip_controls, inlined
    if kind is int or kind is float or kind is bool:
        return value
    return clean(value)


def contact_record(key: str, email: str, body: dict[str, Any]) -> dict[str, Any]:
    """A contact-scoped record."""
    return {"key": key, "contactIdentity": {"identifier": "email", "value": email}, "json": clean(body)}


def account_record(key: str, body: dict[str, Any]) -> dict[str, Any]:
    """An account-scoped record (catalogues)."""
    return {"key": key, "json": clean(body)}


def size(record: dict[str, Any]) -> int:
    """The record's size in bytes as compact JSON."""
    return len(json.dumps(record, separators=(",", ":"), default=str).encode())


def record_problem(record: dict[str, Any]) -> str | None:
    """Why the platform would reject this record (its key, then its JSON: :func:`problem`), or None.

    A key with control characters is refused rather than cleaned: a later delete names the key the
    store holds, so a cleaned key would leave the record behind on the platform.
    """
    key = str(record.get("key", ""))
    if not key:
        return "the record key is empty"
    if strip_controls(key) != key:
        return "the record key has control characters; correct it in the store"
    body = record["json"]
    return None if _fine(body) else problem(body)


def problem(body: Any, path: str = "json") -> str | None:
    """Why the platform would reject this record JSON, or None.

    Checks nested arrays (an array directly inside an array), property names (letters, digits,
    ``-`` and ``_``, at most :data:`KEY_LIMIT` characters), names that differ only by ``-``/``_``,
    and numbers the platform cannot hold (:func:`~dotsync.jobs.payloads.values.number_problem`).
    """
    if isinstance(body, float | int) and not isinstance(body, bool):
        bad = number_problem(body)
        return f"{path}: {bad}" if bad else None
    if isinstance(body, dict):
        seen: dict[str, str] = {}
        for key, value in body.items():
            if not isinstance(key, str) or not _KEY_RE.match(key):
                return f"{path}: property name {key!r} has characters other than letters, digits, - and _"
            if len(key) > KEY_LIMIT:
                return f"{path}: property name {key[:20]!r}... is longer than {KEY_LIMIT} characters"
            folded = key.replace("-", "_")
            if folded in seen:
                return f"{path}: property names {seen[folded]!r} and {key!r} clash"
            seen[folded] = key
            found = problem(value, f"{path}.{key}")
            if found:
                return found
    elif isinstance(body, list):
        for i, value in enumerate(body):
            if isinstance(value, list):
                return f"{path}[{i}]: arrays inside arrays are not allowed"
            found = problem(value, f"{path}[{i}]")
            if found:
                return found
    return None


def safe_key(name: str) -> str:
    """A free-form attribute name made into a valid property name (``Colour (EU)`` -> ``Colour_EU``)."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    return out[:KEY_LIMIT] or "attribute"


@lru_cache(maxsize=4096)
def _names_fine(names: tuple[Any, ...]) -> bool:
    """True when every property name is valid and no two clash (cached: builders repeat their names)."""
    folded = set()
    for key in names:
        if not isinstance(key, str) or not _KEY_RE.match(key) or len(key) > KEY_LIMIT:
            return False
        folded.add(key.replace("-", "_"))
    return len(folded) == len(names)


def _fine(body: Any) -> bool:
    """True when :func:`problem` would find nothing; False when it may (it is then asked).

    The fast path of :func:`record_problem`: no path strings, no :class:`~decimal.Decimal` per
    number, property names checked once per distinct set of names. Anything but plain JSON types
    (a subclass, a ``Decimal``) is left to :func:`problem`.
    """
    kind = type(body)
    if kind is str or kind is bool or body is None:
        return True
    if kind is float:
        return -_LIMIT < body < _LIMIT  # False for NaN and infinities too
    if kind is int:
        return -_LIMIT < body < _LIMIT
    if kind is dict:
        if not _names_fine(tuple(body)):
            return False
        return all(type(v) is str or _fine(v) for v in body.values())
    if kind is list:
        return all(type(v) is not list and (type(v) is str or _fine(v)) for v in body)
    return False
