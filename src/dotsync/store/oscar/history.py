"""History of an Oscar shop as SQL: one ``SELECT`` per source, chunked by the driving table's id.

The install copies history with ``INSERT … SELECT … ON CONFLICT`` (see
:class:`~dotsync.store.protocol.HistorySource`), so nothing passes through Python. Every
``SELECT`` produces exactly the sync table's columns, new rows get ``sync_status = 0`` (new) and
``created_at = updated_at = now``, and the SQL runs on SQLite and PostgreSQL.

Scope rules (the same as :mod:`dotsync.store.oscar.scope`; "default" is the lowest-id website and
its default store):

``email_contact``, three sources applied in this order; every email is stored ``LOWER()``-ed (the
same SQL on SQLite and PostgreSQL), so case variants of one address are one row per website, as on
the platform (``dotsync.install.emails`` merges what ``LOWER()`` leaves apart on SQLite: non-ASCII):
    1. **customers** (driving table: the user table): one row per user with a non-empty email, in
       the website/store of their last order's store (``dotsync_store.site_id = order.site_id``),
       else the default website and store. ``customer_id`` = user id. ``DO NOTHING`` on conflict.
    2. **guests** (driving table: orders): orders with no user and a non-empty ``guest_email``,
       one row per (guest_email, website), ``is_guest`` true, ``customer_id`` NULL; the store is
       the lowest store id among that guest's orders of the website in the chunk. On conflict
       (the email is also a customer, or appears in another chunk) only ``is_guest`` is set.
    3. **subscribers** (driving table: ``newsletter_subscriber``): per (email, website) one row
       is chosen among the website's stores: the newest subscribed row if any, else the newest
       row (within a chunk by a window function; across chunks by the conditional upsert). It
       carries ``is_subscriber`` (status 1), ``subscriber_status``, ``subscriber_sync_status``
       (new when subscribed, else imported, i.e. nothing to send) and ``last_subscribed_at``
       (``change_status_at`` when subscribed); on conflict those four columns are merged into
       the customer's or guest's row, unless that would replace a subscription with a
       non-subscription.
``email_order`` (driving table: orders): every order; store from ``Order.site`` (default store
    as fallback); email = the user's email, or ``guest_email`` for guests; ``quote_id`` =
    ``basket_id``; ``order_updated_at`` = latest ``OrderStatusChange``, else ``date_placed``.
``email_quote`` (driving table: baskets): baskets with at least one line and an owner (an
    anonymous basket has no email); store of the owner's last order, else default;
    ``item_count`` = number of lines; ``is_active`` = status Open, Saved or Frozen;
    ``quote_updated_at`` = latest ``basket.Line.date_updated``.
``email_wishlist`` (driving table: wishlists): every wishlist, empty ones included
    (``item_count`` 0); store of the owner's last order, else default.
``email_review`` (driving table: reviews): approved reviews only; store of the reviewer's last
    order, else default (anonymous reviews: default).
``email_catalog`` (driving table: products): every product; the catalogue has no scope.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from dotsync import models as sync
from dotsync.exceptions import ConfigurationError
from dotsync.models import NewsletterSubscriber, Store
from dotsync.models.newsletter import SubscriberStatus
from dotsync.store.oscar.models import oscar_models
from dotsync.store.oscar.scope import StoreMap
from dotsync.store.protocol import HISTORY_TABLES, HistorySource
from dotsync.store.sql import SelectBuilder, column, quote, table

ACTIVE_BASKET_STATUSES: tuple[str, ...] = ("Open", "Saved", "Frozen")
"""Basket statuses that make a quote active."""


class _Sql:
    """Quoted table and column names of the tables the history reads."""

    def __init__(self) -> None:
        m = oscar_models()
        self.m = m
        self.user = table(m.User)
        self.user_id = quote(m.User._meta.pk.column)
        self.user_email = quote(column(m.User, "email"))
        self.order = table(m.Order)
        self.order_id = quote(m.Order._meta.pk.column)
        self.store = table(Store)
        self.subscriber = table(NewsletterSubscriber)

    def o(self, field: str) -> str:
        """A quoted column of the order table."""
        return quote(column(self.m.Order, field))

    def bounds(self, model: Any) -> str:
        """``SELECT MIN(id), MAX(id)`` over a model's table."""
        pk = quote(model._meta.pk.column)
        return f"SELECT MIN({pk}), MAX({pk}) FROM {table(model)}"

    def last_order_store(self, owner_expr: str, owners_sql: str) -> str:
        """Joins ``o`` (the owner's last order) and ``st`` (its store).

        The last order ids come from one grouped scan of the chunk's owners' orders (``owners_sql``
        selects those owner ids), not from a correlated ``MAX`` per row: PostgreSQL may plan a
        correlated ``MAX(id) … WHERE user_id = x`` as a backward scan of the primary key, which
        is quadratic; a grouped aggregate is never rewritten that way.
        """
        o, oid, user_id, site = self.order, self.order_id, self.o("user"), self.o("site")
        return (
            f"LEFT JOIN (SELECT o2.{user_id} AS uid, MAX(o2.{oid}) AS last_id FROM {o} o2 "
            f"WHERE o2.{user_id} IN ({owners_sql}) GROUP BY o2.{user_id}) lastord "
            f"ON lastord.uid = {owner_expr} "
            f"LEFT JOIN {o} o ON o.{oid} = lastord.last_id "
            f"LEFT JOIN {self.store} st ON st.{quote('site_id')} = o.{site}"
        )


def _owners(model: Any, owner_field: str) -> str:
    """``SELECT`` of the owner ids of a chunk of ``model`` rows (for :meth:`_Sql.last_order_store`)."""
    pk, owner = quote(model._meta.pk.column), quote(column(model, owner_field))
    return f"SELECT x.{owner} FROM {table(model)} x WHERE x.{pk} >= %(lo)s AND x.{pk} < %(hi)s"


def _defaults(b: SelectBuilder, stores: StoreMap) -> tuple[str, str]:
    if stores.default_website_id is None or stores.default_store_id is None:
        raise ConfigurationError(
            [
                "No dotsync website with a store exists, so history has no default scope. "
                "Create websites and stores in the admin (or run `dotsync demo`) before installing."
            ]
        )
    website = b.param("default_website", stores.default_website_id, "website_id")
    store = b.param("default_store", stores.default_store_id, "store_id")
    return f"COALESCE(st.{quote('website_id')}, {website})", f"COALESCE(st.{quote('id')}, {store})"


def _common(b: SelectBuilder) -> dict[str, str]:
    now = b.param("now", timezone.now(), "created_at")
    return {
        "sync_status": b.param("new", sync.SyncStatus.NEW, "sync_status"),
        "created_at": now,
        "updated_at": now,
    }


def _customers(s: _Sql, stores: StoreMap) -> HistorySource:
    b = SelectBuilder(sync.Contact)
    website, store = _defaults(b, stores)
    o_user, oid = s.o("user"), s.order_id
    from_where = (
        f"FROM {s.user} u "
        f"LEFT JOIN (SELECT {o_user} AS uid, MAX({oid}) AS last_id FROM {s.order} "
        f"WHERE {o_user} >= %(lo)s AND {o_user} < %(hi)s GROUP BY {o_user}) lastord "
        f"ON lastord.uid = u.{s.user_id} "
        f"LEFT JOIN {s.order} o ON o.{oid} = lastord.last_id "
        f"LEFT JOIN {s.store} st ON st.{quote('site_id')} = o.{s.o('site')} "
        f"WHERE u.{s.user_id} >= %(lo)s AND u.{s.user_id} < %(hi)s "
        f"AND u.{s.user_email} IS NOT NULL AND u.{s.user_email} <> ''"
    )
    exprs = {
        "website_id": website,
        "store_id": store,
        "email": f"LOWER(u.{s.user_email})",
        "customer_id": f"u.{s.user_id}",
        "is_guest": b.param("false", False, "is_guest"),
        **_common(b),
    }
    return b.source(
        name="customers",
        exprs=exprs,
        from_where=from_where,
        id_bounds_sql=s.bounds(s.m.User),
        conflict_columns=("email", "website_id"),
    )


def _guests(s: _Sql, stores: StoreMap) -> HistorySource:
    b = SelectBuilder(sync.Contact)
    website, store = _defaults(b, stores)
    guest_email, oid = s.o("guest_email"), s.order_id
    inner = (
        f"SELECT LOWER(o.{guest_email}) AS email, {website} AS website_id, {store} AS store_id "
        f"FROM {s.order} o LEFT JOIN {s.store} st ON st.{quote('site_id')} = o.{s.o('site')} "
        f"WHERE o.{oid} >= %(lo)s AND o.{oid} < %(hi)s AND o.{s.o('user')} IS NULL "
        f"AND o.{guest_email} IS NOT NULL AND o.{guest_email} <> ''"
    )
    exprs = {
        "website_id": "g.website_id",
        "store_id": "MIN(g.store_id)",
        "email": "g.email",
        "is_guest": b.param("true", True, "is_guest"),
        **_common(b),
    }
    return b.source(
        name="guests",
        exprs=exprs,
        from_where=f"FROM ({inner}) g WHERE 1 = 1 GROUP BY g.email, g.website_id",
        id_bounds_sql=s.bounds(s.m.Order),
        conflict_columns=("email", "website_id"),
        update_columns=("is_guest",),
    )


def _subscribers(s: _Sql) -> HistorySource:
    b = SelectBuilder(sync.Contact)
    subscribed = int(SubscriberStatus.SUBSCRIBED)
    sid, status = quote("subscriber_id"), quote("subscriber_status")
    store_id, website_id = quote("store_id"), quote("website_id")
    # one row per (email, website) within the chunk: subscribed first, then the newest; a window
    # function keeps it a sort, with no correlated lookup for the planner to get wrong
    inner = (
        f"SELECT s.{sid} AS sid, s.{store_id} AS store_id, LOWER(s.{quote('subscriber_email')}) AS email, "
        f"s.{quote('customer_id')} AS customer_id, s.{status} AS status, "
        f"s.{quote('change_status_at')} AS changed, st.{website_id} AS website_id, "
        f"ROW_NUMBER() OVER (PARTITION BY LOWER(s.{quote('subscriber_email')}), st.{website_id} "
        f"ORDER BY CASE WHEN s.{status} = {subscribed} THEN 1 ELSE 0 END DESC, s.{sid} DESC) AS rn "
        f"FROM {s.subscriber} s JOIN {s.store} st ON st.{quote('id')} = s.{store_id} "
        f"WHERE s.{sid} >= %(lo)s AND s.{sid} < %(hi)s"
    )
    is_sub = f"x.status = {subscribed}"
    true, false = b.param("true", True, "is_subscriber"), b.param("false", False, "is_subscriber")
    exprs = {
        "website_id": "x.website_id",
        "store_id": "x.store_id",
        "email": "x.email",
        "customer_id": "x.customer_id",
        "is_guest": b.param("false", False, "is_guest"),
        "is_subscriber": f"CASE WHEN {is_sub} THEN {true} ELSE {false} END",
        "subscriber_status": "x.status",
        "subscriber_sync_status": (
            f"CASE WHEN {is_sub} THEN {b.param('sub_new', sync.SyncStatus.NEW, 'subscriber_sync_status')} "
            f"ELSE {b.param('sub_done', sync.SyncStatus.IMPORTED, 'subscriber_sync_status')} END"
        ),
        "last_subscribed_at": f"CASE WHEN {is_sub} THEN x.changed END",
        **_common(b),
    }
    target = quote(sync.Contact._meta.db_table)
    subscriber = quote("is_subscriber")
    return b.source(
        name="subscribers",
        exprs=exprs,
        from_where=f"FROM ({inner}) x WHERE x.rn = 1",
        id_bounds_sql=f"SELECT MIN({sid}), MAX({sid}) FROM {s.subscriber}",
        conflict_columns=("email", "website_id"),
        update_columns=("is_subscriber", "subscriber_status", "subscriber_sync_status", "last_subscribed_at"),
        # across chunks (ascending ids) a later row wins unless it would replace a subscription
        # with a non-subscription: the same rule as within a chunk
        update_where=f"{target}.{subscriber} = {false} OR excluded.{subscriber} = {true}",
    )


def _orders(s: _Sql, stores: StoreMap) -> HistorySource:
    b = SelectBuilder(sync.Order)
    website, store = _defaults(b, stores)
    oid, osc = s.order_id, s.m.OrderStatusChange
    sc_order, sc_date = quote(column(osc, "order")), quote(column(osc, "date_created"))
    from_where = (
        f"FROM {s.order} o "
        f"LEFT JOIN {s.store} st ON st.{quote('site_id')} = o.{s.o('site')} "
        f"LEFT JOIN {s.user} u ON u.{s.user_id} = o.{s.o('user')} "
        f"LEFT JOIN (SELECT {sc_order} AS oid, MAX({sc_date}) AS changed FROM {table(osc)} "
        f"WHERE {sc_order} >= %(lo)s AND {sc_order} < %(hi)s GROUP BY {sc_order}) sc ON sc.oid = o.{oid} "
        f"WHERE o.{oid} >= %(lo)s AND o.{oid} < %(hi)s"
    )
    exprs = {
        "website_id": website,
        "store_id": store,
        "order_id": f"o.{oid}",
        "order_number": f"o.{s.o('number')}",
        "order_status": f"o.{s.o('status')}",
        "quote_id": f"o.{s.o('basket')}",
        "customer_id": f"o.{s.o('user')}",
        "email": (
            f"COALESCE(CASE WHEN o.{s.o('user')} IS NULL THEN o.{s.o('guest_email')} "
            f"ELSE u.{s.user_email} END, '')"
        ),
        "order_updated_at": f"COALESCE(sc.changed, o.{s.o('date_placed')})",
        **_common(b),
    }
    return b.source(
        name="orders",
        exprs=exprs,
        from_where=from_where,
        id_bounds_sql=s.bounds(s.m.Order),
        conflict_columns=("order_id",),
    )


def _quotes(s: _Sql, stores: StoreMap) -> HistorySource:
    b = SelectBuilder(sync.Quote)
    website, store = _defaults(b, stores)
    m = s.m
    bid, owner, status = quote(m.Basket._meta.pk.column), quote(column(m.Basket, "owner")), quote("status")
    line_basket, line_updated = (
        quote(column(m.BasketLine, "basket")),
        quote(column(m.BasketLine, "date_updated")),
    )
    active = ", ".join(b.raw(f"active_{i}", value) for i, value in enumerate(ACTIVE_BASKET_STATUSES))
    from_where = (
        f"FROM {table(m.Basket)} b "
        f"JOIN {s.user} u ON u.{s.user_id} = b.{owner} "
        f"JOIN (SELECT {line_basket} AS bid, COUNT(*) AS n, MAX({line_updated}) AS changed "
        f"FROM {table(m.BasketLine)} WHERE {line_basket} >= %(lo)s AND {line_basket} < %(hi)s "
        f"GROUP BY {line_basket}) l ON l.bid = b.{bid} "
        f"{s.last_order_store(f'b.{owner}', _owners(m.Basket, 'owner'))} "
        f"WHERE b.{bid} >= %(lo)s AND b.{bid} < %(hi)s"
    )
    exprs = {
        "website_id": website,
        "store_id": store,
        "quote_id": f"b.{bid}",
        "customer_id": f"b.{owner}",
        "email": f"COALESCE(u.{s.user_email}, '')",
        "item_count": "l.n",
        "is_active": (
            f"CASE WHEN b.{status} IN ({active}) THEN {b.param('true', True, 'is_active')} "
            f"ELSE {b.param('false', False, 'is_active')} END"
        ),
        "quote_updated_at": "l.changed",
        **_common(b),
    }
    return b.source(
        name="quotes",
        exprs=exprs,
        from_where=from_where,
        id_bounds_sql=s.bounds(m.Basket),
        conflict_columns=("quote_id",),
    )


def _wishlists(s: _Sql, stores: StoreMap) -> HistorySource:
    b = SelectBuilder(sync.Wishlist)
    website, store = _defaults(b, stores)
    m = s.m
    wid, owner = quote(m.WishList._meta.pk.column), quote(column(m.WishList, "owner"))
    line_wishlist = quote(column(m.WishListLine, "wishlist"))
    from_where = (
        f"FROM {table(m.WishList)} w "
        f"LEFT JOIN (SELECT {line_wishlist} AS wid, COUNT(*) AS n FROM {table(m.WishListLine)} "
        f"WHERE {line_wishlist} >= %(lo)s AND {line_wishlist} < %(hi)s GROUP BY {line_wishlist}) l "
        f"ON l.wid = w.{wid} "
        f"{s.last_order_store(f'w.{owner}', _owners(m.WishList, 'owner'))} "
        f"WHERE w.{wid} >= %(lo)s AND w.{wid} < %(hi)s"
    )
    exprs = {
        "website_id": website,
        "store_id": store,
        "wishlist_id": f"w.{wid}",
        "customer_id": f"w.{owner}",
        "item_count": "COALESCE(l.n, 0)",
        **_common(b),
    }
    return b.source(
        name="wishlists",
        exprs=exprs,
        from_where=from_where,
        id_bounds_sql=s.bounds(m.WishList),
        conflict_columns=("wishlist_id",),
    )


def _reviews(s: _Sql, stores: StoreMap) -> HistorySource:
    b = SelectBuilder(sync.Review)
    website, store = _defaults(b, stores)
    m = s.m
    rid, user = quote(m.ProductReview._meta.pk.column), quote(column(m.ProductReview, "user"))
    approved = b.raw("approved", m.ProductReview.APPROVED)
    from_where = (
        f"FROM {table(m.ProductReview)} r "
        f"{s.last_order_store(f'r.{user}', _owners(m.ProductReview, 'user'))} "
        f"WHERE r.{rid} >= %(lo)s AND r.{rid} < %(hi)s AND r.{quote('status')} = {approved}"
    )
    exprs = {"website_id": website, "store_id": store, "review_id": f"r.{rid}", "customer_id": f"r.{user}"}
    return b.source(
        name="reviews",
        exprs={**exprs, **_common(b)},
        from_where=from_where,
        id_bounds_sql=s.bounds(m.ProductReview),
        conflict_columns=("review_id",),
    )


def _catalog(s: _Sql) -> HistorySource:
    b = SelectBuilder(sync.Catalog)
    pid = quote(s.m.Product._meta.pk.column)
    return b.source(
        name="products",
        exprs={"product_id": f"p.{pid}", **_common(b)},
        from_where=f"FROM {table(s.m.Product)} p WHERE p.{pid} >= %(lo)s AND p.{pid} < %(hi)s",
        id_bounds_sql=s.bounds(s.m.Product),
        conflict_columns=("product_id",),
    )


def history_sources(target: str) -> tuple[HistorySource, ...]:
    """The sources for one sync table, in the order to apply them.

    Raises:
        ValueError: for a table not in :data:`~dotsync.store.protocol.HISTORY_TABLES`.
        ConfigurationError: when no website with a store exists (scoped tables need a default).
    """
    if target not in HISTORY_TABLES:
        raise ValueError(f"No history for {target!r}; expected one of {', '.join(HISTORY_TABLES)}.")
    s = _Sql()
    if target == "email_catalog":
        return (_catalog(s),)
    if target == "email_contact":
        stores = StoreMap.load()
        return (_customers(s, stores), _guests(s, stores), _subscribers(s))
    builders = {
        "email_order": _orders,
        "email_quote": _quotes,
        "email_wishlist": _wishlists,
        "email_review": _reviews,
    }
    return (builders[target](s, StoreMap.load()),)
