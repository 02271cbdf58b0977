"""``review_requests``: one ``Order Review`` campaign row per qualifying order (reference §2.7 reminders).

Per store, from its settings (store > website > defaults: ``review_enabled``, ``review_order_status``,
``review_delay_days``, ``review_campaign_id``, ``review_allow_non_subscribers``). An order qualifies once
``review_delay_days`` have passed since it **reached** the configured status (the latest change to it in
the order's status history, Oscar's ``OrderStatusChange``), falling back to ``date_placed`` when the
history has none. The reference counts from the order date, so orders shipped late miss their window.

Each pass covers the moments of qualifying ``(start, end]``, ``start`` where the last successful pass
ended (:mod:`.windows`), so late or stacked runs neither skip nor repeat an order; a unique key on
(website, order number) for ``Order Review`` rows means no order is ever asked twice. The rows are queued
with send status pending: the ``campaigns`` job sends them.

Not built yet: exclusion rules (issue 11 §8).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import StoreSettings, get_store_config
from dotsync.jobs.automation.windows import Window, open_window
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.models import Campaign, CampaignEvent, Contact, Order, Store
from dotsync.models.automation import CampaignSendStatus
from dotsync.models.sync import canonical_email
from dotsync.store import records
from dotsync.store.registry import get_adapter

logger = logging.getLogger(__name__)

JOB_ID = "review_requests"
FIRST_WINDOW = timedelta(hours=2)
"""The very first pass of a store looks back this far (the reference's 2 hours), later ones follow on."""
PAGE = 200
"""Orders read from the store per query."""


def reached_at(order: records.Order, status: str) -> datetime:
    """When ``order`` last reached ``status``: its latest status change to it, else when it was placed."""
    changes = [c.at for c in order.status_history if c.new_status == status]
    return max(changes) if changes else order.placed_at


class ReviewRequestsJob(Job):
    """Queue review requests (see the module docstring)."""

    def run(self, ctx: RunContext) -> JobResult:
        """One pass over every store of the context's valid websites."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        now = timezone.now()
        for wctx in ctx.websites:
            for store in wctx.stores.values():
                scfg = get_store_config(store, wctx.cfg)
                if scfg.row_problems:
                    result.errors.extend(scfg.row_problems)
                    continue
                if not scfg.values["review_enabled"] or scfg.values["review_campaign_id"] is None:
                    continue
                try:
                    with transaction.atomic():
                        _store_pass(self.id, wctx, store, scfg, now, result)
                except Exception as exc:  # rolled back: the window stays for the next run
                    logger.exception("review_requests: store %s failed", store.code)
                    result.errors.append(f"store {store.code}: {type(exc).__name__}: {exc}")
        return result


def _store_pass(
    job_id: str, wctx: WebsiteContext, store: Store, scfg: StoreSettings, now: datetime, result: JobResult
) -> None:
    status = str(scfg.values["review_order_status"])
    delay = timedelta(days=int(scfg.values["review_delay_days"]))
    window = open_window(job_id, store, "orders", now, first=FIRST_WINDOW)
    # an order qualifying in the window reached its status after window.start - delay, and its row was
    # written then or later (order_updated_at is the time of its latest change)
    qs = Order.objects.filter(
        store=store, order_status=status, order_updated_at__gt=window.start - delay
    ).order_by("email_order_id")
    adapter = get_adapter()
    last = 0
    while True:
        page = list(qs.filter(email_order_id__gt=last)[:PAGE])
        if not page:
            break
        last = page[-1].email_order_id
        orders = {o.id: o for o in adapter.orders([row.order_id for row in page])}
        due = [
            (row, orders[row.order_id])
            for row in page
            if row.order_id in orders
            and orders[row.order_id].status == status
            and window.contains(reached_at(orders[row.order_id], status) + delay)
        ]
        _queue(wctx, store, scfg, window, due, result)
    window.close()


def _queue(
    wctx: WebsiteContext,
    store: Store,
    scfg: StoreSettings,
    window: Window,
    due: list[tuple[Order, records.Order]],
    result: JobResult,
) -> None:
    emails = {canonical_email(o.email) for _, o in due if o.email}
    if not scfg.values["review_allow_non_subscribers"] and emails:
        emails = set(
            Contact.objects.filter(
                website_id=wctx.website.pk, email__in=emails, is_subscriber=True
            ).values_list("email", flat=True)
        )
    rows = []
    for row, order in due:
        if not order.email or canonical_email(order.email) not in emails:
            result.add(wctx.code, "not_subscribed")
            continue
        rows.append(
            Campaign(
                campaign_id=scfg.values["review_campaign_id"],
                email=order.email,
                customer_id=order.customer_id,
                order_increment_id=order.number,
                quote_id=row.quote_id,
                website_id=wctx.website.pk,
                store=store,
                event_name=CampaignEvent.ORDER_REVIEW,
                message="Order Review",
                send_status=CampaignSendStatus.PENDING,
                created_at=window.end,
                updated_at=window.end,
            )
        )
    if not rows:
        return
    before = Campaign.objects.filter(
        website_id=wctx.website.pk,
        event_name=CampaignEvent.ORDER_REVIEW,
        order_increment_id__in=[r.order_increment_id for r in rows],
    ).count()
    Campaign.objects.bulk_create(rows, ignore_conflicts=True)  # (website, order number): never twice
    after = Campaign.objects.filter(
        website_id=wctx.website.pk,
        event_name=CampaignEvent.ORDER_REVIEW,
        order_increment_id__in=[r.order_increment_id for r in rows],
    ).count()
    result.add(wctx.code, "review_requests", after - before)


JOB = ReviewRequestsJob(
    id=JOB_ID,
    spec_name="review_reminder",
    summary="review requests: one Order Review campaign row per order, after the delay from its status",
    scope=JobScope.WEBSITE,
    default_frequency=15,
)


def run(website_code: str | None = None) -> JobResult:
    """Run the review requests once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
