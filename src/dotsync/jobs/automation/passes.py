"""The loops the automation jobs share: per website with an account, per store with valid settings.

:func:`run_per_website` is the outer loop of the jobs that call the platform (campaign sends,
enrolments, PendingOptIn checks): one website at a time, a transient platform error stops that website's
run only (counted ``interrupted``, the rows stay for the next run), any other error propagates.
:func:`valid_stores` is the outer loop of the jobs that queue rows per store (abandoned carts, review
requests): a store whose settings rows are invalid is reported and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import StoreSettings, get_store_config
from dotsync.exceptions import PlatformError
from dotsync.jobs.base import JobResult
from dotsync.models import Store
from dotsync.platform.dotdigital import DotdigitalClient

WebsiteRun = Callable[[WebsiteContext, DotdigitalClient, JobResult], None]
"""One website's run: its context, its account's client, the result to count into."""


def run_per_website(job_id: str, ctx: RunContext, label: str, run_website: WebsiteRun) -> JobResult:
    """Run ``run_website`` for every valid website of ``ctx`` that has an account; return the result.

    The result starts with the context's problems. A transient :class:`PlatformError` ends that
    website's run: its message goes to the errors as ``"<code>: <label>: <message>"`` and the website
    counts one ``interrupted``; the other websites still run. A permanent one propagates.
    """
    result = JobResult(job_id)
    result.errors.extend(ctx.problems)
    for site in ctx.websites:
        if site.account is None:
            continue
        try:
            run_website(site, site.account.client(), result)
        except PlatformError as exc:
            if not exc.transient:
                raise
            result.errors.append(f"{site.code}: {label}: {exc.message}")
            result.add(site.code, "interrupted")
    return result


def valid_stores(ctx: RunContext, result: JobResult) -> Iterator[tuple[WebsiteContext, Store, StoreSettings]]:
    """Every store of ``ctx``'s valid websites, with its settings.

    A store whose settings rows are invalid is skipped, its problems added to ``result.errors``.
    """
    for wctx in ctx.websites:
        for store in wctx.stores.values():
            scfg = get_store_config(store, wctx.cfg)
            if scfg.row_problems:
                result.errors.extend(scfg.row_problems)
                continue
            yield wctx, store, scfg
