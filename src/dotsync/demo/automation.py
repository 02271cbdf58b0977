"""The demo's automation: campaigns and programmes configured per store, time let pass, what was sent.

After the first ``sync all`` the demo (:func:`run_automation`):

1. **Configures** each website's stores (``email_store_config`` overrides) with the campaigns and
   programmes of its sandbox account: the abandoned-cart series 1-3 for customers on the
   ``Abandoned basket reminder`` campaign, review requests on ``Order follow-up`` (``complete``
   orders, one day later), and every enrolment programme (``programme_<name>_id``) on the
   ``Welcome program``.
2. **Makes store activity:** :data:`BASKETS` customers per website leave a basket, and
   :data:`REVIEW_ORDERS` orders per website are completed; on the platform one contact per website
   is suppressed and another is suppressed and then resubscribed, so the feeds carry both ways.
3. **Lets time pass** without waiting (:func:`let_time_pass`): every date-time column the automation
   jobs compare with the clock (the Oscar baskets and order statuses, ``email_quote``,
   ``email_abandoned_cart``, ``email_campaign``, ``email_automation`` and the automation windows) is
   moved back by the same amount, which is what the clock moving forward would do. Each step
   (20 minutes, 1 hour, 1 hour, 1 day) is followed by a ``sync all`` (every registered job).
4. **Runs every job again** right after: that pass sends nothing (``second_pass``: the sandbox's
   deliveries do not grow, nothing new is queued, and no call writes).

Enrolments: the ``automation`` job (programme enrolment) runs inside ``sync all`` once it is
registered; the demo reports the ``email_automation`` rows per programme and what the sandbox
enrolled, whatever is there.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import F

from dotsync.config import AUDIENCES, PROGRAMMES
from dotsync.install.sandbox_accounts import SandboxAccount
from dotsync.models import Contact, Quote, Store, StoreConfig, Website
from dotsync.models.automation import (
    AbandonedCart,
    Automation,
    AutomationWindow,
    Campaign,
    CampaignEvent,
    CampaignSendStatus,
)

BASKETS = 4
"""Customers per website who leave a basket (at most the campaigns job's 10 sends per run)."""
REVIEW_ORDERS = 3
"""Orders per website completed, then asked for a review a day later."""
CART_CAMPAIGN = "Abandoned basket reminder"
REVIEW_CAMPAIGN = "Order follow-up"
PROGRAMME = "Welcome program"
"""The sandbox's seeded campaigns and programme the demo configures (by name)."""

STEPS: tuple[tuple[str, timedelta], ...] = (
    ("20 minutes later: series step 1", timedelta(minutes=20)),
    ("1 hour later: series step 2", timedelta(hours=1)),
    ("1 hour later: series step 3", timedelta(hours=1)),
    ("1 day later: review requests", timedelta(days=1)),
)
"""How much time the demo lets pass before each ``sync all``, and why."""

SENT = (CampaignSendStatus.PROCESSING, CampaignSendStatus.SENT)
"""Campaign rows whose send reached the platform."""


@dataclass
class WebsitePlan:
    """What the demo set up for one website."""

    account: str
    cart_campaign: int
    review_campaign: int
    programme: int | None
    suppressed: list[str] = field(default_factory=list)
    resubscribed: list[str] = field(default_factory=list)


def _clock_columns() -> list[tuple[type[models.Model], list[str]]]:
    """Every date-time column the automation jobs compare with the clock, per model."""
    from oscar.core.loading import get_model

    wanted: list[type[models.Model]] = [
        Quote,
        AbandonedCart,
        Campaign,
        Automation,
        AutomationWindow,
        get_model("basket", "Basket"),
        get_model("basket", "Line"),
        get_model("order", "Order"),
        get_model("order", "OrderStatusChange"),
    ]
    out = []
    for model in wanted:
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
        out.append((model, names))
    return out


def let_time_pass(delta: timedelta) -> None:
    """Move every clock-compared date-time column back by ``delta`` (the clock moving forward).

    One ``UPDATE`` per table, in one transaction (an empty column stays empty: NULL minus an interval
    is NULL). ``update()`` does not touch ``auto_now`` columns or fire signals.
    """
    with transaction.atomic():
        for model, names in _clock_columns():
            model._default_manager.update(**{name: F(name) - delta for name in names})


def _by_name(items: Iterable[dict[str, Any]], name: str) -> int | None:
    for item in items:
        if str(item.get("name", "")) == name:
            return int(item["id"])
    return None


def configure(
    sandbox_url: str, accounts: dict[str, SandboxAccount], password: Callable[[str], str]
) -> dict[str, WebsitePlan]:
    """Name each account's campaigns and programme in its website's stores' settings.

    Raises:
        PlatformError: the sandbox account has none of the campaigns the demo needs.
    """
    from dotsync.demo.platform import PlatformError
    from dotsync.platform.dotdigital import DotdigitalClient

    plans: dict[str, WebsitePlan] = {}
    for code, account in accounts.items():
        with DotdigitalClient(account.username, password(code), base_url=sandbox_url) as client:
            campaigns = client.list_campaigns()
            programmes = client.list_programs()
        cart, review = _by_name(campaigns, CART_CAMPAIGN), _by_name(campaigns, REVIEW_CAMPAIGN)
        if cart is None or review is None:
            raise PlatformError(f"the sandbox account {account.username} has no {CART_CAMPAIGN!r} campaign")
        plan = WebsitePlan(account.username, cart, review, _by_name(programmes, PROGRAMME))
        overrides: dict[str, Any] = {
            "ac_allow_non_subscribers": True,
            "review_enabled": True,
            "review_order_status": "complete",
            "review_delay_days": 1,
            "review_campaign_id": review,
            "review_allow_non_subscribers": True,
        }
        for audience in AUDIENCES:
            for step, after in ((1, 15), (2, 1), (3, 2)):  # minutes for step 1, hours for 2 and 3
                overrides[f"ac_{audience}_enabled_{step}"] = True
                overrides[f"ac_{audience}_send_after_{step}"] = after
                overrides[f"ac_{audience}_campaign_{step}"] = cart
        if plan.programme is not None:
            overrides.update({f"programme_{name}_id": plan.programme for name in PROGRAMMES})
        for store in Store.objects.filter(website__code=code):
            StoreConfig.objects.update_or_create(store=store, defaults={"overrides": overrides})
        plans[code] = plan
    return plans


def _product() -> Any:
    """The first product with a price (the seeded catalogue's)."""
    from oscar.core.loading import get_model

    return (
        get_model("catalogue", "Product")
        ._default_manager.filter(stockrecords__isnull=False)
        .order_by("id")
        .first()
    )


def _customers(code: str, count: int, skip: set[str], *, subscribers: bool = False) -> list[Contact]:
    """Customers of one website only, not suppressed (subscribers, if asked), by email (deterministic)."""
    others = Contact.objects.exclude(website__code=code).values("email")
    mine = Contact.objects.filter(website__code=code, suppressed=False)
    if subscribers:
        mine = mine.filter(is_subscriber=True)
    rows = mine.exclude(customer_id=None).exclude(email__in=others).exclude(email__in=skip).order_by("email")
    return list(rows[:count])


def store_activity(plans: dict[str, WebsitePlan], control: Any) -> dict[str, dict[str, int]]:
    """Leave baskets, complete orders, and suppress / resubscribe contacts on the platform.

    Returns:
        Website code -> ``baskets`` and ``completed_orders`` made.
    """
    from dotsync.demo import shop

    product = _product()
    made: dict[str, dict[str, int]] = {}
    used: set[str] = set()
    User = shop.user_model()
    for website in Website.objects.order_by("id"):
        code = website.code
        store = Store.objects.filter(website=website).order_by("id").first()
        if code not in plans or store is None:
            continue
        platform_people = _customers(code, 2, used, subscribers=True)
        used.update(p.email for p in platform_people)
        people = _customers(code, BASKETS + REVIEW_ORDERS, used)
        used.update(p.email for p in people)
        orders = min(REVIEW_ORDERS, len(people) // 2)  # a small shop: both kinds still
        order_people, basket_people = people[:orders], people[orders:]
        for contact in basket_people:
            shop.make_basket(User.objects.get(pk=contact.customer_id), [(product, 1)], store)
        for contact in order_people:
            order = shop.place_order(User.objects.get(pk=contact.customer_id), [(product, 1)], store)
            shop.set_order_status(order, "complete")
        plan = plans[code]
        if len(platform_people) == 2:
            gone, back = (p.email for p in platform_people)
            control.suppress(gone, account=plan.account)
            control.suppress(back, account=plan.account)
            plan.suppressed, plan.resubscribed = [gone, back], [back]
        made[code] = {"baskets": len(basket_people), "completed_orders": len(order_people)}
    return made


def resubscribe(plans: dict[str, WebsitePlan], control: Any) -> None:
    """Resubscribe on the platform the contact of each website meant to come back."""
    for plan in plans.values():
        for email in plan.resubscribed:
            control.resubscribe(email, plan.account)


def report(
    plans: dict[str, WebsitePlan],
    control: Any,
    passes: list[dict[str, Any]],
    second: dict[str, Any],
    made: dict[str, dict[str, int]],
    delivered_before: dict[str, int],
) -> dict[str, dict[str, Any]]:
    """Per website: cart sends per step, review requests, enrolments, suppressions both ways.

    Args:
        plans: what :func:`configure` and :func:`store_activity` set up.
        control: the sandbox control client.
        passes: the ``sync all`` summaries of the automation passes.
        second: the summary of the pass run right after them (nothing new is sent).
        made: :func:`store_activity`'s counts.
        delivered_before: website code -> the sandbox's deliveries before the second pass.
    """
    out: dict[str, dict[str, Any]] = {}
    for code, plan in plans.items():
        rows = Campaign.objects.filter(website__code=code, send_status__in=SENT)
        steps = Counter(rows.filter(event_name=CampaignEvent.LOST_BASKET).values_list("step", flat=True))
        deliveries = control.deliveries(plan.account)
        enrolled = control.account(plan.account).get("enrolments", [])
        programmes = Counter(
            Automation.objects.filter(website__code=code).values_list("automation_type", flat=True)
        )
        statuses = Counter(
            Automation.objects.filter(website__code=code).values_list("enrolment_status", flat=True)
        )
        contacts = {c.email: c for c in Contact.objects.filter(website__code=code, email__in=plan.suppressed)}
        out[code] = {
            "account": plan.account,
            "activity": made.get(code, {}),
            "abandoned_cart_sends": {f"step{n}": steps.get(n, 0) for n in (1, 2, 3)},
            "review_requests": rows.filter(event_name=CampaignEvent.ORDER_REVIEW).count(),
            "platform_deliveries": {
                "abandoned_cart": sum(n for (cid, _e), n in deliveries.items() if cid == plan.cart_campaign),
                "review": sum(n for (cid, _e), n in deliveries.items() if cid == plan.review_campaign),
            },
            "enrolments": {
                "rows_by_programme": dict(sorted(programmes.items())),
                "rows_by_status": dict(sorted(statuses.items())),
                "platform": len(enrolled),
            },
            "suppressions": {
                "carried_in": _job_total(passes, "unsubscriber", code, "unsubscribed"),
                "resubscribed": _job_total(passes, "resubscriber", code, "subscriptions_restored")
                + _job_total(passes, "resubscriber", code, "suppressions_lifted"),
                "unsubscribed_now": sorted(e for e in plan.suppressed if e not in plan.resubscribed),
                "subscribed_again": sorted(
                    e for e in plan.resubscribed if e in contacts and not contacts[e].suppressed
                ),
            },
            "second_pass": {
                "deliveries": sum(deliveries.values()) - delivered_before.get(code, 0),
                "queued": sum(_job_total([second], "abandoned_carts", code, f"step{n}") for n in (1, 2, 3))
                + _job_total([second], "review_requests", code, "review_requests"),
            },
        }
    return out


def _job_total(summaries: list[dict[str, Any]], job: str, code: str, key: str) -> int:
    return sum(
        int(s.get("jobs", {}).get(job, {}).get("counts", {}).get(code, {}).get(key, 0)) for s in summaries
    )


def wait_for_sends(control: Any, say: Callable[[str], None]) -> None:
    """Wait out the sandbox's sending time, so the final pass finds the last step's sends finished.

    The sandbox reports a campaign send (and an enrolment) ``Sending`` for its ``import_delay`` after the
    request. The last step's pass requests sends near its end; without this wait the final pass could
    poll them within that time on a fast machine and leave them ``processing`` in the summary, so two
    demos with one seed would not agree. The platform gives no event to wait on: this is its own rule.
    """
    delay = float(control.faults().get("import_delay") or 0.0)
    if delay > 0:
        say(f"Waiting {delay:g} s for the platform to finish the last sends")
        time.sleep(delay)


def run_automation(
    sandbox: Any,
    accounts: dict[str, SandboxAccount],
    password: Callable[[str], str],
    sync: Callable[[], dict[str, Any]],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Configure, make activity, let time pass with a ``sync all`` after each step, sync again, report.

    Returns:
        ``websites`` (website code -> :func:`report`), ``second_pass`` (``api_writes``, ``api_reads``
        of the pass run right after), ``passes`` (``sync all`` passes run), ``pass_seconds`` (each
        one's time) and ``clock_moved_hours``.
    """
    plans = configure(sandbox.url, accounts, password)
    made = store_activity(plans, sandbox.control)
    # the baskets' and orders' rows are synced (their times recorded) before any time passes; the
    # unsubscriber carries both suppressions, then one contact comes back
    passes = [sync()]
    resubscribe(plans, sandbox.control)
    for label, delta in STEPS:
        say(f"Letting time pass ({label}), then `sync all`")
        let_time_pass(delta)
        passes.append(sync())
    wait_for_sends(sandbox.control, say)
    say("Running every job again at once (nothing new is sent)")
    before = {code: sum(sandbox.control.deliveries(p.account).values()) for code, p in plans.items()}
    second = sync()
    return {
        "websites": report(plans, sandbox.control, passes, second, made, before),
        "second_pass": {
            "api_writes": second.get("api_writes", 0),
            "api_reads": second.get("api_reads", 0),
            "errors": second.get("errors", []),
        },
        "passes": len(passes) + 1,
        "pass_seconds": [round(float(p.get("elapsed_seconds", 0.0)), 2) for p in [*passes, second]],
        "clock_moved_hours": round(sum((d for _l, d in STEPS), timedelta()).total_seconds() / 3600, 2),
    }
