"""The per-record fast paths say exactly what the slow ones say.

The fast canonical JSON is the standard library's text, byte for byte, so hashes never change: a
record's hash (``payload_hash``) is SHA-256 of its canonical JSON, and rows imported before the
``orjson`` encoder keep their hash only if the text is identical. The record check's fast path
(``insight._fine``) never lets through a record ``insight.problem`` would quarantine. Both are
compared with the reference over any JSON-like value a payload can hold.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dotsync.jobs.payloads import encoding, insight
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
names = st.one_of(st.sampled_from(["a", "a-b", "a_b", "B_1", "x" * 129, "ok"]), st.text(max_size=6))
numbers = st.one_of(
    st.integers(-(10**16), 10**16),
    st.floats(),
    st.sampled_from([1e15, -1e15, 999999999999999.9, 10**15, -(10**15) + 1, True]),
)
bodies = st.recursive(
    st.one_of(st.none(), st.text(max_size=5), numbers, st.decimals(allow_nan=True)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=5)),
    max_leaves=20,
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


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_the_fast_record_check_passes_only_what_the_full_check_passes(body: Any) -> None:
    record = {"key": "k1", "json": body}
    assert insight.record_problem(record) == insight.problem(body)
    if insight._fine(body):
        assert insight.problem(body) is None


def test_the_fast_record_check_takes_an_order_record_and_refuses_each_kind_of_problem() -> None:
    fine = {"a": "x", "n": 12.5, "q": 2, "lines": [{"b-c": "y", "t": True}], "none": None}
    assert insight._fine(fine) and insight.record_problem({"key": "1", "json": fine}) is None
    for bad in (
        {"a b": 1},
        {"a-b": 1, "a_b": 2},
        {"x" * 129: 1},
        {"l": [[1]]},
        {"n": 1e15},
        {"n": -(10**15)},
    ):
        assert not insight._fine(bad)
        assert insight.record_problem({"key": "1", "json": bad}) == insight.problem(bad) is not None
