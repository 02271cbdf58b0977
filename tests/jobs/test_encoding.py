"""The fast canonical JSON is the standard library's text, byte for byte, so hashes never change.

A record's hash (``payload_hash``) is SHA-256 of its canonical JSON; rows imported before the
``orjson`` encoder keep their hash only if the text is identical. These compare the two encoders
over any JSON-like value a payload can hold, and over every record kind built from store records.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dotsync.jobs.payloads import encoding
from dotsync.jobs.queue import canonical_json, payload_hash

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too
    st.floats(),  # NaN, infinities, subnormals, exponents
    st.floats(min_value=-1e15, max_value=1e15).map(lambda f: round(f, 2)),  # money
    st.text(),  # any code point: controls, DEL, U+2028, astral, lone surrogates
    st.text(alphabet=st.characters(max_codepoint=0x7F)),
    st.decimals(allow_nan=False),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_fast_encoder_writes_exactly_what_json_dumps_writes(value: Any) -> None:
    assert canonical_json(value) == encoding.stdlib_json(value)


def test_values_json_spells_otherwise_take_the_slow_path_and_stay_identical() -> None:
    for value in (
        {"a": 1e-05, "b": 2.5e-7, "c": 1e16, "d": [float("nan"), float("inf")]},
        {"s": 'é\u2028😀\x7f\x00\x1f"\\/', "k": None},
        {1: "int key"},
        {"big": 2**70},
        {"d": Decimal("12.30"), "t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "day": date(2026, 1, 2)},
        "a@example.com",
        0.00001,
    ):
        assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def test_a_hash_is_the_one_recorded_before_the_fast_encoder() -> None:
    """A known hash, computed with ``json.dumps`` before ``orjson`` was used: it must never move."""
    record = {"key": "100001", "json": {"name": "Café ☕", "price": 12.5, "qty": 2, "tags": ["a", "b"]}}
    assert payload_hash(record) == "48fde4eb55469b1ca4d063acce7e4135580082fbd04119bf273c1892094de152"
