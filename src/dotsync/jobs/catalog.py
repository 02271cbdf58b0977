"""``catalog`` (spec: ``catalog_sync``): products to account-scoped catalogue collections.

The catalogue is global (``email_catalog`` has no website), but accounts are per website. Targets:

* ``catalog_level`` ``"default"``: ``Catalog_Default`` in the account of **every** website that is
  enabled with ``sync_catalog`` on, once per account (websites sharing an API user share one
  account, so one import serves them all), with URLs on that website's default store's domain;
* ``catalog_level`` ``"store"``: ``Catalog_<website code>_<store code>`` for every store of every
  such website, sent with the website's account, with URLs on the store's domain.

Each product's record (key = product id, :mod:`dotsync.jobs.payloads.product`) goes to every
target; its row's hash covers all targets, so an unchanged product is sent to none. The row rides
in every target's batch: its final status follows the last of those batches to settle (a failure in
one target marks the row failed, so it is retried as a whole). A product that is not public (or is
gone) is deleted from every target if it was imported, else skipped.

``--website CODE`` limits the targets to that website; the rows it sends are then settled for all
websites, so use it for a first catalogue load of one account only. Scheduled runs (``dotsync run``,
Celery) never narrow: the job has ``shared_rows``, so its per-website units share one lock and each
run covers every website the catalogue is scheduled for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dotsync.accounts import RunContext, WebsiteContext, account_key
from dotsync.jobs.base import Job, JobResult, JobScope, iter_pending
from dotsync.jobs.batching import (
    Batch,
    Outcomes,
    hold_in_flight,
    insight_batch,
    single,
    unchanged,
    was_imported,
)
from dotsync.jobs.payloads import insight
from dotsync.jobs.payloads import product as product_payload
from dotsync.jobs.queue import payload_hash
from dotsync.jobs.stream import queue_delete
from dotsync.jobs.streams import CATALOG
from dotsync.models.importer import ImportMode
from dotsync.store.registry import get_adapter

JOB_ID = "catalog"
SPEC_NAME = "catalog_sync"
TABLE = CATALOG.table


@dataclass
class Target:
    """One catalogue collection in one website's account."""

    ctx: WebsiteContext
    collection: str
    domain: str | None
    batch: Batch


def targets(
    result: JobResult, website_code: str | None = None, run: RunContext | None = None
) -> list[Target]:
    """Every (account, collection) the catalogue goes to (see the module docstring).

    ``run`` is the run's websites (resolved for ``website_code`` when not given).
    """
    out: list[Target] = []
    accounts: set[object] = set()  # account keys already targeted
    run = run or RunContext.resolve(website_code)
    for ctx in run.websites_where(CATALOG.toggle):
        website, cfg = ctx.website, ctx.cfg
        problems = cfg.problems()
        if problems:
            result.errors.extend(problems)
            continue
        if cfg.catalog_level == "store":
            places = [
                (product_payload.collection_name(website.code, s.code), s.site.domain if s.site else None)
                for s in ctx.stores.values()
            ]
        else:
            if account_key(cfg) in accounts:
                continue
            accounts.add(account_key(cfg))
            store = ctx.store()
            places = [
                (product_payload.DEFAULT_COLLECTION, store.site.domain if store and store.site else None)
            ]
        for collection, domain in places:
            batch = insight_batch(
                ctx,
                result=result,
                table=TABLE,
                collection=collection,
                collection_type=CATALOG.collection.type,
                scope=CATALOG.collection.scope,
                records_key="catalog",
                exclusive=False,  # a product's row rides in every target's batch
            )
            out.append(Target(ctx, collection, domain, batch))
    return out


@dataclass(frozen=True)
class CatalogJob(Job):
    """The catalogue job: one product row rides in every target's batch (see the module docstring)."""

    def run(self, ctx: RunContext) -> JobResult:
        """Queue catalogue imports for every target of the context's websites."""
        return _sync(self.id, ctx)


JOB = CatalogJob(
    JOB_ID,
    SPEC_NAME,
    "Products to Catalog_Default or one catalogue collection per store.",
    JobScope.STORE,
    default_frequency=15,
    toggle=CATALOG.toggle,
    shared_rows=True,
)


def run(website_code: str | None = None) -> JobResult:
    """Queue catalogue imports for every target (see the module docstring).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``deletes``. Row outcomes are counted under the first target's website.
    """
    return JOB(website_code)


def _sync(job_id: str, run: RunContext) -> JobResult:
    result = JobResult(job_id)
    tgts = targets(result, run=run)
    if not tgts:
        return result
    adapter = get_adapter()
    first = tgts[0].ctx
    page_size = min(t.ctx.cfg.batch("page") for t in tgts)
    assert CATALOG.read is not None and CATALOG.build is not None and CATALOG.gone is not None
    for page in iter_pending(CATALOG.model, website_id=None, page_size=page_size):
        outcomes = Outcomes(CATALOG.model)
        page = hold_in_flight(page, outcomes)
        records = {p.id: p for p in CATALOG.read(adapter, [row.product_id for row in page])}
        for row in page:
            rec = records.get(row.product_id)
            reason = CATALOG.gone(rec, first.cfg)
            if rec is None or reason:
                _retire(tgts, outcomes, result, row, reason)
                continue
            per_target = [CATALOG.build(rec, domain=t.domain) for t in tgts]
            problem = insight.problem(per_target[0]["json"])
            if problem:
                outcomes.fail(row.pk, f"the platform would reject this record: {problem}")
                continue
            hash_ = payload_hash(
                {t.collection + "@" + t.ctx.code: r for t, r in zip(tgts, per_target, strict=True)}
            )
            if unchanged(row, hash_):
                outcomes.unchanged.append(row.pk)
                continue
            sizes = [insight.size(r) for r in per_target]
            if any(t.batch.too_big(n) for t, n in zip(tgts, sizes, strict=True)):
                outcomes.fail(row.pk, f"record is {max(sizes)} bytes, over the batch byte limit")
                continue
            for t, record, size in zip(tgts, per_target, sizes, strict=True):
                t.batch.add(row.pk, hash_, record, size)
        outcomes.apply(result, first.code)
        del page, records, outcomes  # freed before the next page is read: one page in memory
    for t in tgts:
        t.batch.flush()
    return result


def _retire(tgts: list[Target], outcomes: Outcomes, result: JobResult, row: Any, reason: str) -> None:
    """Delete a product from every target if it was imported, else skip it."""
    if not was_imported(row):
        outcomes.skip(row.pk, reason)
        return
    key = CATALOG.key(row, None)
    payloads = [CATALOG.delete_payload(key, None, collection=t.collection) for t in tgts]
    hash_ = payload_hash(payloads)
    if unchanged(row, hash_):
        outcomes.unchanged.append(row.pk)
        return
    for i, (t, payload) in enumerate(zip(tgts, payloads, strict=True)):
        if i == 0:  # the first delete carries the row; its hash covers every target's delete
            single(
                website_id=t.ctx.website.pk,
                import_type=t.collection,
                import_mode=ImportMode.SINGLE_DELETE,
                table=TABLE,
                pk=row.pk,
                payload=payload,
                hash_=hash_,
            )
        else:
            queue_delete(CATALOG, t.ctx.website.pk, key=key, email=None, collection=t.collection)
        result.add(t.ctx.code, "deletes")
