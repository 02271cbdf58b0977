"""A reusable contract-test suite for store adapters (in the spirit of ``singer_sdk.testing``).

Any adapter gets the standard tests by subclassing :class:`StoreAdapterContract` and supplying two
things: how to build the adapter, and a small test shop together with what the contract should
read from it (:class:`ContractShop`)::

    from dotsync.testing.contract import ContractShop, StoreAdapterContract

    class TestMyShopContract(StoreAdapterContract):
        def make_adapter(self):
            return MyShopAdapter()

        def build_shop(self, scope) -> ContractShop:
            ...  # create a few customers, orders, ... in your shop; state the expectations

The suite checks protocol conformance; entity reads by id (canonical record types, ids and
emails; missing ids absent; a bounded number of queries whatever the batch size); history sources
(run in narrow id chunks, they select every entity exactly once into each sync table with the
expected scope and flags, and re-running changes nothing); guests per website; and the
``unsubscribe`` write-back, including ``unless_changed_after``.

The tests need pytest-django's ``db`` fixture and dotsync's tables; the websites and stores come
from :func:`dotsync.testing.scope.make_scope`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dotsync import models as sync
from dotsync.models.newsletter import SubscriberStatus
from dotsync.store import newsletter, records
from dotsync.store.protocol import ENTITIES, HISTORY_TABLES, StoreAdapter
from dotsync.testing.scope import Scope, make_scope

RECORD_TYPES: dict[str, type] = {
    "customers": records.Customer,
    "subscribers": records.Subscriber,
    "orders": records.Order,
    "quotes": records.Quote,
    "wishlists": records.Wishlist,
    "reviews": records.Review,
    "products": records.Product,
}
"""The canonical record type each batch read yields."""

HISTORY_KEYS: dict[str, tuple[str, ...]] = {
    "email_contact": ("email", "website_id"),
    "email_order": ("order_id",),
    "email_quote": ("quote_id",),
    "email_wishlist": ("wishlist_id",),
    "email_review": ("review_id",),
    "email_catalog": ("product_id",),
}
"""The natural key of each history table, as :attr:`ContractShop.history` keys its rows."""

SYNC_MODELS: dict[str, type[Model]] = {
    "email_contact": sync.Contact,
    "email_order": sync.Order,
    "email_quote": sync.Quote,
    "email_wishlist": sync.Wishlist,
    "email_review": sync.Review,
    "email_catalog": sync.Catalog,
}


@dataclass(frozen=True)
class ContractShop:
    """A test shop and what the contract expects to read from it.

    Every mapping lists *all* entities of its kind in the shop (streaming and history are checked
    for completeness against them). Emails are ``""`` where an entity has none.

    Attributes:
        customers: customer id -> email.
        subscribers: subscriber id -> email; at least one must be subscribed (status 1).
        orders: order id -> email (account email, or the guest's checkout email).
        quotes: basket id -> owner email.
        wishlists: wishlist id -> owner email.
        reviews: review id -> reviewer email.
        products: product id -> name.
        history: sync table -> natural key (see :data:`HISTORY_KEYS`; a 1-tuple key is given as
            the bare value) -> expected column values. Rows not listed must not appear.
        guests: website id -> {guest email: store id} for :meth:`StoreAdapter.guests`.
        sites: site id -> store id (None when no store is bound).
        website_stores: website id -> its store ids.
    """

    customers: Mapping[int, str]
    subscribers: Mapping[int, str]
    orders: Mapping[int, str]
    quotes: Mapping[int, str]
    wishlists: Mapping[int, str]
    reviews: Mapping[int, str]
    products: Mapping[int, str]
    history: Mapping[str, Mapping[Hashable, Mapping[str, Any]]]
    guests: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    sites: Mapping[int, int | None] = field(default_factory=dict)
    website_stores: Mapping[int, Sequence[int]] = field(default_factory=dict)

    def entity(self, kind: str) -> Mapping[int, str]:
        """The id -> email (or name) mapping of an entity kind."""
        return dict(getattr(self, kind))


def apply_history(adapter: StoreAdapter, table: str, *, chunk: int = 1000) -> int:
    """Run every history source of ``table`` in id chunks of width ``chunk``; returns rows written.

    This is the simplest correct driver of :class:`~dotsync.store.protocol.HistorySource` (the
    install job adds progress and resume on top).
    """
    written = 0
    with connection.cursor() as cursor:
        for source in adapter.history(table):
            cursor.execute(source.id_bounds_sql)
            lo, hi = cursor.fetchone()
            if lo is None:
                continue
            sql = source.insert_sql()
            for start in range(int(lo), int(hi) + 1, chunk):
                cursor.execute(sql, source.bind(start, start + chunk))
                written += max(cursor.rowcount, 0)
    return written


def history_rows(table: str, columns: Iterable[str]) -> dict[Hashable, dict[str, Any]]:
    """The rows of a sync table keyed like :attr:`ContractShop.history`, with ``columns``."""
    key = HISTORY_KEYS[table]
    wanted = list(dict.fromkeys([*key, *columns]))
    rows: dict[Hashable, dict[str, Any]] = {}
    for row in SYNC_MODELS[table]._default_manager.values(*wanted):
        k = row[key[0]] if len(key) == 1 else tuple(row[c] for c in key)
        assert k not in rows, f"{table}: {k!r} selected twice"
        rows[k] = {c: row[c] for c in columns}
    return rows


class StoreAdapterContract:
    """The standard tests every store adapter must pass. Subclass it as ``Test<Name>Contract``."""

    history_chunks: tuple[int, ...] = (1, 3, 1_000_000)
    """History id-chunk widths: 1 puts every source row in its own statement."""

    # --- what an adapter's test module provides --------------------------------------------------------
    def make_adapter(self) -> StoreAdapter:
        """Build the adapter under test."""
        raise NotImplementedError("Override make_adapter() to return the store adapter under test.")

    def build_shop(self, scope: Scope) -> ContractShop:
        """Create the test shop in ``scope``'s stores and describe what the adapter must read."""
        raise NotImplementedError("Override build_shop(scope) to build a test shop and its expectations.")

    # --- fixtures ----------------------------------------------------------------------------------------
    @pytest.fixture
    def contract_scope(self, db: None) -> Scope:
        """Two websites and three stores."""
        return make_scope()

    @pytest.fixture
    def adapter(self, db: None) -> StoreAdapter:
        """The adapter under test."""
        return self.make_adapter()

    @pytest.fixture
    def expected(self, contract_scope: Scope) -> ContractShop:
        """The test shop's expectations."""
        return self.build_shop(contract_scope)

    # --- protocol ----------------------------------------------------------------------------------------
    def test_conforms_to_the_protocol(self, adapter: StoreAdapter) -> None:
        """The adapter implements every method of :class:`StoreAdapter` and has a name."""
        assert isinstance(adapter, StoreAdapter)
        assert isinstance(adapter.name, str) and adapter.name

    # --- entity reads -------------------------------------------------------------------------------------
    @pytest.mark.parametrize("entity", ENTITIES)
    def test_reads_entities_by_id(self, adapter: StoreAdapter, expected: ContractShop, entity: str) -> None:
        """Every id reads back as the canonical record, with its email (or name)."""
        want = expected.entity(entity)
        assert want, f"the contract shop has no {entity}"
        got = list(getattr(adapter, entity)(list(want)))
        assert all(isinstance(r, RECORD_TYPES[entity]) for r in got)
        assert sorted(r.id for r in got) == sorted(want)
        attr = "name" if entity == "products" else "email"
        assert {r.id: getattr(r, attr) for r in got} == want

    @pytest.mark.parametrize("entity", ENTITIES)
    def test_missing_ids_are_absent(self, adapter: StoreAdapter, expected: ContractShop, entity: str) -> None:
        """Unknown ids are skipped silently; an empty batch reads nothing."""
        want = expected.entity(entity)
        missing = max(want) + 10_000
        got = list(getattr(adapter, entity)([missing, min(want), missing + 1]))
        assert [r.id for r in got] == [min(want)]
        assert list(getattr(adapter, entity)([])) == []

    @pytest.mark.parametrize("entity", ENTITIES)
    def test_batch_reads_run_a_bounded_number_of_queries(
        self, adapter: StoreAdapter, expected: ContractShop, entity: str
    ) -> None:
        """Reading every id costs about what the costliest single id does (no query per row).

        One query of slack covers a prefetch that only some rows need (say, parent products).
        """
        ids = sorted(expected.entity(entity))
        assert len(ids) >= 3, f"the contract shop needs at least 3 {entity} to detect a query per row"
        read = getattr(adapter, entity)
        singles = []
        for one_id in ids:
            with CaptureQueriesContext(connection) as one:
                list(read([one_id]))
            singles.append(len(one.captured_queries))
        with CaptureQueriesContext(connection) as every:
            list(read(ids))
        assert len(every.captured_queries) <= max(singles) + 1, (
            f"{entity}: up to {max(singles)} queries for 1 id, {len(every.captured_queries)} for {len(ids)}"
        )

    # --- history ------------------------------------------------------------------------------------------
    @pytest.mark.parametrize("table", HISTORY_TABLES)
    def test_history_selects_every_entity_once_with_its_scope(
        self, adapter: StoreAdapter, expected: ContractShop, table: str
    ) -> None:
        """In any chunking, history fills the sync table with exactly the expected rows."""
        want = expected.history[table]
        columns = sorted({c for row in want.values() for c in row})
        for chunk in self.history_chunks:
            SYNC_MODELS[table]._default_manager.all().delete()
            apply_history(adapter, table, chunk=chunk)
            got = history_rows(table, columns)
            assert set(got) == set(want), f"{table} (chunk {chunk}): keys differ"
            mismatched = {
                k: (got[k], dict(v)) for k, v in want.items() if {c: got[k][c] for c in v} != dict(v)
            }
            assert not mismatched, f"{table} (chunk {chunk}): got vs expected {mismatched}"
            new = SYNC_MODELS[table]._default_manager.exclude(sync_status=sync.SyncStatus.NEW)
            assert not new.exists(), f"{table}: history rows must be new (sync_status 0)"

    def test_history_is_idempotent(self, adapter: StoreAdapter, expected: ContractShop) -> None:
        """Running every source twice leaves the same rows."""
        counts = []
        for _ in range(2):
            for table in HISTORY_TABLES:
                apply_history(adapter, table, chunk=2)
            counts.append({t: SYNC_MODELS[t]._default_manager.count() for t in HISTORY_TABLES})
        assert counts[0] == counts[1]

    def test_history_rejects_unknown_tables(self, adapter: StoreAdapter) -> None:
        """Asking for a table with no history is an error, not an empty answer."""
        with pytest.raises(ValueError):
            adapter.history("email_nothing")

    # --- guests and scope ---------------------------------------------------------------------------------
    def test_guests_per_website(self, adapter: StoreAdapter, expected: ContractShop) -> None:
        """Guests are found by email within a website's stores, with their store."""
        everyone = sorted(
            {e for guests in expected.guests.values() for e in guests} | {"nobody@example.invalid"}
        )
        for website_id, stores in expected.website_stores.items():
            got = {g.email: (g.website_id, g.store_id) for g in adapter.guests(everyone, stores)}
            want = {e: (website_id, s) for e, s in expected.guests.get(website_id, {}).items()}
            assert got == want

    # --- write-back ---------------------------------------------------------------------------------------
    def test_unsubscribe_respects_unless_changed_after(
        self, adapter: StoreAdapter, expected: ContractShop
    ) -> None:
        """A subscription changed after ``unless_changed_after`` is kept; an older one is unsubscribed."""
        subs = [
            s
            for s in newsletter.read_subscribers(list(expected.subscribers))
            if s.status == SubscriberStatus.SUBSCRIBED
        ]
        assert subs, "the contract shop needs a subscribed subscriber"
        sub = subs[0]
        changed = sub.change_status_at or timezone.now()
        at = timezone.now() + timedelta(minutes=1)

        kept = adapter.unsubscribe(
            [sub.email], [sub.store_id], at, unless_changed_after=changed - timedelta(seconds=1)
        )
        assert kept == {sub.email: False}
        assert next(iter(newsletter.read_subscribers([sub.id]))).status == SubscriberStatus.SUBSCRIBED

        done = adapter.unsubscribe(
            [sub.email, "nobody@example.invalid"],
            [sub.store_id],
            at,
            unless_changed_after=changed + timedelta(seconds=1),
        )
        assert done == {sub.email: True}
        after = next(iter(newsletter.read_subscribers([sub.id])))
        assert after.status == SubscriberStatus.UNSUBSCRIBED
        assert after.change_status_at == at

        again = adapter.unsubscribe([sub.email], [sub.store_id], at, unless_changed_after=at)
        assert again == {sub.email: False}
