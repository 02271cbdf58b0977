"""What every job shares: its result, the websites it runs for, and keyset paging over sync rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from dotsync.config import WebsiteSettings, get_config
from dotsync.models import SyncStatus, Website


@dataclass
class JobResult:
    """What one job run did, per website. Reported by ``dotsync sync`` (``--json`` prints ``as_dict``)."""

    job: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, website_code: str, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key`` of ``website_code``."""
        bucket = self.counts.setdefault(website_code, {})
        bucket[key] = bucket.get(key, 0) + n

    def total(self, key: str) -> int:
        """Sum of counter ``key`` over every website."""
        return sum(c.get(key, 0) for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {"job": self.job, "counts": self.counts, "errors": self.errors}


def websites_for(
    toggle: str | None, website_code: str | None = None
) -> Iterator[tuple[Website, WebsiteSettings]]:
    """Websites where dotsync is enabled (and ``toggle``, e.g. ``"sync_orders"``, is on), with their settings.

    Args:
        toggle: a boolean attribute of :class:`WebsiteSettings`, or None for "enabled" alone.
        website_code: restrict to this website (``--website CODE``).

    A website whose configuration has problems is yielded too when ``enabled`` (or ``toggle``) could
    not be read, so the caller reports them: callers refuse a website whose
    :meth:`WebsiteSettings.problems` is not empty (:meth:`WebsiteSettings.validate` raises with every
    problem listed). An unreadable switch is never taken as on.
    """
    qs = Website.objects.order_by("id")
    if website_code:
        qs = qs.filter(code=website_code)
    for website in qs.iterator():
        cfg = get_config(website)
        if not cfg.enabled and "enabled" not in cfg.invalid:
            continue
        if toggle and not getattr(cfg, toggle) and toggle not in cfg.invalid:
            continue
        yield website, cfg


def iter_pending(
    model: type[models.Model],
    *,
    website_id: int | None,
    page_size: int,
    status_field: str = "sync_status",
    extra_filter: dict[str, Any] | None = None,
) -> Iterator[list[Any]]:
    """Yield pages of rows needing sync (new or modified), by primary key, with keyset pagination.

    Memory stays bounded by ``page_size`` whatever the table's size. Rows that change status while
    a page is processed are simply seen (or not) by the next run.
    """
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    filters: dict[str, Any] = {f"{status_field}__in": SyncStatus.pending()}
    if website_id is not None:
        filters["website_id"] = website_id
    if extra_filter:
        filters.update(extra_filter)
    last = 0
    while True:
        page = list(model._default_manager.filter(**filters, **{f"{pk}__gt": last}).order_by(pk)[:page_size])
        if not page:
            return
        yield page
        last = getattr(page[-1], pk)
        del page  # not held while the next page is read
