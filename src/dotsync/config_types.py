"""Strict parsers of setting values, one per type of :data:`dotsync.config.SCHEMA`.

Every parser takes a value as it comes from a source: text (a ``DOTSYNC_*`` environment variable,
or a string in ``settings.DOTSYNC`` or a website's row) or a Python/JSON value (``settings.DOTSYNC``,
a ``WebsiteConfig`` column or its ``extra`` JSON). It returns the typed value or raises
:class:`ValueError` whose message completes "<source> ...", e.g. "must be true or false ...".

Rules:

* booleans: ``true``/``false``, ``1``/``0``, ``yes``/``no`` (any case); nothing else;
* whole numbers: digits only (no ``1e3``, ``1.0``, ``1_000``);
* lists of names: a JSON array of non-empty strings, or names separated by commas
  (``complete`` is the one status ``complete``, never its letters);
* maps: a JSON object whose keys are the known ones and whose values have the right type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection
from typing import Any

Parser = Callable[[Any], Any]

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_INT_RE = re.compile(r"^[+-]?[0-9]{1,18}$")
_FLOAT_RE = re.compile(r"^[+-]?([0-9]{1,12}(\.[0-9]*)?|\.[0-9]+)$")


def show(value: Any) -> str:
    """A short, printable rendering of a rejected value (never used for secrets)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", type(None): "null", bool: "a boolean", str: "text"}
    return kinds.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def boolean(value: Any) -> bool:
    """True or False, from a bool, 0/1, or one of the words true/false/1/0/yes/no (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"must be true or false (or 1/0, yes/no), not {show(value)}")


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"must be a whole number, not {show(value)}")


def whole_number(low: int, high: int | None = None) -> Parser:
    """A parser of whole numbers in ``[low, high]`` (no upper bound when ``high`` is None)."""

    def parse(value: Any) -> int:
        n = _whole(value)
        if n < low or (high is not None and n > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be a whole number {bound}, not {n}")
        return n

    return parse


def optional_id(value: Any) -> int | None:
    """A positive id, or None from null, an empty string or ``null``/``none``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return None
    n = _whole(value)
    if n <= 0:
        raise ValueError(f"must be a positive number, not {n}")
    return n


def seconds(value: Any) -> float:
    """A finite number of seconds greater than 0 (at most a day)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        n = float(value)
    elif isinstance(value, str) and _FLOAT_RE.match(value.strip()):
        n = float(value.strip())
    else:
        raise ValueError(f"must be a number of seconds, not {show(value)}")
    if not math.isfinite(n) or not 0 < n <= 86400:
        raise ValueError(f"must be a number of seconds above 0 and at most 86400, not {show(value)}")
    return n


def text(value: Any) -> str:
    """Any text, surrounding whitespace removed."""
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_kind(value)}")
    return value.strip()


def secret(value: Any) -> str:
    """Any text, kept exactly; the value is never shown in a message."""
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_kind(value)}")
    return value


def url(pattern: re.Pattern[str], what: str) -> Parser:
    """Text that is empty or matches ``pattern`` (``what`` says what it must be)."""

    def parse(value: Any) -> str:
        s = text(value)
        if s and not pattern.match(s):
            raise ValueError(f"{s!r} is not {what}")
        return s

    return parse


def choice(options: Collection[str]) -> Parser:
    """One of ``options``."""

    def parse(value: Any) -> str:
        s = text(value)
        if s not in options:
            listed = " or ".join(repr(o) for o in options)
            raise ValueError(f"must be {listed}, not {show(value)}")
        return s

    return parse


def _listed(value: Any, *, keep_empty: bool) -> Any:
    """A string as a list: a JSON array, or its parts separated by commas, stripped; other values as given.

    ``keep_empty`` keeps the empty parts of a comma-separated string (for the caller to reject); an
    empty string is always an empty list.
    """
    if not isinstance(value, str):
        return value
    s = value.strip()
    if s.startswith("["):
        try:
            return json.loads(s)
        except json.JSONDecodeError:
            raise ValueError(f"is not a valid JSON array: {show(s)}") from None
    parts = [part.strip() for part in s.split(",")] if s else []
    return parts if keep_empty else [part for part in parts if part]


def names(value: Any) -> tuple[str, ...]:
    """At least one non-empty name: a JSON array, a list, or names separated by commas."""
    value = _listed(value, keep_empty=True)
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            f"must be a list of names (a JSON array, or names separated by commas), not {_kind(value)}"
        )
    if not value:
        raise ValueError("must name at least one status")
    bad = [item for item in value if not isinstance(item, str) or not item.strip()]
    if bad:
        raise ValueError(f"must hold non-empty names only, not {show(bad[0])}")
    return tuple(dict.fromkeys(item.strip() for item in value))


def _object(value: Any, example: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"must be a JSON object such as {example}, not {show(value)}") from None
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object such as {example}, not {_kind(value)}")
    return value


def _unknown(key: Any, known: Collection[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), list(known), n=1)
    if close:
        hint = f" (did you mean {close[0]!r}?)"
    else:
        hint = f" (known: {', '.join(sorted(known))})" if len(known) <= 12 else " (see the README)"
    return f"has the unknown key {show(key)}{hint}"


def int_map(known: Collection[str], unit: str, example: str, *, disabled: bool = False) -> Parser:
    """A JSON object from keys in ``known`` to positive whole numbers of ``unit``.

    With ``disabled``, ``0`` or ``"disabled"`` is accepted too, and read as 0 (switched off).
    """

    def parse(value: Any) -> dict[str, int]:
        obj = _object(value, example)
        out: dict[str, int] = {}
        problems: list[str] = []
        for key, item in obj.items():
            if key not in known:
                problems.append(_unknown(key, known))
            elif disabled and (item == "disabled" or (item == 0 and not isinstance(item, bool))):
                out[key] = 0
            elif isinstance(item, bool) or not isinstance(item, int) or item <= 0:
                problems.append(f"[{key!r}] must be a positive whole number of {unit}, not {show(item)}")
            else:
                out[key] = item
        if problems:
            raise ValueError("; ".join(problems))
        return out

    return parse


def name_map(known: Collection[str], pattern: re.Pattern[str], example: str) -> Parser:
    """A JSON object from keys in ``known`` to names matching ``pattern``, or "" (not sent)."""

    def parse(value: Any) -> dict[str, str]:
        obj = _object(value, example)
        out: dict[str, str] = {}
        problems: list[str] = []
        for key, item in obj.items():
            if key not in known:
                problems.append(_unknown(key, known))
            elif not isinstance(item, str):
                problems.append(f'[{key!r}] must be a data-field name or "", not {show(item)}')
            elif item and not pattern.match(item):
                problems.append(f"[{key!r}]: data field {item!r} breaks the platform's naming rules")
            else:
                out[key] = item
        if problems:
            raise ValueError("; ".join(problems))
        return out

    return parse


_EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def recipients(value: Any) -> tuple[str, ...]:
    """Staff to alert: user ids and email addresses, as a JSON array or separated by commas (may be empty).

    An id is digits (a positive user id); an address has one ``@`` and a dot after it. Each is kept
    once, addresses in lower case; which of them are active staff is decided when an email is sent.
    """
    value = _listed(value, keep_empty=False)
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            "must be staff user ids or email addresses (a JSON array, or separated by commas), "
            f"not {_kind(value)}"
        )
    out: list[str] = []
    for item in value:
        text_item = str(item).strip() if isinstance(item, (str, int)) and not isinstance(item, bool) else None
        if text_item and _INT_RE.match(text_item) and int(text_item) > 0:
            out.append(str(int(text_item)))
        elif text_item and _EMAIL_RE.match(text_item):
            out.append(text_item.lower())
        else:
            raise ValueError(f"must hold staff user ids or email addresses only, not {show(item)}")
    return tuple(dict.fromkeys(out))
