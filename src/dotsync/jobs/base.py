"""What every job shares: its declaration, its result, the websites it runs for, keyset paging over rows.

A :class:`Job` declares the id, the specification's name, the scope, the default frequency, the lock
key and the toggle of one job; :mod:`dotsync.jobs.registry` lists them, and ``dotsync sync JOB``, the
runner and the scheduler read only that list. A job runs with a :class:`~dotsync.accounts.RunContext`
(websites and accounts resolved once); calling it with a website code resolves its own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field, make_dataclass
from functools import cache
from typing import Any

from django.db import models

from dotsync.accounts import RunContext
from dotsync.config import WebsiteSettings
from dotsync.jobs import versions
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


class JobScope(enum.StrEnum):
    """What one unit of a job's work is (and what its lock covers)."""

    WEBSITE = "website"
    ACCOUNT = "account"
    STORE = "store"


@dataclass(frozen=True)
class Job:
    """One job: what it is called, what it covers, how often it runs and what switches it off.

    Attributes:
        id: the job id (``dotsync sync ID``, ``job_frequencies`` keys), e.g. ``"orders"``.
        spec_name: the specification's name for it, e.g. ``"order_and_quote_sync"``.
        summary: one line for ``dotsync sync --help``.
        scope: per website, per account or per store.
        default_frequency: minutes between runs when ``job_frequencies`` does not say.
        toggle: the :class:`~dotsync.config.WebsiteSettings` switch the whole job obeys (None: each
            of its streams has its own).
        after: ids of the jobs that run before this one in a ``sync all`` pass (its dependencies:
            e.g. the importer after the jobs that queue imports, the campaign sends after the importer
            put their contacts on the platform). :func:`dotsync.jobs.registry.sync_order` sorts the
            registry by them; an id that is not registered is ignored (a job being built).
        shared_rows: its sync table has no website (the catalogue): every website's rows are the
            same rows, so its units share one lock and each scheduled run covers every website the
            job is scheduled for (:func:`dotsync.runtime.runs.run_job`). Two units running at once
            over shared rows would each settle rows the other still had to send.
        once_per_sync: it runs in the first pass of a ``sync all`` only. The platform feeds read
            what changed on the platform since their last run; a later pass of the same ``sync
            all`` would read back only that run's own imports (at 300,000 orders, 127 pages of the
            contacts the first pass had just created: 5 % of the first sync).
    """

    id: str
    spec_name: str
    summary: str
    scope: JobScope
    default_frequency: int
    toggle: str | None = None
    after: tuple[str, ...] = ()
    shared_rows: bool = False
    once_per_sync: bool = False

    def lock_key(self, unit: str = "") -> str:
        """The lock name for the whole job, or for one unit of it (a website code, an account key).

        A job with :attr:`shared_rows` has one lock whatever the unit.
        """
        return f"dotsync:job:{self.id}" + (f":{unit}" if unit and not self.shared_rows else "")

    def frequency(self, cfg: WebsiteSettings) -> int:
        """Minutes between runs for a website: its ``job_frequencies`` entry, else the default."""
        return cfg.job_frequencies.get(self.id, self.default_frequency)

    def run(self, ctx: RunContext) -> JobResult:
        """Run once for the context's websites."""
        raise NotImplementedError

    def __call__(self, website_code: str | None = None) -> JobResult:
        """Run once for every enabled website (or ``website_code``), resolving them first."""
        return self.run(RunContext.resolve(website_code))


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
    for ctx in RunContext.resolve(website_code).websites_where(toggle):
        yield ctx.website, ctx.cfg


@cache
def page_row(model: type[models.Model]) -> type:
    """The class of :func:`iter_pending` 's rows for ``model``: its columns as slots, not a model instance.

    It has every concrete column (by attribute name: ``website_id``, not ``website``), ``pk`` and
    ``_meta``, so the batching code reads a row as it read the instance; it cannot be saved, and it
    has no related objects. A first sync reads every sync row once or twice, and building model
    instances (``Model.__init__`` and its foreign-key descriptors) was a tenth of its time.
    """
    opts = model._meta
    names = [f.attname for f in opts.concrete_fields]
    pk = opts.pk.attname  # type: ignore[union-attr]
    row = make_dataclass(f"{model.__name__}Row", names, slots=True, eq=False)
    row.pk = property(lambda self: getattr(self, pk), doc="The primary key.")  # type: ignore[attr-defined]
    row._meta = opts  # type: ignore[attr-defined]
    return row


def iter_pending(
    model: type[models.Model],
    *,
    website_id: int | None,
    page_size: int,
    status_field: str = "sync_status",
    extra_filter: dict[str, Any] | None = None,
) -> Iterator[list[Any]]:
    """Yield pages of rows needing sync (new or modified), by primary key, with keyset pagination.

    The rows are :func:`page_row` s (the columns as values), not model instances.

    Memory stays bounded by ``page_size`` whatever the table's size. Each row's ``updated_at`` is
    remembered (:mod:`dotsync.jobs.versions`): a row an observer changes while its page is processed
    keeps its pending status, and the next run sends it.
    """
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    filters: dict[str, Any] = {f"{status_field}__in": SyncStatus.pending()}
    if website_id is not None:
        filters["website_id"] = website_id
    if extra_filter:
        filters.update(extra_filter)
    row = page_row(model)
    names = [f.attname for f in model._meta.concrete_fields]
    last = 0
    while True:
        rows = model._default_manager.filter(**filters, **{f"{pk}__gt": last}).order_by(pk)
        page = [row(*values) for values in rows.values_list(*names)[:page_size]]
        if not page:
            return
        versions.remember(page)  # their outcomes are written only if nothing changed them meanwhile
        yield page
        last = getattr(page[-1], pk)
        del page  # not held while the next page is read
