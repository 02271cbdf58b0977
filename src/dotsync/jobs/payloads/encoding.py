r"""A record's canonical JSON, encoded once and fast: the text that is hashed, measured and sent.

:func:`canonical_json` returns exactly the text of ``json.dumps(value, sort_keys=True,
separators=(",", ":"), default=str)`` (ASCII only, keys sorted, compact), so a record's hash
(:func:`dotsync.jobs.queue.payload_hash`) and the bytes sent to the platform are the same as they
were before this encoder existed: an upgrade re-sends nothing. It encodes with ``orjson`` (about
ten times faster than the standard library on an order record) and falls back to ``json`` for the
few values whose spelling differs between the two:

* floats below 1e-4 or with an exponent (``orjson`` writes ``0.00001`` and ``1e-7``, ``json``
  writes ``1e-05`` and ``1e-07``), and NaN/infinity (``orjson`` writes ``null``): any number
  token in exponent form or starting ``0.0000``, and any ``null``, sends the value to ``json``.
  Records built by :mod:`dotsync.jobs.payloads.insight` drop ``None`` values, and their money
  amounts are cents, so they take the fast path;
* what ``orjson`` refuses (integers beyond 64 bits, non-string keys, lone surrogates, deep
  nesting);
* non-ASCII text, which ``orjson`` writes as UTF-8: it is escaped as ``json`` does
  (``\u00e9``, surrogate pairs above U+FFFF, and DEL as ``\u007f``).

Dates, decimals and anything else go through ``default=str`` in both encoders. One value kind
differs and cannot be detected in the text: an :class:`enum.Enum` that is neither a ``str`` nor an
``int`` (``orjson`` writes its value, ``json`` its ``str()``); payloads never hold one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""Keys sorted; dates and dataclasses go to ``default=str`` as ``json`` sends them."""

_SPELLED_OTHERWISE = re.compile(r"(?:^|[:,\[])(?:null|-?(?:0\.0000|[0-9]+(?:\.[0-9]+)?e))")
"""A token ``json`` may spell differently: ``null`` (NaN, infinity) or a float in exponent form.

Every value in compact JSON follows ``:``, ``,`` or ``[`` (or starts the text), so no number token
is missed; text inside a string that looks like one only sends the value to the slow path."""


def _maybe_spelled_otherwise(text: str) -> bool:
    """A cheap filter before :data:`_SPELLED_OTHERWISE` (whose scan of a whole record is slow).

    ``orjson`` always signs an exponent (``1e+16``, ``1.5e-7``), so a text without ``+``, ``e-``,
    ``0.0000`` and ``null`` has no token spelled otherwise (a lone ``+`` is found much faster than
    ``e+``, and is rare in JSON text).
    """
    return "+" in text or "e-" in text or "0.0000" in text or "null" in text


_NON_ASCII = re.compile("[\x7f-\U0010ffff]")


def _escape(match: re.Match[str]) -> str:
    """One character as ``json``'s ``ensure_ascii`` writes it."""
    n = ord(match.group())
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}"


def stdlib_json(value: Any) -> str:
    """The reference spelling: ``json.dumps`` with sorted keys, compact, ``default=str``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON text, identical to :func:`stdlib_json` (see the module docstring)."""
    try:
        text = orjson.dumps(value, default=str, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return stdlib_json(value)
    if _maybe_spelled_otherwise(text) and _SPELLED_OTHERWISE.search(text):
        return stdlib_json(value)
    if text.isascii() and "\x7f" not in text:
        return text
    return _NON_ASCII.sub(_escape, text)
