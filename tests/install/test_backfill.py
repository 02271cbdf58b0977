"""The install backfill on a real Oscar shop: matches the store, idempotent, resumable, rebuildable."""

from __future__ import annotations

import pytest

from dotsync.install import backfill, migrate_data
from dotsync.models import InstallProgress, Order, SyncStatus
from dotsync.store.protocol import HISTORY_TABLES

from .expected import actual_rows, expected_rows, snapshot


class Stop(Exception):
    pass


def test_every_sync_table_matches_the_stores_entities_per_website_and_store(shop):
    results = backfill()
    assert {r.table for r in results} == set(HISTORY_TABLES)
    expected, actual = expected_rows(), actual_rows()
    for table in HISTORY_TABLES:
        assert actual[table] == expected[table], table
    assert all(r.rows > 0 for r in results if r.source != "subscribers")
    # a few facts about the shop, spelled out
    contacts = actual["email_contact"]
    s = shop.scope
    assert contacts[("guest@example.com", s.main.pk)][2] and contacts[("guest@example.com", s.outlet.pk)][2]
    assert contacts[("erin@example.com", s.main.pk)][3] is True
    assert ("carol@example.com", s.main.pk) in contacts
    assert set(actual["email_review"]) == {r.pk for k, r in shop.reviews.items() if k != "carol_pending"}


def test_rows_start_new_and_progress_is_recorded(shop):
    backfill()
    assert set(Order.objects.values_list("sync_status", flat=True)) == {SyncStatus.NEW}
    pointers = {p.table: p for p in InstallProgress.objects.all()}
    assert "email_contact:guests" in pointers and all(p.done for p in pointers.values())
    assert pointers["email_order:orders"].rows == len(shop.orders)


def test_install_twice_changes_nothing(shop):
    backfill()
    before = snapshot()
    second = backfill()
    assert sum(r.rows for r in second) == 0 and sum(r.chunks for r in second) == 0
    assert snapshot() == before


def test_install_resumes_after_an_interruption_with_the_same_rows(shop):
    backfill(chunk_size=2)
    uninterrupted = snapshot()
    migrate_data(HISTORY_TABLES, chunk_size=2)  # empty everything, refill: same rows
    assert snapshot() == uninterrupted
    from dotsync.install import reset

    reset(HISTORY_TABLES)
    seen = []

    def crash_after_five(source, lo, hi, written):
        seen.append((source.table, lo))
        if len(seen) == 5:
            raise Stop

    with pytest.raises(Stop):
        backfill(chunk_size=2, on_chunk=crash_after_five)
    assert snapshot() != uninterrupted  # the run really stopped half-way
    resumed = backfill(chunk_size=2)
    assert resumed[0].resumed_from > 0
    assert snapshot() == uninterrupted


def test_migrate_data_rebuilds_one_table_and_leaves_the_others(shop):
    backfill()
    Order.objects.update(sync_status=SyncStatus.IMPORTED)
    from dotsync.models import Catalog

    Catalog.objects.update(sync_status=SyncStatus.IMPORTED)
    deleted, results = migrate_data(["email_order"])
    assert deleted == {"email_order": len(shop.orders)}
    assert [r.table for r in results] == ["email_order"]
    assert set(Order.objects.values_list("sync_status", flat=True)) == {SyncStatus.NEW}
    assert Order.objects.count() == len(shop.orders)
    assert set(Catalog.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}


def test_unknown_table_is_refused_with_the_valid_names(db):
    with pytest.raises(ValueError, match="email_order"):
        migrate_data(["email_nope"])


def test_on_the_demo_shop_every_sync_table_matches_the_store(db):
    from dotsync.demo.seed import seed_shop
    from dotsync.store.oscar.observers import muted

    with muted():
        seed_shop(11, 60, 180)
    backfill()
    expected, actual = expected_rows(), actual_rows()
    for table in HISTORY_TABLES:
        assert actual[table] == expected[table], table
    assert len(actual["email_order"]) == 180
    websites = {key[1] for key in actual["email_contact"]}
    assert len(websites) == 2  # both websites have contacts
