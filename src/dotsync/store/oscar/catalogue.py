"""Product facts for record lines, read as values and cached per adapter, with a staleness rule.

Order, basket, wishlist and review records need a few facts of each product they name: its title
(Oscar's ``get_title``: a child without a title has its parent's), parent, SKU fallback (UPC),
categories (a child's are its parent's), page URL and primary image. A page of records names the same
few hundred products again and again, so the facts are read once (three value queries for whatever is
missing: products with their parents, category names, images) and kept in a :class:`ProductCache`.

**Staleness rule.** An entry is served for at most :data:`MAX_AGE_SECONDS` (monotonic clock) after it
was read. Any save or delete of a product, category, product-category link or product image in this
process, and any change to a product's categories (``m2m_changed``), empties every cache at once. The
catalogue stream's own read (:meth:`dotsync.store.oscar.OscarAdapter.products`) never uses the cache; it
reads fresh and refreshes the entries it read. So a product edited in another process (the shop) can
show its old name, categories, URL or image on order and basket lines for at most that long; prices and
stock never come from the cache (stock records are read with each page). A cache holds at most
:data:`MAX_ENTRIES` products.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import NoReverseMatch
from oscar.core.loading import get_model

from dotsync.store.sql import ids_in

MAX_AGE_SECONDS = 60.0
"""How long a cached product's facts are served before they are read again."""

MAX_ENTRIES = 20_000
"""Products a cache holds at most (about 10 MiB); past that it starts again empty, so memory stays
flat whatever the catalogue's size."""

_CHUNK = 500
"""Ids per ``IN (…)`` list (SQLite's default limit on parameters is far above, PostgreSQL has none)."""


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What record lines need of a product (no price or stock: those are read per page)."""

    id: int
    structure: str
    parent_id: int | None
    is_public: bool
    title: str
    """``get_title()``: the product's title, else its parent's."""
    parent_title: str
    """The parent's own title (empty for a product without a parent)."""
    upc: str
    categories: tuple[str, ...]
    """Category names, sorted; a child variant has its parent's (as in Oscar)."""
    url: str
    image_url: str
    description: str
    date_created: datetime | None
    date_updated: datetime | None

    @property
    def is_parent(self) -> bool:
        """True for a parent product (priced through its children)."""
        return self.structure == "parent"


def chunked(values: Iterable[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    """Sorted, de-duplicated values in lists of at most ``size``."""
    ordered = sorted(set(values))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


class _Urls:
    """Product page paths (the model's ``get_absolute_url``, forks included): ``mapping.product_url``.

    When the host project does not route Oscar's catalogue, every reverse fails the same way, and a
    failed reverse is slow: after the first, the rest of the batch takes Oscar's pattern directly.
    """

    def __init__(self, product_model: Any) -> None:
        self.model = product_model
        self.routed = True

    def __call__(self, pk: int, slug: str) -> str:
        if self.routed:
            try:
                return str(self.model(pk=pk, slug=slug).get_absolute_url())
            except NoReverseMatch:
                self.routed = False
        return f"/catalogue/{slug}_{pk}/"


def _image_url(storage: Any, name: str) -> str:
    """The URL of a stored image name (as ``ImageFieldFile.url``); empty when there is none."""
    if not name:
        return ""
    try:
        return str(storage.url(name))
    except ValueError:
        return ""


def read_facts(ids: Iterable[int]) -> dict[int, ProductFacts]:
    """The facts of these products, read fresh: three value queries per chunk of ids, none per product."""
    Product = get_model("catalogue", "Product")
    ProductCategory = get_model("catalogue", "ProductCategory")
    ProductImage = get_model("catalogue", "ProductImage")
    storage = ProductImage._meta.get_field("original").storage
    url = _Urls(Product)
    out: dict[int, ProductFacts] = {}
    for chunk in chunked(i for i in ids if i):
        rows = list(
            ids_in(Product._default_manager.all(), "pk", chunk).values_list(
                "pk",
                "structure",
                "parent_id",
                "is_public",
                "title",
                "parent__title",
                "upc",
                "slug",
                "description",
                "date_created",
                "date_updated",
            )
        )
        owners = {row[0]: row[2] or row[0] for row in rows}
        names: dict[int, list[str]] = defaultdict(list)
        for product_id, name in ids_in(
            ProductCategory._default_manager.all(), "product", owners.values()
        ).values_list("product_id", "category__name"):
            names[product_id].append(name)
        with_images = sorted({row[0] for row in rows} | {row[2] for row in rows if row[2]})
        images: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        for product_id, pk, order, name in ids_in(
            ProductImage._default_manager.all(), "product", with_images
        ).values_list("product_id", "pk", "display_order", "original"):
            images[product_id].append((order, pk, name or ""))
        for pk, structure, parent_id, public, title, parent_title, upc, slug, text, created, updated in rows:
            own = images.get(pk) or (images.get(parent_id, []) if parent_id else [])
            first = min(own)[2] if own else ""
            out[pk] = ProductFacts(
                id=pk,
                structure=structure,
                parent_id=parent_id,
                is_public=bool(public),
                title=(title or (parent_title if parent_id else "")) or "",
                parent_title=(parent_title or "") if parent_id else "",
                upc=upc or "",
                categories=tuple(sorted(names.get(owners[pk], ()))),
                url=url(pk, slug),
                image_url=_image_url(storage, first),
                description=text or "",
                date_created=created,
                date_updated=updated,
            )
    return out


_generation = 0
_watching = False
_lock = threading.Lock()


def _changed(**_: Any) -> None:
    """A catalogue row changed in this process: every cache drops its entries."""
    global _generation
    _generation += 1


def _watch() -> None:
    """Connect :func:`_changed` to the catalogue models' signals (once per process)."""
    global _watching
    with _lock:
        if _watching:
            return
        for name in ("Product", "Category", "ProductCategory", "ProductImage"):
            model = get_model("catalogue", name)
            uid = f"dotsync.catalogue.{name}"
            post_save.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}.save")
            post_delete.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}.delete")
        through = get_model("catalogue", "Product").categories.through
        m2m_changed.connect(_changed, sender=through, weak=False, dispatch_uid="dotsync.catalogue.categories")
        _watching = True


class ProductCache:
    """Product facts by id, with the module's staleness rule (see the module docstring).

    Args:
        max_age: seconds an entry is served after it was read.
        clock: a monotonic clock (seconds).
        max_entries: products held at most (the cache empties when a read would pass it).
    """

    def __init__(
        self,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.max_age = max_age
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[int, tuple[float, ProductFacts]] = {}
        self._generation = -1
        self.reads = 0
        """How many products were read from the database (for tests and profiling)."""

    def facts(self, ids: Iterable[int | None]) -> dict[int, ProductFacts]:
        """Facts of these products: fresh cached entries, the rest read (three queries if any is missing)."""
        _watch()
        if self._generation != _generation:
            self._entries.clear()
            self._generation = _generation
        now = self.clock()
        out: dict[int, ProductFacts] = {}
        missing: list[int] = []
        for pk in {i for i in ids if i}:
            entry = self._entries.get(pk)
            if entry is not None and now - entry[0] < self.max_age:
                out[pk] = entry[1]
            else:
                missing.append(pk)
        if missing:
            read = read_facts(missing)
            self.reads += len(read)
            self.put(read.values(), at=now)
            out.update(read)
        return out

    def put(self, facts: Iterable[ProductFacts], *, at: float | None = None) -> None:
        """Store facts read elsewhere (the catalogue stream's fresh read)."""
        _watch()
        if self._generation != _generation:
            self._entries.clear()
            self._generation = _generation
        when = self.clock() if at is None else at
        facts = list(facts)
        if len(self._entries) + len(facts) > self.max_entries:
            self._entries.clear()
        for fact in facts:
            self._entries[fact.id] = (when, fact)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
