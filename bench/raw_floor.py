"""The raw floor of a first sync: the same records and text, read with plain SQL, no Django, no dotsync.

:func:`run` walks the same sync-table rows the batching jobs walk (every row of each website,
whatever its status), in keyset pages of ``page`` rows, joins them to Oscar's tables with a fixed
number of plain SQL statements per page (``sqlite3`` or ``psycopg`` directly), builds every record
with the same fields as dotsync's payload builders and encodes it as the same text: one CSV line per
contact (``Email,EmailType,<data fields>[,OptInType]``), one canonical JSON text per insight record
(``sort_keys``, compact separators, as ``dotsync.jobs.queue.canonical_json``), joined into import
bodies within the same record and byte limits. No hashing, no writes, no platform.

What it needs of dotsync's configuration (websites, stores, data-field columns, statuses, batch
limits, catalogue targets) is read once beforehand into a :class:`Plan` by :func:`plan_from_dotsync`
(which does import Django); the timed loop sees only that plain data.

Rules kept (see ``dotsync.store.oscar``): an order's store is its site's store, else the default
store; a basket's, wishlist's or review's store is its owner's last order's store, else the default
store; sales data counts orders in the website's sites and the sales statuses; prices of baskets,
wishlists and products come from the stock record (Oscar's default strategy: first stock record, no
tax), order-line prices from the line.

Simplifications (none changes the bench shop's records; the equivalence check would show it):

* a customer's sales data counts the orders of their own user id (dotsync also counts orders of
  other accounts and guest checkouts with the same email, case-insensitively);
* control characters are stripped from free text (names, titles, bodies) only;
* a product attribute's text is its text, integer, float or option value;
* parent products are priced from their own stock record (dotsync asks the strategy's parent policy).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip
ACTIVE_BASKETS = ("Open", "Saved", "Frozen")
STATUS_LABELS = {1: "Subscribed", 2: "Not Active", 3: "Unsubscribed", 4: "Unconfirmed"}
NUMERIC = {"customer_id", "review_count", "number_of_orders", "average_order_value", "total_spend",
           "last_order_id", "last_quote_id", "total_refund"}  # fmt: skip
FORMULA = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_EMAIL = re.compile(r"^[^@\s,;:<>()\[\]\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_CENT = Decimal("0.01")


# --- the plan: configuration read once, outside the timed loop -----------------------------------------


@dataclass(frozen=True)
class StorePlan:
    """One dotsync store."""

    id: int
    name: str
    site_id: int | None
    double_opt_in: bool


@dataclass(frozen=True)
class WebsitePlan:
    """One enabled website: its stores, columns, statuses and batch limits."""

    id: int
    code: str
    name: str
    api_user: str
    stores: tuple[StorePlan, ...]
    fallback_store_id: int | None
    customer_cols: tuple[tuple[str, str], ...]
    guest_cols: tuple[tuple[str, str], ...]
    subscriber_cols: tuple[tuple[str, str], ...]
    order_statuses: tuple[str, ...]
    sales_statuses: tuple[str, ...]
    page: int
    contact_records: int
    contact_bytes: int
    insight_records: int
    insight_bytes: int

    def store(self, *ids: int | None) -> StorePlan | None:
        """The first of ``ids`` that is this website's store, else its fallback store."""
        by_id = {s.id: s for s in self.stores}
        for i in ids:
            if i is not None and i in by_id:
                return by_id[i]
        return by_id.get(self.fallback_store_id) if self.fallback_store_id is not None else None

    def store_name(self, *ids: int | None) -> str:
        """:meth:`store`'s name, or ``""``."""
        s = self.store(*ids)
        return s.name if s else ""


@dataclass(frozen=True)
class CatalogTarget:
    """One catalogue collection on one account."""

    api_user: str
    collection: str
    domain: str | None
    records: int
    bytes: int


@dataclass(frozen=True)
class Plan:
    """Everything :func:`run` needs besides the database."""

    websites: tuple[WebsitePlan, ...]
    catalog: tuple[CatalogTarget, ...]
    site_to_store: dict[int, int]
    default_store_id: int | None
    catalog_page: int


def plan_from_dotsync() -> Plan:
    """Read dotsync's websites, settings and catalogue targets (Django; not part of the floor's time)."""
    from dotsync.jobs import catalog
    from dotsync.jobs.base import JobResult, websites_for
    from dotsync.jobs.batching import WebsiteContext
    from dotsync.jobs.payloads import datafields
    from dotsync.store.oscar.scope import StoreMap

    websites = []
    for website, cfg in websites_for(None):
        ctx = WebsiteContext.load(website, cfg)
        fallback = ctx.store()
        mapping = cfg.data_field_mapping
        websites.append(
            WebsitePlan(
                id=website.pk,
                code=website.code,
                name=website.name,
                api_user=cfg.api_user,
                stores=tuple(
                    StorePlan(s.pk, s.name, s.site_id, bool(s.requires_confirmation))
                    for s in ctx.stores.values()
                ),
                fallback_store_id=fallback.pk if fallback else None,
                customer_cols=tuple(datafields.columns(datafields.CUSTOMER_KEYS, mapping)),
                guest_cols=tuple(datafields.columns(datafields.GUEST_KEYS, mapping)),
                subscriber_cols=tuple(datafields.columns(datafields.SUBSCRIBER_KEYS, mapping)),
                order_statuses=tuple(cfg.order_statuses),
                sales_statuses=tuple(cfg.sales_data_order_statuses),
                page=cfg.batch("page"),
                contact_records=cfg.batch("contacts"),
                contact_bytes=cfg.batch("contacts_bytes"),
                insight_records=cfg.batch("insight"),
                insight_bytes=cfg.batch("insight_bytes"),
            )
        )
    targets = catalog.targets(JobResult("raw-floor"))
    stores = StoreMap.load()
    return Plan(
        websites=tuple(websites),
        catalog=tuple(
            CatalogTarget(
                t.ctx.cfg.api_user,
                t.collection,
                t.domain,
                t.ctx.cfg.batch("catalog"),
                t.ctx.cfg.batch("insight_bytes"),
            )
            for t in targets
        ),
        site_to_store=dict(stores.site_to_store),
        default_store_id=stores.default_store_id,
        catalog_page=min((t.ctx.cfg.batch("page") for t in targets), default=1000),
    )


# --- the database, plain ---------------------------------------------------------------------------------


class Db:
    """A plain DB-API connection and the few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            import sqlite3

            self.vendor = "sqlite"
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
        else:
            import psycopg

            self.vendor = "postgresql"
            self.conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement written with ``?`` placeholders; all rows."""
        if self.vendor == "postgresql":
            sql = sql.replace("?", "%s")
        cur = self.conn.cursor()
        cur.execute(sql, tuple(params))
        out = cur.fetchall()
        cur.close()
        return list(out)

    def iso(self, col: str) -> str:
        """``col`` (a timestamp) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, as text."""
        if self.vendor == "postgresql":
            return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        return f"strftime('%Y-%m-%dT%H:%M:%SZ', {col})"

    def dow(self, col: str) -> str:
        """Day of week, 0 = Sunday (UTC)."""
        if self.vendor == "postgresql":
            return f"CAST(EXTRACT(DOW FROM {col} AT TIME ZONE 'UTC') AS INTEGER)"
        return f"CAST(strftime('%w', {col}) AS INTEGER)"

    def month(self, col: str) -> str:
        """Month 1-12 (UTC)."""
        if self.vendor == "postgresql":
            return f"CAST(EXTRACT(MONTH FROM {col} AT TIME ZONE 'UTC') AS INTEGER)"
        return f"CAST(strftime('%m', {col}) AS INTEGER)"

    def true(self) -> str:
        """The boolean true literal."""
        return "TRUE" if self.vendor == "postgresql" else "1"


def _ids(values: Any) -> str:
    """A literal ``IN`` list of integers (ids read from the database itself)."""
    out = ",".join(str(int(v)) for v in values)
    return out or "NULL"


def _marks(n: int) -> str:
    return ",".join("?" * n) or "NULL"


# --- values as dotsync formats them ----------------------------------------------------------------------


def text(value: Any, limit: int = 1000) -> str:
    """Text without control characters, cut to ``limit``."""
    if value is None:
        return ""
    return _CONTROL.sub("", str(value))[:limit]


def money(value: Any) -> float:
    """A money amount rounded half-up to cents, as a JSON number."""
    if value is None:
        return 0.0
    return float(Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP))


def money_text(value: Any) -> str:
    """A money amount rounded half-up to cents, as text."""
    return str(Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP))


def cell(key: str, value: Any, *, dates: frozenset[str] = frozenset()) -> str:
    """A CSV data-field cell as ``dotsync.jobs.payloads.datafields.format_value`` makes it."""
    if value is None or value == "":
        return ""
    if key in NUMERIC:
        v = value if isinstance(value, str) else str(value)
        return v if _NUMBER.match(v) else ("'" + v if v.startswith(FORMULA) else v)
    if key in dates:
        return str(value)
    v = text(value)
    return ("'" + v if v.startswith(FORMULA) else v)[:1000]


def csv_line(cells: Sequence[str]) -> str:
    """One CRLF-terminated CSV line (quoted where a cell needs it)."""
    if len(cells) == 1 and not cells[0]:
        return '""\r\n'
    out = []
    for c in cells:
        if c.startswith("'") or "," in c or '"' in c or "\r" in c or "\n" in c:
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return ",".join(out) + "\r\n"


def bad_email(email: str) -> bool:
    """True when dotsync would not send this address."""
    return (
        not email
        or email.startswith(FORMULA)
        or len(email) > 254
        or bool(_CONTROL.search(email))
        or not _EMAIL.match(email)
        or ".." in email
    )


def canonical(record: dict[str, Any]) -> str:
    """A record as the canonical JSON text dotsync queues."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# --- streams: records into bodies within the limits --------------------------------------------------------


@dataclass
class Stream:
    """Records of one import stream, encoded into bodies within the record and byte limits."""

    key: str
    api_user: str
    contact: bool
    max_records: int
    max_bytes: int
    head: str
    tail: str = ""
    records: int = 0
    bytes: int = 0
    bodies: int = 0
    body_bytes: int = 0
    items: list[str] = field(default_factory=list)
    pending: int = 0
    sample: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, item: str, keep: Callable[[str], bool]) -> None:
        """Add one encoded record (``key`` names it for the equivalence sample)."""
        size = len(item.encode())
        if self.items and (
            len(self.items) + 1 > self.max_records or len(self.head) + self.pending + size > self.max_bytes
        ):
            self.flush()
        self.items.append(item)
        self.pending += size
        self.records += 1
        self.bytes += size
        if keep(key):
            self.sample[key] = item

    def flush(self) -> None:
        """Encode the pending records as one body (UTF-8 bytes)."""
        if not self.items:
            return
        sep = "" if self.contact else ","
        body = (self.head + sep.join(self.items) + self.tail).encode()
        self.body_bytes += len(body)
        self.bodies += 1
        self.items, self.pending = [], 0


def _csv_stream(w: WebsitePlan, kind: str, cols: Sequence[tuple[str, str]], opt_in: bool) -> Stream:
    head = ["Email", "EmailType", *(n for _, n in cols)] + (["OptInType"] if opt_in else [])
    return Stream(f"{w.code}:{kind}", w.api_user, True, w.contact_records, w.contact_bytes, csv_line(head))


def _insight_stream(
    key: str, api_user: str, collection: str, ctype: str, scope: str, n: int, b: int
) -> Stream:
    head = json.dumps({"collection": collection, "scope": scope, "type": ctype, "records": []})
    return Stream(key, api_user, False, n, b, head[:-2], "]}")


# --- the walk ----------------------------------------------------------------------------------------------


@dataclass
class RawFloor:
    """What one raw-floor run did.

    Attributes:
        seconds: wall time.
        cpu_seconds: this process's user+system CPU seconds during the run.
        streams: per import stream: records, bytes, bodies (and the sampled records' text).
    """

    seconds: float
    cpu_seconds: float
    streams: dict[str, Stream]

    @property
    def records(self) -> int:
        """Records encoded."""
        return sum(s.records for s in self.streams.values())


class _Walk:
    def __init__(self, db: Db, plan: Plan, keep: Callable[[str], bool]) -> None:
        self.db = db
        self.plan = plan
        self.keep = keep
        self.streams: dict[str, Stream] = {}
        self.products = self._products()

    # products, categories and brands: read once per run (a few thousand rows)
    def _products(self) -> dict[int, dict[str, Any]]:
        db = self.db
        rows = db.rows(
            "SELECT p.id, p.parent_id, p.title, pp.title, p.upc, p.slug, p.structure, p.is_public, "
            f"p.description, {db.iso('p.date_created')}, {db.iso('p.date_updated')} "
            "FROM catalogue_product p LEFT JOIN catalogue_product pp ON pp.id = p.parent_id"
        )
        products: dict[int, dict[str, Any]] = {}
        for pid, parent, title, ptitle, upc, slug, structure, public, desc, created, updated in rows:
            products[pid] = {
                "parent_id": parent,
                "title": title or (ptitle if parent else "") or "",
                "parent_title": (ptitle or "") if parent else "",
                "upc": upc or "",
                "slug": slug,
                "structure": structure,
                "public": bool(public),
                "description": desc or "",
                "created": created,
                "updated": updated,
                "sku": "",
                "price": None,
                "currency": "",
                "stock": None,
                "categories": [],
                "attributes": {},
                "image": "",
            }
        for pid, sku, price, currency, stock, allocated in db.rows(
            "SELECT product_id, partner_sku, price, price_currency, num_in_stock, num_allocated "
            "FROM partner_stockrecord ORDER BY id"
        ):
            p = products.get(pid)
            if p is not None and p["currency"] == "" and p["price"] is None and not p["sku"]:
                p.update(sku=sku or "", price=price, currency=currency or "")
                p["stock"] = None if stock is None else stock - (allocated or 0)
        names: dict[int, list[str]] = defaultdict(list)
        for pid, name in db.rows(
            "SELECT pc.product_id, c.name FROM catalogue_productcategory pc "
            "JOIN catalogue_category c ON c.id = pc.category_id ORDER BY pc.id"
        ):
            names[pid].append(name)
        for pid, p in products.items():
            owner = p["parent_id"] or pid
            p["first_category"] = names[owner][0] if names.get(owner) else ""
            p["categories"] = sorted(names.get(owner, ()))
        for pid, code, vtext, vint, vfloat, option in db.rows(
            "SELECT v.product_id, a.code, v.value_text, v.value_integer, v.value_float, o.option "
            "FROM catalogue_productattributevalue v JOIN catalogue_productattribute a ON a.id = "
            "v.attribute_id "
            "LEFT JOIN catalogue_attributeoption o ON o.id = v.value_option_id ORDER BY v.id"
        ):
            if pid in products:
                value = next((x for x in (option, vtext, vint, vfloat) if x is not None), "")
                products[pid]["attributes"][code] = str(value)
        for pid, original in db.rows(
            "SELECT product_id, original FROM catalogue_productimage ORDER BY display_order DESC, id DESC"
        ):
            if pid in products and original:
                products[pid]["image"] = "/media/" + str(original)
        for p in products.values():
            p["brand"] = p["attributes"].get("brand", "")
        return products

    def _sku(self, pid: int | None, line_sku: str | None = None) -> str:
        if line_sku:
            return str(line_sku)
        p = self.products.get(pid) if pid else None
        return (p["sku"] or p["upc"]) if p else ""

    def _pages(
        self, sql: str, key: str, page: int, params: Sequence[Any] = ()
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Keyset pages of ``sql`` (its first column is ``key``), ``key > last`` ascending."""
        last = 0
        where = " AND " if " WHERE " in sql else " WHERE "
        while True:
            rows = self.db.rows(f"{sql}{where}{key} > ? ORDER BY {key} LIMIT {page}", (*params, last))
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def _stream(self, key: str, make: Callable[[], Stream]) -> Stream:
        if key not in self.streams:
            self.streams[key] = make()
        return self.streams[key]

    def _site_filter(self, w: WebsitePlan, col: str) -> str:
        """SQL: an order (``col`` its site id) in one of the website's stores "
        "(:meth:`StoreMap.order_filter`)."""
        ids = {s.id for s in w.stores}
        sites = [site for site, store in self.plan.site_to_store.items() if store in ids]
        q = f"{col} IN ({_ids(sites)})"
        if self.plan.default_store_id in ids:
            q += f" OR {col} IS NULL OR {col} NOT IN ({_ids(self.plan.site_to_store)})"
        return f"({q})"

    def _order_store(self, site_id: int | None) -> int | None:
        store = self.plan.site_to_store.get(site_id) if site_id is not None else None
        return store if store is not None else self.plan.default_store_id

    def _owner_stores(self, user_ids: set[int]) -> dict[int, int | None]:
        """Each user's last order's store, else the default store."""
        if not user_ids:
            return {}
        found = dict(
            self.db.rows(
                "SELECT user_id, site_id FROM order_order WHERE id IN (SELECT MAX(id) FROM order_order "
                f"WHERE user_id IN ({_ids(user_ids)}) GROUP BY user_id)"
            )
        )
        return {
            u: self._order_store(found[u]) if u in found else self.plan.default_store_id for u in user_ids
        }

    # --- contacts ---------------------------------------------------------------------------------------
    def _sales(
        self, w: WebsitePlan, *, user_email: dict[int, str], guest_emails: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Sales, review and basket values per lower-cased email (one grouped read per table)."""
        db = self.db
        orders: dict[int, list[Any]] = {}
        by_email: dict[str, list[list[Any]]] = defaultdict(list)
        statuses = w.sales_statuses
        cols = f"id, number, user_id, guest_email, total_incl_tax, {db.iso('date_placed')}, "
        cols += f"{db.dow('date_placed')}, {db.month('date_placed')}"
        selects: list[tuple[str, Sequence[str]]] = []
        if user_email and statuses:
            selects.append((f"user_id IN ({_ids(user_email)})", ()))
        if guest_emails and statuses:
            selects.append(
                (f"user_id IS NULL AND lower(guest_email) IN ({_marks(len(guest_emails))})", guest_emails)
            )
        for where, params in selects:
            for oid, number, uid, guest, total, placed, dow, month in db.rows(
                f"SELECT {cols} FROM order_order WHERE {where} AND {self._site_filter(w, 'site_id')} "
                f"AND status IN ({_marks(len(statuses))})",
                (*params, *statuses),
            ):
                email = user_email.get(uid, "") if uid is not None else guest
                row = [placed, oid, number, Decimal(str(total or 0)), dow, month, Decimal(0), []]
                orders[oid] = row
                by_email[email.lower()].append(row)
        if orders:
            for oid, refunded in db.rows(
                "SELECT order_id, SUM(amount_refunded) FROM payment_source WHERE order_id IN "
                f"({_ids(orders)}) "
                "GROUP BY order_id"
            ):
                orders[oid][6] = Decimal(str(refunded or 0))
            for oid, pid, qty in db.rows(
                f"SELECT order_id, product_id, quantity FROM order_line WHERE order_id IN ({_ids(orders)}) "
                "AND product_id IS NOT NULL ORDER BY id"
            ):
                p = self.products.get(pid)
                orders[oid][7].append(((p["parent_id"] if p else None) or pid, qty or 0))
        reviews: dict[str, tuple[int, str | None]] = {}
        quotes: dict[str, int] = {}
        if user_email:
            for uid, n, last in db.rows(
                f"SELECT user_id, COUNT(*), MAX({db.iso('date_created')}) FROM reviews_productreview "
                f"WHERE status = 1 AND user_id IN ({_ids(user_email)}) GROUP BY user_id"
            ):
                reviews[user_email[uid].lower()] = (n, last)
            for uid, last_basket in db.rows(
                f"SELECT owner_id, MAX(id) FROM basket_basket WHERE owner_id IN ({_ids(user_email)}) GROUP "
                "BY owner_id"
            ):
                quotes[user_email[uid].lower()] = last_basket
        if guest_emails:
            for email, n, last in db.rows(
                f"SELECT lower(email), COUNT(*), MAX({db.iso('date_created')}) FROM reviews_productreview "
                f"WHERE status = 1 AND user_id IS NULL AND lower(email) IN ({_marks(len(guest_emails))}) "
                "GROUP BY lower(email)",
                guest_emails,
            ):
                reviews[email] = (n, last)
        out: dict[str, dict[str, Any]] = {}
        for email in set(by_email) | set(reviews) | set(quotes):
            out[email] = self._aggregate(
                by_email.get(email, []), reviews.get(email, (0, None)), quotes.get(email)
            )
        return out

    def _first_with(self, products: list[tuple[int, int]], attr: str) -> str:
        return next(
            (self.products[p][attr] for p, _ in products if p in self.products and self.products[p][attr]), ""
        )

    def _aggregate(
        self, rows: list[list[Any]], review: tuple[int, str | None], quote: int | None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "number_of_orders": 0,
            "average_order_value": "0.00",
            "total_spend": "0.00",
            "total_refund": "0.00",
            "review_count": review[0],
            "last_review_date": review[1],
            "last_quote_id": quote,
        }
        if not rows:
            return values
        rows.sort(key=lambda r: (r[0], r[1]))
        first, last = rows[0], rows[-1]
        total = sum((r[3] for r in rows), Decimal(0))
        qty: Counter[int] = Counter()
        for r in rows:
            for pid, n in r[7]:
                qty[pid] += n
        most = qty.most_common(1)[0][0] if qty else None
        days = Counter(DAYS[r[4]] for r in reversed(rows))
        months = Counter(MONTHS[r[5]] for r in reversed(rows))
        info = self.products.get(most) if most is not None else None
        values.update(
            number_of_orders=len(rows),
            total_spend=money_text(total),
            average_order_value=money_text((total / len(rows)).quantize(_CENT)),
            total_refund=money_text(sum((r[6] for r in rows), Decimal(0))),
            last_order_id=last[1],
            last_increment_id=last[2],
            last_order_date=last[0],
            most_freq_pur_day=days.most_common(1)[0][0],
            most_freq_pur_mon=months.most_common(1)[0][0],
            most_pur_category=info["first_category"] if info else "",
            most_pur_brand=info["brand"] if info else "",
            first_category_pur=self._first_with(first[7], "first_category"),
            last_category_pur=self._first_with(last[7], "first_category"),
            first_brand_pur=self._first_with(first[7], "brand"),
            last_brand_pur=self._first_with(last[7], "brand"),
        )
        return values

    @staticmethod
    def _address(kind: str, a: Sequence[Any] | None) -> dict[str, Any]:
        # a: first_name, last_name, line1, line2, line3, line4, state, postcode, country_id, phone
        a = a or ("",) * 10
        return {
            f"{kind}_address_1": a[2] or "",
            f"{kind}_address_2": " ".join(x for x in (a[3], a[4]) if x),
            f"{kind}_city": a[5] or "",
            f"{kind}_state": a[6] or "",
            f"{kind}_country": a[8] or "",
            f"{kind}_postcode": a[7] or "",
            f"{kind}_telephone": a[9] or "",
        }

    def _scope(self, w: WebsitePlan, store_name: str, status: int | None) -> dict[str, Any]:
        return {
            "website_name": w.name,
            "store_name": store_name,
            "subscriber_status": STATUS_LABELS.get(status or 0, ""),
        }

    def _line(
        self,
        stream: Stream,
        cols: Sequence[tuple[str, str]],
        email: str,
        values: dict[str, Any],
        opt_in: str | None = None,
    ) -> None:
        if bad_email(email):
            return
        cells = [email, "Html", *(cell(k, values.get(k), dates=_DATES) for k, _ in cols)]
        if opt_in is not None:
            cells.append(opt_in)
        stream.add(email.lower(), csv_line(cells), self.keep)

    def contacts(self, w: WebsitePlan) -> None:
        """Customers, guests and subscribers of one website."""
        db = self.db
        addr = "first_name, last_name, line1, line2, line3, line4, state, postcode, country_id"
        stream = self._stream(
            f"{w.code}:Customer", lambda: _csv_stream(w, "Customer", w.customer_cols, False)
        )
        for page in self._pages(
            "SELECT email_contact_id, email, customer_id, store_id, subscriber_status FROM email_contact "
            "WHERE website_id = ? AND customer_id IS NOT NULL",
            "email_contact_id",
            w.page,
            (w.id,),
        ):
            users = {
                r[0]: r
                for r in db.rows(
                    f"SELECT id, email, first_name, last_name, {db.iso('date_joined')}, "
                    f"{db.iso('last_login')} "
                    f"FROM auth_user WHERE id IN ({_ids(r[2] for r in page)})"
                )
            }
            addresses: dict[int, list[Any]] = defaultdict(list)
            for a in db.rows(
                f"SELECT user_id, id, is_default_for_billing, is_default_for_shipping, title, {addr}, "
                "phone_number "
                f"FROM address_useraddress WHERE user_id IN ({_ids(users)}) ORDER BY id"
            ):
                addresses[a[0]].append(a)
            sales = self._sales(w, user_email={u: r[1] or "" for u, r in users.items()}, guest_emails=())
            for _, email, cid, store_id, status in page:
                user = users.get(cid)
                if user is None:
                    continue
                mine = addresses.get(cid, [])
                billing = next((a for a in mine if a[2]), mine[0] if mine else None)
                shipping = next((a for a in mine if a[3]), billing)
                values = {
                    "title": (billing[4] if billing else "") or "",
                    "customer_id": cid,
                    "firstname": user[2] or "",
                    "lastname": user[3] or "",
                    "created_at": user[4],
                    "last_logged_date": user[5],
                    "customer_group": "",
                    **self._address("billing", billing[5:] if billing else None),
                    **self._address("delivery", shipping[5:] if shipping else None),
                    **sales.get(email.lower(), _NO_SALES),
                    **self._scope(w, w.store_name(store_id), status),
                }
                self._line(stream, w.customer_cols, email, values)
        stream.flush()

        stream = self._stream(f"{w.code}:Guest", lambda: _csv_stream(w, "Guest", w.guest_cols, False))
        for page in self._pages(
            "SELECT email_contact_id, email, store_id, subscriber_status FROM email_contact WHERE "
            "website_id = ? "
            f"AND is_guest = {db.true()} AND customer_id IS NULL",
            "email_contact_id",
            w.page,
            (w.id,),
        ):
            emails = sorted({r[1].lower() for r in page if r[1]})
            sales = self._sales(w, user_email={}, guest_emails=emails)
            last = {
                e: oid
                for e, oid in db.rows(
                    f"SELECT lower(guest_email), MAX(id) FROM order_order WHERE user_id IS NULL "
                    f"AND lower(guest_email) IN ({_marks(len(emails))}) AND "
                    f"{self._site_filter(w, 'site_id')} "
                    "GROUP BY lower(guest_email)",
                    emails,
                )
            }
            guests = {}
            for row in db.rows(
                f"SELECT lower(o.guest_email), o.site_id, b.{addr.replace(', ', ', b.')}, NULL, "
                f"s.{addr.replace(', ', ', s.')}, s.phone_number FROM order_order o "
                "LEFT JOIN order_billingaddress b ON b.id = o.billing_address_id "
                "LEFT JOIN order_shippingaddress s ON s.id = o.shipping_address_id "
                f"WHERE o.id IN ({_ids(last.values())})"
            ):
                billing = row[2:12] if row[4] is not None or row[2] is not None else None
                delivery = row[12:22] if row[14] is not None or row[12] is not None else None
                guests[row[0]] = (self._order_store(row[1]), billing, delivery)
            for _, email, store_id, status in page:
                store, billing, delivery = guests.get(email.lower(), (None, None, None))
                name_from = billing or delivery
                values = {
                    "firstname": (name_from[0] if name_from else "") or "",
                    "lastname": (name_from[1] if name_from else "") or "",
                    **self._address("billing", billing),
                    **self._address("delivery", delivery),
                    **sales.get(email.lower(), _NO_SALES),
                    **self._scope(w, w.store_name(store, store_id), status),
                }
                values.pop("last_quote_id", None)
                self._line(stream, w.guest_cols, email, values)
        stream.flush()

        stream = self._stream(
            f"{w.code}:Subscriber", lambda: _csv_stream(w, "Subscriber", w.subscriber_cols, True)
        )
        for page in self._pages(
            "SELECT email_contact_id, email, store_id, subscriber_status, is_subscriber, suppressed "
            "FROM email_contact WHERE website_id = ?",
            "email_contact_id",
            w.page,
            (w.id,),
        ):
            for _, email, store_id, status, is_sub, suppressed in page:
                if not (is_sub and status == 1) or suppressed:
                    continue
                place = w.store(store_id)
                values = self._scope(w, place.name if place else "", status)
                double = place is not None and place.double_opt_in
                self._line(stream, w.subscriber_cols, email, values, "Double" if double else "Single")
        stream.flush()

    # --- insight ------------------------------------------------------------------------------------------
    def _record(self, stream: Stream, key: str, email: str, body: dict[str, Any]) -> None:
        rec = {
            "key": key,
            "contactIdentity": {"identifier": "email", "value": email},
            "json": _drop_none(body),
        }
        stream.add(key, canonical(rec), self.keep)

    def orders(self, w: WebsitePlan) -> None:
        """The website's orders with lines, discounts, payment sources and both addresses."""
        db = self.db
        stream = self._stream(
            f"{w.code}:Orders",
            lambda: _insight_stream(
                f"{w.code}:Orders",
                w.api_user,
                "Orders",
                "orders",
                "contact",
                w.insight_records,
                w.insight_bytes,
            ),
        )
        statuses = set(w.order_statuses)
        a = "line1, line2, line3, line4, state, postcode, country_id"
        for page in self._pages(
            "SELECT email_order_id, order_id, store_id, email FROM email_order WHERE website_id = ?",
            "email_order_id",
            w.page,
            (w.id,),
        ):
            ids = _ids(r[1] for r in page)
            orders = {
                r[0]: r
                for r in db.rows(
                    "SELECT o.id, o.number, o.site_id, o.user_id, u.email, o.guest_email, o.basket_id, "
                    "o.currency, "
                    "o.total_incl_tax, o.shipping_incl_tax, o.shipping_method, o.status, "
                    f"{db.iso('o.date_placed')}, "
                    f"b.{a.replace(', ', ', b.')}, s.{a.replace(', ', ', s.')} "
                    "FROM order_order o LEFT JOIN auth_user u ON u.id = o.user_id "
                    "LEFT JOIN order_billingaddress b ON b.id = o.billing_address_id "
                    "LEFT JOIN order_shippingaddress s ON s.id = o.shipping_address_id "
                    f"WHERE o.id IN ({ids})"
                )
            }
            lines: dict[int, list[Any]] = defaultdict(list)
            for line in db.rows(
                "SELECT order_id, product_id, partner_sku, upc, title, quantity, unit_price_excl_tax, "
                "unit_price_incl_tax, line_price_excl_tax, line_price_incl_tax, "
                "line_price_before_discounts_incl_tax "
                f"FROM order_line WHERE order_id IN ({ids}) ORDER BY id"
            ):
                lines[line[0]].append(line)
            discounts: dict[int, list[Any]] = defaultdict(list)
            for oid, amount, code in db.rows(
                f"SELECT order_id, amount, voucher_code FROM order_orderdiscount WHERE order_id IN ({ids}) "
                "ORDER BY id"
            ):
                discounts[oid].append((amount, code))
            sources: dict[int, list[Any]] = defaultdict(list)
            for oid, refunded, name in db.rows(
                "SELECT s.order_id, s.amount_refunded, t.name FROM payment_source s "
                f"JOIN payment_sourcetype t ON t.id = s.source_type_id WHERE s.order_id IN ({ids}) ORDER "
                "BY s.id"
            ):
                sources[oid].append((refunded, name))
            for _, order_id, row_store, row_email in page:
                o = orders.get(order_id)
                if o is None or o[11] not in statuses:
                    continue
                email = (o[4] if o[3] is not None else o[5]) or ""
                if not (email or row_email):
                    continue
                mine = lines.get(order_id, [])
                refunded = sum((Decimal(str(s[0] or 0)) for s in sources.get(order_id, [])), Decimal(0))
                total = Decimal(str(o[8]))
                products = []
                for _, pid, psku, upc, title, qty, unit, unit_incl, lp, lp_incl, _ in mine:
                    p = self.products.get(pid) if pid else None
                    q = qty or 1
                    products.append(
                        {
                            "product_id": "" if pid is None else str(pid),
                            "parent_id": "" if not p or p["parent_id"] is None else str(p["parent_id"]),
                            "name": text(title, 255),
                            "parent_name": text(p["parent_title"], 255) if p else "",
                            "sku": psku or upc or "",
                            "qty": int(qty),
                            "price": money(unit if unit is not None else Decimal(str(lp)) / q),
                            "price_inc_tax": money(
                                unit_incl if unit_incl is not None else Decimal(str(lp_incl)) / q
                            ),
                            "categories": p["categories"] if p else [],
                            "brand": "",
                        }
                    )
                codes = sorted({c for _, c in discounts.get(order_id, []) if c})
                body = {
                    "id": str(o[1]),
                    "orderId": o[0],
                    "email": email,
                    "customerId": o[3],
                    "quoteId": o[6],
                    "storeName": w.store_name(self._order_store(o[2]), row_store),
                    "websiteName": w.name,
                    "purchaseDate": o[12],
                    "orderStatus": o[11] or "",
                    "currency": o[7],
                    "orderSubtotal": money(sum((Decimal(str(x[10] or 0)) for x in mine), Decimal(0))),
                    "discountAmount": money(
                        sum((Decimal(str(d[0] or 0)) for d in discounts.get(order_id, [])), Decimal(0))
                    ),
                    "deliveryTotal": money(o[9] or 0),
                    "orderTotal": money(total - refunded),
                    "totalRefunded": money(refunded),
                    "payment": sources[order_id][0][1] if sources.get(order_id) else "",
                    "deliveryMethod": o[10] or "",
                    "couponCode": ",".join(codes),
                    "billingAddress": _order_address("billing", o[13:20]),
                    "deliveryAddress": _order_address("delivery", o[20:27]),
                    "products": products,
                }
                self._record(stream, str(o[1]), email, body)
        stream.flush()

    def quotes(self, w: WebsitePlan) -> None:
        """The website's baskets with lines priced from their stock records."""
        db = self.db
        stream = self._stream(
            f"{w.code}:Quote",
            lambda: _insight_stream(
                f"{w.code}:Quote",
                w.api_user,
                "Quote",
                "custom",
                "contact",
                w.insight_records,
                w.insight_bytes,
            ),
        )
        for page in self._pages(
            "SELECT id, quote_id, store_id, email FROM email_quote WHERE website_id = ?",
            "id",
            w.page,
            (w.id,),
        ):
            ids = _ids(r[1] for r in page)
            baskets = {
                r[0]: r
                for r in db.rows(
                    f"SELECT b.id, b.owner_id, u.email, b.status, {db.iso('b.date_created')} FROM "
                    "basket_basket b "
                    f"LEFT JOIN auth_user u ON u.id = b.owner_id WHERE b.id IN ({ids})"
                )
            }
            lines: dict[int, list[Any]] = defaultdict(list)
            for line in db.rows(
                "SELECT l.basket_id, l.product_id, l.quantity, l.price_currency, "
                f"{db.iso('l.date_updated')}, "
                "sr.partner_sku, sr.price, sr.price_currency FROM basket_line l "
                "LEFT JOIN partner_stockrecord sr ON sr.id = l.stockrecord_id WHERE l.basket_id IN "
                f"({ids}) ORDER BY l.id"
            ):
                lines[line[0]].append(line)
            owners = self._owner_stores({b[1] for b in baskets.values() if b[1] is not None})
            for _, basket_id, row_store, row_email in page:
                b = baskets.get(basket_id)
                mine = lines.get(basket_id, [])
                if b is None or not mine:
                    continue
                email = (b[2] if b[1] is not None else "") or row_email or ""
                if not email:
                    continue
                items, currency = [], ""
                sub = incl = Decimal(0)
                for _, pid, qty, line_currency, _, sku, price, sr_currency in mine:
                    p = self.products.get(pid) if pid else None
                    currency = currency or (sr_currency if price is not None else "") or line_currency or ""
                    unit = Decimal(str(price)) if price is not None else Decimal(0)
                    sub += unit * qty
                    incl += unit * qty
                    items.append(
                        {
                            "productId": "" if pid is None else str(pid),
                            "sku": self._sku(pid, sku),
                            "name": text(p["title"], 255) if p else "",
                            "quantity": int(qty),
                            "unitPrice": money(unit),
                            "unitPrice_incl_tax": money(unit),
                            "totalPrice": money(unit * qty),
                            "totalPrice_incl_tax": money(unit * qty),
                            "productUrl": f"/catalogue/{p['slug']}_{pid}/" if p else "",
                            "imageUrl": p["image"] if p else "",
                        }
                    )
                dates = [x[4] for x in mine if x[4]]
                store = (
                    owners.get(b[1], self.plan.default_store_id)
                    if b[1] is not None
                    else self.plan.default_store_id
                )
                body = {
                    "id": b[0],
                    "email": email,
                    "customerId": b[1],
                    "status": b[3],
                    "isActive": b[3] in ACTIVE_BASKETS,
                    "storeName": w.store_name(store, row_store),
                    "websiteName": w.name,
                    "createdDate": b[4],
                    "modifiedDate": max(dates) if dates else b[4],
                    "currency": currency,
                    "subTotal": money(sub),
                    "grandTotal": money(incl),
                    "itemCount": sum(int(x[2]) for x in mine),
                    "lineItems": items,
                }
                self._record(stream, str(b[0]), email, body)
        stream.flush()

    def reviews(self, w: WebsitePlan) -> None:
        """The website's approved reviews."""
        db = self.db
        stream = self._stream(
            f"{w.code}:Reviews",
            lambda: _insight_stream(
                f"{w.code}:Reviews",
                w.api_user,
                "Reviews",
                "custom",
                "contact",
                w.insight_records,
                w.insight_bytes,
            ),
        )
        for page in self._pages(
            "SELECT id, review_id, store_id FROM email_review WHERE website_id = ?", "id", w.page, (w.id,)
        ):
            reviews = {
                r[0]: r
                for r in db.rows(
                    "SELECT r.id, r.product_id, r.user_id, u.email, r.email, r.score, r.title, r.body, "
                    "r.status, "
                    f"{db.iso('r.date_created')} FROM reviews_productreview r LEFT JOIN auth_user u ON "
                    "u.id = r.user_id "
                    f"WHERE r.id IN ({_ids(r[1] for r in page)})"
                )
            }
            owners = self._owner_stores({r[2] for r in reviews.values() if r[2] is not None})
            for _, review_id, row_store in page:
                r = reviews.get(review_id)
                if r is None or r[8] != 1:
                    continue
                email = (r[3] if r[2] is not None else r[4]) or ""
                if not email:
                    continue
                p = self.products.get(r[1]) if r[1] else None
                store = (
                    owners.get(r[2], self.plan.default_store_id)
                    if r[2] is not None
                    else self.plan.default_store_id
                )
                body = {
                    "id": r[0],
                    "customerId": r[2],
                    "email": email,
                    "productId": "" if r[1] is None else str(r[1]),
                    "productName": text(p["title"], 255) if p else "",
                    "productSku": self._sku(r[1]),
                    "rating": int(r[5]),
                    "title": text(r[6] or "", 255),
                    "detail": text(r[7] or ""),
                    "reviewDate": r[9],
                    "storeName": w.store_name(store, row_store),
                    "websiteName": w.name,
                }
                self._record(stream, str(r[0]), email, body)
        stream.flush()

    def wishlists(self, w: WebsitePlan) -> None:
        """The website's wishlists with items priced from their products' stock records."""
        db = self.db
        stream = self._stream(
            f"{w.code}:Wishlist",
            lambda: _insight_stream(
                f"{w.code}:Wishlist",
                w.api_user,
                "Wishlist",
                "wishList",
                "contact",
                w.insight_records,
                w.insight_bytes,
            ),
        )
        for page in self._pages(
            "SELECT id, wishlist_id, store_id FROM email_wishlist WHERE website_id = ?", "id", w.page, (w.id,)
        ):
            ids = _ids(r[1] for r in page)
            lists = {
                r[0]: r
                for r in db.rows(
                    f"SELECT w.id, w.owner_id, u.email, {db.iso('w.date_created')} FROM wishlists_wishlist w "
                    f"LEFT JOIN auth_user u ON u.id = w.owner_id WHERE w.id IN ({ids})"
                )
            }
            lines: dict[int, list[Any]] = defaultdict(list)
            for line in db.rows(
                "SELECT wishlist_id, product_id, quantity, title FROM wishlists_line WHERE wishlist_id IN "
                f"({ids}) ORDER BY id"
            ):
                lines[line[0]].append(line)
            owners = self._owner_stores({x[1] for x in lists.values() if x[1] is not None})
            for _, wishlist_id, row_store in page:
                x = lists.get(wishlist_id)
                mine = lines.get(wishlist_id, [])
                if x is None or not mine or not x[2]:
                    continue
                items = []
                total = Decimal(0)
                for _, pid, qty, title in mine:
                    p = self.products.get(pid) if pid else None
                    price = Decimal(str(p["price"])) if p and p["price"] is not None else Decimal(0)
                    total += price * qty
                    items.append(
                        {
                            "productId": "" if pid is None else str(pid),
                            "sku": self._sku(pid),
                            "name": text(p["title"] if p else title, 255),
                            "qty": int(qty),
                            "price": money(price),
                            "totalValueOfProduct": money(price * qty),
                        }
                    )
                body = {
                    "id": x[0],
                    "customerId": x[1],
                    "email": x[2],
                    "storeName": w.store_name(owners.get(x[1]), row_store),
                    "websiteName": w.name,
                    "createdDate": x[3],
                    "itemCount": len(items),
                    "totalWishlistValue": money(total),
                    "items": items,
                }
                self._record(stream, str(x[0]), x[2], body)
        stream.flush()

    def catalog(self) -> None:
        """Every public product of ``email_catalog``, once per catalogue target."""
        targets = [
            (
                t,
                self._stream(
                    f"{t.api_user}:{t.collection}",
                    lambda t=t: _insight_stream(
                        f"{t.api_user}:{t.collection}",
                        t.api_user,
                        t.collection,
                        "catalog",
                        "account",
                        t.records,
                        t.bytes,
                    ),  # type: ignore[misc]
                ),
            )
            for t in self.plan.catalog
        ]
        if not targets:
            return
        for page in self._pages("SELECT id, product_id FROM email_catalog", "id", self.plan.catalog_page):
            for _, pid in page:
                p = self.products.get(pid)
                if p is None or not p["public"]:
                    continue
                attrs = {_safe_key(k): text(v) for k, v in sorted(p["attributes"].items())} or None
                for t, stream in targets:
                    body = {
                        "id": pid,
                        "parent_id": "" if p["parent_id"] is None else str(p["parent_id"]),
                        "name": text(p["title"], 255),
                        "sku": p["sku"] or p["upc"],
                        "type": p["structure"],
                        "status": "Enabled",
                        "price": None if p["price"] is None else money(p["price"]),
                        "price_incl_tax": None if p["price"] is None else money(p["price"]),
                        "currency": p["currency"],
                        "stock": p["stock"],
                        "categories": p["categories"],
                        "brand": p["brand"],
                        "url": _absolute(f"/catalogue/{p['slug']}_{pid}/", t.domain),
                        "imagePath": _absolute(p["image"], t.domain),
                        "shortDescription": text(p["description"]),
                        "created_date": p["created"],
                        "updated_date": p["updated"],
                        "attributes": attrs,
                    }
                    stream.add(str(pid), canonical({"key": str(pid), "json": _drop_none(body)}), self.keep)
        for _, stream in targets:
            stream.flush()


_DATES = frozenset(("dob", "created_at", "last_logged_date", "last_review_date", "last_order_date"))
_NO_SALES: dict[str, Any] = {
    "number_of_orders": 0,
    "average_order_value": "0.00",
    "total_spend": "0.00",
    "total_refund": "0.00",
    "review_count": 0,
}


def _order_address(kind: str, a: Sequence[Any]) -> dict[str, Any] | None:
    # a: line1, line2, line3, line4, state, postcode, country_id (all None when the order has none)
    if all(v is None for v in a):
        return None
    return {
        f"{kind}_address_1": a[0] or "",
        f"{kind}_address_2": " ".join(x for x in (a[1], a[2]) if x),
        f"{kind}_city": a[3] or "",
        f"{kind}_region": a[4] or "",
        f"{kind}_country": a[6] or "",
        f"{kind}_postcode": a[5] or "",
    }


def _absolute(url: str, domain: str | None) -> str:
    if not url or "://" in url or not domain:
        return url
    return f"https://{domain}{url if url.startswith('/') else '/' + url}"


def _safe_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")[:128] or "attribute"


def run(database_url: str, plan: Plan, *, sample: Callable[[str], bool] = lambda key: False) -> RawFloor:
    """Read and encode everything a first sync sends, with plain SQL; timed (wall and CPU).

    Args:
        database_url: ``sqlite:///<path>`` or ``postgres://...`` (the shop's database).
        plan: the configuration (:func:`plan_from_dotsync`).
        sample: which record keys (lower-cased emails for contacts, record keys for insight) to keep
            the encoded text of, for the equivalence check.
    """
    import resource

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    started, cpu_started = time.perf_counter(), cpu()
    db = Db(database_url)
    try:
        walk = _Walk(db, plan, sample)
        for w in plan.websites:
            walk.contacts(w)
            walk.orders(w)
            walk.quotes(w)
            walk.reviews(w)
            walk.wishlists(w)
        walk.catalog()
    finally:
        db.close()
    return RawFloor(time.perf_counter() - started, cpu() - cpu_started, walk.streams)


# --- equivalence: the raw floor's text against what the sync sent ----------------------------------------


def sample_every(n: int) -> Callable[[str], bool]:
    """A stable sample of about one record key in ``n`` (by CRC-32 of the key)."""
    import zlib

    return lambda key: zlib.crc32(key.encode()) % n == 0


def _same_cell(cell_text: str, stored: Any) -> bool:
    """A CSV cell against the value the sandbox stored for it (typed: number, date, text, or none)."""
    if stored is None:
        return cell_text == ""
    if isinstance(stored, bool):
        return cell_text.lower() == str(stored).lower()
    if isinstance(stored, int | float):
        try:
            return Decimal(cell_text) == Decimal(str(stored))
        except ArithmeticError:
            return False
    if cell_text.endswith("Z") and len(cell_text) == 20:  # a date: stored as YYYY-MM-DDTHH:MM:SS
        return cell_text[:19] == str(stored)[:19]
    return cell_text == str(stored)


def equivalence(sandbox_db: str, floor: RawFloor, *, show: int = 5) -> dict[str, Any]:
    """Compare the raw floor's sampled records with what the sandbox holds after the sync.

    An insight record is compared as its ``json`` object with the sandbox's stored record (same
    account, collection and key); a contact as its CSV data-field cells with the contact's stored data
    fields (the sandbox keeps them typed: a number, a date without ``Z``, or none for an empty cell).
    The sandbox empties an import's body once processed, so its state is what the sync sent, last
    write wins. Returns counts (``sampled``, ``compared``, ``mismatched``, ``not_found``) and, for
    the first few mismatches, the stream and the names of the fields that differ (no values).
    """
    import csv
    import sqlite3

    con = sqlite3.connect(f"file:{sandbox_db}?mode=ro", uri=True, timeout=30)
    accounts = {name: i for i, name in con.execute("SELECT id, username FROM accounts")}
    compared = mismatched = not_found = sampled = 0
    examples: list[dict[str, Any]] = []
    for key, s in floor.streams.items():
        account = accounts.get(s.api_user)
        if s.contact:
            names = next(csv.reader([s.head.rstrip("\r\n")]))
        else:
            collection = json.loads(s.head + s.tail)["collection"]
        for record_key, item in s.sample.items():
            sampled += 1
            if s.contact:
                row = con.execute(
                    "SELECT data_fields FROM contacts WHERE account_id = ? AND email_key = ?",
                    (account, record_key),
                ).fetchone()
                if row is None:
                    not_found += 1
                    continue
                stored = json.loads(row[0])
                cells = next(csv.reader([item.rstrip("\r\n")]))
                fields = [
                    n
                    for n, c in zip(names, cells, strict=False)
                    if n not in ("Email", "EmailType", "OptInType") and not _same_cell(c, stored.get(n))
                ]
            else:
                row = con.execute(
                    "SELECT json FROM insight_records WHERE account_id = ? AND collection = ? AND key = ?",
                    (account, collection, record_key),
                ).fetchone()
                if row is None:
                    not_found += 1
                    continue
                mine, theirs = json.loads(item)["json"], json.loads(row[0])
                fields = sorted(f for f in set(mine) | set(theirs) if mine.get(f) != theirs.get(f))
            compared += 1
            if fields:
                mismatched += 1
                if len(examples) < show:
                    examples.append({"stream": key, "fields": fields})
    con.close()
    return {
        "sampled": sampled,
        "compared": compared,
        "mismatched": mismatched,
        "not_found": not_found,
        "examples": examples,
    }
