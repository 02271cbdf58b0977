"""bench/raw_floor.py formats values as dotsync's payload builders do (the equivalence check's premise).

The raw floor must not import dotsync, so it has its own copies of the few formatting rules; these
tests hold them to dotsync's own functions on the values where the rules bite. No database.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dotsync.jobs.payloads import contact_csv, datafields, values

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import raw_floor

CELLS = [
    ["a@example.com", "Html", "plain", "with,comma", 'with "quote"', "'=SUM(A1)", "", "line\nbreak"],
    [""],
    ["-50.00", "+44 20", "@home"],
]


@pytest.mark.parametrize("cells", CELLS)
def test_csv_line_is_dotsyncs(cells: list[str]) -> None:
    assert raw_floor.csv_line(cells) == contact_csv.line(cells)


@pytest.mark.parametrize(
    ("key", "value", "iso"),
    [
        ("customer_id", 920, None),
        ("total_spend", Decimal("250.00"), None),
        ("number_of_orders", 0, None),
        ("firstname", "=cmd", None),
        ("firstname", "Ann\x07e", None),
        ("lastname", "x" * 1200, None),
        ("last_order_date", datetime(2026, 11, 30, 17, 29, 32, 395222, tzinfo=UTC), "2026-11-30T17:29:32Z"),
        ("store_name", "", None),
        ("last_quote_id", None, None),
    ],
)
def test_cell_is_format_value(key: str, value: object, iso: str | None) -> None:
    # the raw floor gets money as text already rounded by SQL/Decimal, and dates as ISO text from SQL
    raw = iso if iso is not None else values.money_text(value) if isinstance(value, Decimal) else value
    assert raw_floor.cell(key, raw, dates=raw_floor._DATES) == datafields.format_value(key, value)


@pytest.mark.parametrize(
    "email", ["a@example.com", "=a@example.com", "a..b@example.com", "no-at", "", "a@b", "x\x01@example.com"]
)
def test_bad_email_is_email_problem(email: str) -> None:
    assert raw_floor.bad_email(email) == (contact_csv.email_problem(email) is not None)


@pytest.mark.parametrize("amount", [Decimal("12.345"), Decimal("-0.005"), 25, 12.5, None, Decimal("1E+3")])
def test_money_is_dotsyncs(amount: Decimal | float | None) -> None:
    assert raw_floor.money(amount) == values.money(amount)
