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

Exclusion rules (``email_rules`` of type review, :mod:`.rules`): an excluded order gets no request; its
``email_rule_exclusion`` row says which rule and why.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import StoreSettings
from dotsync.jobs.automation.passes import valid_stores
from dotsync.jobs.automation.rules import RuleSet
from dotsync.jobs.automation.windows import Window, idle, open_window
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.models import Campaign, CampaignEvent, Contact, Order, Store
from dotsync.models.automation import CampaignSendStatus
from dotsync.models.rules import RuleType
from dotsync.models.sync import canonical_email
from dotsync.store.registry import get_adapter

logger = logging.getLogger(__name__)

JOB_ID = "review_requests"
FIRST_WINDOW = timedelta(hours=2)
"""The very first pass of a store looks back this far (the reference's 2 hours), later ones follow on."""
WINDOW_KEY = "orders"
PAGE = 500
"""``email_order`` rows read per query."""


class ReviewRequestsJob(Job):
    """Queue review requests (see the module docstring)."""

    def run(self, ctx: RunContext) -> JobResult:
        """One pass over every store of the context's valid websites."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        now = timezone.now()
        for wctx, store, scfg in valid_stores(ctx, result):
            if not scfg.values["review_enabled"] or scfg.values["review_campaign_id"] is None:
                idle(self.id, store, WINDOW_KEY, now)  # switched on again later: from then on
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
    window = open_window(job_id, store, WINDOW_KEY, now, first=FIRST_WINDOW)
    # orders qualify when reached_at + delay falls in the window: the store finds those that reached
    # the status in the window moved back by the delay (its status history, two aggregate queries)
    reached = dict(get_adapter().orders_reaching_status(status, window.start - delay, window.end - delay))
    ids = sorted(reached)
    for i in range(0, len(ids), PAGE):
        rows = list(Order.objects.filter(store=store, order_id__in=ids[i : i + PAGE]).order_by("order_id"))
        _queue(wctx, store, scfg, window, rows, result)
    window.close()


def _queue(
    wctx: WebsiteContext,
    store: Store,
    scfg: StoreSettings,
    window: Window,
    due: list[Order],
    result: JobResult,
) -> None:
    emails = {canonical_email(o.email) for o in due if o.email}
    if not scfg.values["review_allow_non_subscribers"] and emails:
        emails = set(
            Contact.objects.filter(
                website_id=wctx.website.pk, email__in=emails, is_subscriber=True
            ).values_list("email", flat=True)
        )
    rules = RuleSet(RuleType.REVIEW, wctx.website.pk, get_adapter())
    records = {r.id: r for r in rules.adapter.orders([o.order_id for o in due])} if rules and due else {}
    rows = []
    for order in due:
        if not order.email or canonical_email(order.email) not in emails:
            result.add(wctx.code, "not_subscribed")
            continue
        record = records.get(order.order_id)
        verdict = rules.excluded(rules.order(record)) if record is not None else None
        if verdict is not None:  # no request: the exclusion row says which rule and why
            rules.record(verdict, store_id=store.pk, email=order.email, order_increment_id=order.order_number)
            result.add(wctx.code, "excluded")
            continue
        rows.append(
            Campaign(
                campaign_id=scfg.values["review_campaign_id"],
                email=order.email,
                customer_id=order.customer_id,
                order_increment_id=order.order_number,
                quote_id=order.quote_id,
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
    numbers = [r.order_increment_id for r in rows]
    mine = Campaign.objects.filter(
        website_id=wctx.website.pk, event_name=CampaignEvent.ORDER_REVIEW, order_increment_id__in=numbers
    )
    before = mine.count()
    Campaign.objects.bulk_create(rows, ignore_conflicts=True)  # (website, order number): never twice
    result.add(wctx.code, "review_requests", mine.count() - before)


JOB = ReviewRequestsJob(
    id=JOB_ID,
    spec_name="review_reminder",
    summary="review requests: one Order Review campaign row per order, after the delay from its status",
    scope=JobScope.WEBSITE,
    default_frequency=15,
    after=("unsubscriber", "resubscriber"),
)


def run(website_code: str | None = None) -> JobResult:
    """Run the review requests once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
