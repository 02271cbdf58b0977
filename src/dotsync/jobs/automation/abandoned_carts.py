"""``abandoned_carts``: the abandoned-cart series 1-3, for customers and guests, per store (reference §2.8).

Every 5 minutes by default. Per store and audience (``customers``, ``guests``), in one transaction each:

0. **Closed baskets.** A basket no longer active ends its series (the row stays, ``is_active`` false);
   an ordered one (an ``email_order`` carries it) has its CartInsight sent again with ``ORDER_COMPLETE``.
1. **Later steps.** ``email_abandoned_cart`` rows whose next step is due in this pass's window
   (``next_due_at``, see below) move one step on: the basket must still be active, not empty and hold the
   same items (else the series stops: an ordered or emptied basket's row is deleted, a changed basket
   starts again at step 1 once it has been left alone again), and the contact must be a subscriber
   unless non-subscribers are allowed.
2. **Step 1.** Baskets (``email_quote``) whose last change falls in this pass's window, ``send_after_1``
   minutes ago, active, with items and an email, start a series, or a new one when their items changed
   since the last.

For each basket processed: its CartInsight record is queued (``cartUrl`` its restore link), the contact's
``LAST_QUOTE_ID`` and ``ABANDONED_PROD_NAME`` data fields are queued as a contact update (the only path that
can create the contact on the platform, and only for a basket with items), and when the step is on with a
campaign id, an ``email_campaign`` row (``Lost Basket``, send status pending) is queued for the
``campaigns`` job to send, unless a Lost Basket send to the email was queued or sent within the cart limit.

Better than the reference:

* each pass's window starts where the last successful pass's ended (:mod:`.windows`), so stacked or late
  runs neither send twice nor skip a basket;
* ``email_campaign`` has a unique key on (basket, series, step) for Lost Basket rows: a second row for the
  same basket and step cannot exist;
* a step is never queued in the same pass as the one before it: a row moved on gets a ``next_due_at``
  after this pass's window (steps 2 and 3 count from the basket's last change, as the reference's do, but
  when step 3's delay is not longer than step 2's it comes one pass later rather than never);
* an empty basket never creates a contact.

With ``ac_program_id`` set, a store also queues the programme-enrolment variant: one
``abandoned_cart_automation`` row in ``email_automation`` per basket (:func:`_program_pass`), for the
``automation`` job to enrol.

PendingOptIn: a contact whose subscription awaits confirmation in the store (double opt-in) has its basket
wait as ``PendingOptIn`` (:meth:`_Pass.opted_in`); the store's confirmation starts the series, 24 hours
without one expire it. The platform's own opt-in state is not read (the ``pending_contacts`` job's part).

Exclusion rules (``email_rules`` of type abandoned cart, :mod:`.rules`): an excluded basket gets no step (and
no CartInsight, data fields or campaign row); its ``email_rule_exclusion`` row says which rule and why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import AUDIENCES, CART_STEPS, StoreSettings
from dotsync.jobs.automation.passes import valid_stores
from dotsync.jobs.automation.rules import RuleSet
from dotsync.jobs.automation.windows import idle, open_window
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.jobs.payloads import cart_insight
from dotsync.jobs.queue import enqueue_single
from dotsync.jobs.status_lines import TableReport
from dotsync.models import (
    AbandonedCart,
    Automation,
    Campaign,
    CampaignEvent,
    CartStatus,
    Contact,
    Order,
    Quote,
    Store,
)
from dotsync.models.automation import CampaignSendStatus
from dotsync.models.importer import ImportMode
from dotsync.models.newsletter import SubscriberStatus
from dotsync.models.rules import RuleType
from dotsync.models.sync import canonical_email
from dotsync.store import records
from dotsync.store.registry import get_adapter

logger = logging.getLogger(__name__)

JOB_ID = "abandoned_carts"
FIRST_WINDOW = timedelta(minutes=5)
"""The very first pass of a store looks back this far (the reference's interval), later ones follow on."""
PAGE = 500
"""Baskets read from the store per query."""
_TICK = timedelta(microseconds=1)
OPT_IN_EXPIRY = timedelta(hours=24)
"""A basket waiting for its contact's opt-in longer than this expires (the reference's ``expire_time``)."""
AWAITING_CONFIRMATION = (SubscriberStatus.NOT_ACTIVE, SubscriberStatus.UNCONFIRMED)
"""Subscription statuses that mean "subscribed, awaiting confirmation" (double opt-in)."""


def _key(audience: str, phase: str) -> str:
    return f"{phase}:{audience}"


def _items(quote: records.Quote) -> tuple[int, str]:
    """(items count, product ids in basket order) of a basket: the reference's "items changed" inputs."""
    ids = ",".join("" if line.product_id is None else str(line.product_id) for line in quote.lines)
    return len(quote.lines), ids[:255]


class AbandonedCartsJob(Job):
    """Queue the abandoned-cart series (see the module docstring)."""

    def run(self, ctx: RunContext) -> JobResult:
        """One pass over every store of the context's valid websites."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        now = timezone.now()
        for wctx, store, scfg in valid_stores(ctx, result):
            for audience in AUDIENCES:
                if not scfg.cart_series_on(audience):
                    _idle_series(self.id, store, scfg, audience, now)
                    continue
                try:
                    with transaction.atomic():
                        _Pass(self.id, wctx, store, scfg, audience, now, result).run()
                except Exception as exc:  # the pass rolled back; its windows stay for the next run
                    logger.exception("abandoned_carts: store %s (%s) failed", store.code, audience)
                    result.errors.append(f"store {store.code} ({audience}): {type(exc).__name__}: {exc}")
            if scfg.values["ac_program_id"] is None:
                after = timedelta(minutes=int(scfg.values["ac_program_send_after"]))
                idle(self.id, store, "program", now - after)
            else:
                try:
                    with transaction.atomic():
                        _program_pass(self.id, wctx, store, scfg, now, result)
                except Exception as exc:
                    logger.exception("abandoned_carts: store %s (programme) failed", store.code)
                    result.errors.append(f"store {store.code} (programme): {type(exc).__name__}: {exc}")
        return result


def _idle_series(job_id: str, store: Store, scfg: StoreSettings, audience: str, now: datetime) -> None:
    """A series switched off: its windows follow the clock, so switching it on again starts from now."""
    idle(job_id, store, _key(audience, "next"), now)
    idle(job_id, store, _key(audience, "series1"), now - scfg.cart_step(audience, 1).delay)


PROGRAM_TYPE = "abandoned_cart_automation"
"""``email_automation.automation_type`` of the abandoned-cart programme enrolment."""


def _program_pass(
    job_id: str, wctx: WebsiteContext, store: Store, scfg: StoreSettings, now: datetime, result: JobResult
) -> None:
    """The programme variant (reference §2.8 "Programme enrolment"): ``email_automation`` rows to enrol.

    Baskets (customers' and guests') last changed in the window ``ac_program_send_after`` minutes ago,
    active, with items and an email, subscribers only unless non-subscribers are allowed, get one
    ``abandoned_cart_automation`` row (pending; ``type_id`` the basket id) for the ``automation`` job,
    unless one exists for the basket already or for the email in this store within the cart limit, or an
    exclusion rule excludes the basket.
    """
    after = timedelta(minutes=int(scfg.values["ac_program_send_after"]))
    window = open_window(job_id, store, "program", now - after, first=FIRST_WINDOW)
    quotes = list(
        Quote.objects.filter(
            store=store,
            is_active=True,
            item_count__gt=0,
            quote_updated_at__gt=window.start,
            quote_updated_at__lte=window.end,
        )
        .exclude(email="")
        .order_by("id")
    )
    wanted = {canonical_email(q.email) for q in quotes}
    if not scfg.allow_non_subscribers and wanted:
        wanted = set(
            Contact.objects.filter(
                website_id=wctx.website.pk, email__in=wanted, is_subscriber=True
            ).values_list("email", flat=True)
        )
    program = str(scfg.values["ac_program_id"])
    rules = RuleSet(RuleType.ABANDONED_CART, wctx.website.pk, get_adapter())
    baskets = (
        {b.id: b for b in rules.adapter.quotes([q.quote_id for q in quotes])} if rules and quotes else {}
    )
    for quote in quotes:
        email = canonical_email(quote.email)
        if email not in wanted:
            result.add(wctx.code, "not_subscribed")
            continue
        basket = baskets.get(quote.quote_id)
        verdict = rules.excluded(rules.basket(basket, quote.email)) if basket is not None else None
        if verdict is not None:  # the exclusion rules apply to the programme variant too
            rules.record(verdict, store_id=store.pk, email=quote.email, quote_id=quote.quote_id)
            result.add(wctx.code, "excluded")
            continue
        mine = Automation.objects.filter(website_id=wctx.website.pk, automation_type=PROGRAM_TYPE)
        if mine.filter(type_id=str(quote.quote_id)).exists():
            continue
        limit = scfg.cart_limit
        if limit and mine.filter(email=email, store=store, updated_at__gt=now - limit).exists():
            result.add(wctx.code, "cart_limit")
            continue
        Automation.objects.create(
            automation_type=PROGRAM_TYPE,
            store_name=store.name,
            enrolment_status="pending",
            email=email,
            type_id=str(quote.quote_id),
            program_id=program,
            website_id=wctx.website.pk,
            store=store,
            created_at=now,
            updated_at=now,
        )
        result.add(wctx.code, "program_enrolments")
    window.close()


class _Pass:
    """One store's pass for one audience, inside one transaction."""

    def __init__(
        self,
        job_id: str,
        wctx: WebsiteContext,
        store: Store,
        scfg: StoreSettings,
        audience: str,
        now: datetime,
        result: JobResult,
    ) -> None:
        self.job_id = job_id
        self.wctx = wctx
        self.store = store
        self.scfg = scfg
        self.audience = audience
        self.now = now
        self.result = result
        self.guests = audience == "guests"
        self.adapter = get_adapter()
        self.mapping = wctx.cfg.data_field_mapping
        self.rules = RuleSet(RuleType.ABANDONED_CART, wctx.website.pk, self.adapter)

    # --- the two phases ----------------------------------------------------------------------------

    def run(self) -> None:
        """Closed baskets, later steps (moved on now: due after this pass), opt-ins, then step 1."""
        self.closed_baskets()
        self.later_steps()
        self.opted_in()
        self.first_step()

    def opted_in(self) -> None:
        """Baskets waiting for their contact's opt-in: confirmed ones start their series, old ones expire.

        A contact whose subscription awaits confirmation (double opt-in) is the reference's PendingOptIn:
        its basket's row waits (``PendingOptIn``) instead of getting step 1; once the store has the
        subscription confirmed, the next pass takes the row as ``Confirmed`` through step 1. A row still
        waiting after :data:`OPT_IN_EXPIRY` is ``Expired``.
        """
        rows = list(
            AbandonedCart.objects.filter(
                store=self.store, status=CartStatus.PENDING_OPT_IN, customer_id__isnull=self.guests
            ).order_by("id")
        )
        if not rows:
            return
        quotes = {q.quote_id: q for q in Quote.objects.filter(quote_id__in=[r.quote_id for r in rows])}
        baskets = self._baskets(quotes)
        subscribed = self._subscribed(r.email for r in rows)
        for row in rows:
            quote = quotes.get(row.quote_id or 0)
            if not self._may_mail(row.email, subscribed):
                if row.created_at <= self.now - OPT_IN_EXPIRY:
                    row.status = CartStatus.EXPIRED
                    row.updated_at = self.now
                    row.save(update_fields=["status", "updated_at"])
                    self.result.add(self.wctx.code, "opt_in_expired")
                continue
            if quote is None or not quote.is_active or quote.item_count <= 0:
                row.delete()
                continue
            row.status = CartStatus.CONFIRMED
            self._first(quote, baskets.get(row.quote_id or 0), row, subscribed, set())

    def closed_baskets(self) -> None:
        """Stop the series of baskets no longer active; an ordered one's CartInsight goes as ORDER_COMPLETE.

        A basket is ordered when an order carries it (``email_order.quote_id``); a merged or deleted one
        just stops.
        """
        inactive = Quote.objects.filter(store=self.store, is_active=False).values("quote_id")
        rows = list(
            AbandonedCart.objects.filter(
                store=self.store, is_active=True, customer_id__isnull=self.guests, quote_id__in=inactive
            )
        )
        if not rows:
            return
        ids = [r.quote_id for r in rows if r.quote_id]
        quotes = {q.quote_id: q for q in Quote.objects.filter(quote_id__in=ids)}
        ordered = set(Order.objects.filter(quote_id__in=ids).values_list("quote_id", flat=True))
        baskets = self._baskets(quotes)
        for row in rows:
            basket = baskets.get(row.quote_id or 0)
            if row.quote_id in ordered and basket is not None and basket.lines:
                self._queue_cart_insight(row.email, basket, cart_insight.ORDER_COMPLETE)
                self.result.add(self.wctx.code, "ordered")
            row.is_active = False
            row.next_due_at = None
            row.updated_at = self.now
            row.save(update_fields=["is_active", "next_due_at", "updated_at"])

    def later_steps(self) -> None:
        """Move each row whose next step is due in this pass's window one step on."""
        window = open_window(
            self.job_id, self.store, _key(self.audience, "next"), self.now, first=FIRST_WINDOW
        )
        rows = list(
            AbandonedCart.objects.filter(
                store=self.store,
                status=CartStatus.SENT,
                abandoned_cart_number__in=CART_STEPS[:-1],
                customer_id__isnull=self.guests,
                next_due_at__gt=window.start,
                next_due_at__lte=window.end,
            ).order_by("next_due_at", "id")
        )
        quotes = {q.quote_id: q for q in Quote.objects.filter(quote_id__in=[r.quote_id for r in rows])}
        baskets = self._baskets(quotes)
        subscribed = self._subscribed(r.email for r in rows)
        for row in rows:
            self._next_step(row, quotes.get(row.quote_id or 0), baskets.get(row.quote_id or 0), subscribed)
        window.close()

    def first_step(self) -> None:
        """Start (or restart) the series of each basket last changed in this pass's step-1 window."""
        step = self.scfg.cart_step(self.audience, 1)
        window = open_window(
            self.job_id, self.store, _key(self.audience, "series1"), self.now - step.delay, first=FIRST_WINDOW
        )
        qs = (
            Quote.objects.filter(
                store=self.store,
                is_active=True,
                item_count__gt=0,
                customer_id__isnull=self.guests,
                quote_updated_at__gt=window.start,
                quote_updated_at__lte=window.end,
            )
            .exclude(email="")
            .order_by("id")
        )
        last = 0
        while True:
            page = list(qs.filter(id__gt=last)[:PAGE])
            if not page:
                break
            last = page[-1].id
            quotes = {q.quote_id: q for q in page}
            baskets = self._baskets(quotes)
            subscribed = self._subscribed(q.email for q in page)
            awaiting = self._awaiting_opt_in(q.email for q in page)
            existing = {r.quote_id: r for r in AbandonedCart.objects.filter(quote_id__in=list(quotes))}
            for quote in page:
                row = existing.get(quote.quote_id)
                self._first(quote, baskets.get(quote.quote_id), row, subscribed, awaiting)
        window.close()

    # --- one basket --------------------------------------------------------------------------------

    def _first(
        self,
        quote: Quote,
        basket: records.Quote | None,
        row: AbandonedCart | None,
        subscribed: set[str],
        awaiting: set[str],
    ) -> None:
        if basket is None or not basket.lines:  # an empty basket never creates a contact
            return
        if self._excluded(quote, basket):
            return
        if not self._may_mail(quote.email, subscribed):
            if canonical_email(quote.email) in awaiting:
                self._await_opt_in(quote, basket, row)
            else:
                self.result.add(self.wctx.code, "not_subscribed")
            return
        count, ids = _items(basket)
        if (
            row is not None
            and row.status != CartStatus.CONFIRMED
            and (count, ids)
            == (
                row.items_count,
                row.items_ids,
            )
        ):
            self.result.add(self.wctx.code, "unchanged")
            return  # already in its series
        if row is None:
            row = AbandonedCart(
                quote_id=quote.quote_id, website_id=self.wctx.website.pk, store=self.store, series=1
            )
        elif row.abandoned_cart_number > 0:
            row.series += 1  # the items changed: a new series (the reference sends step 1 again)
        row.customer_id = quote.customer_id
        row.email = quote.email
        row.is_active = True
        self._sent(row, quote, count, ids, 1)
        self._touch_contact(quote, basket)
        self._queue_campaign(row, 1)

    def _await_opt_in(self, quote: Quote, basket: records.Quote, row: AbandonedCart | None) -> None:
        """Record the basket as waiting for its contact's opt-in (no email, no platform write yet)."""
        if row is not None and row.status == CartStatus.SENT and row.next_due_at is not None:
            return  # already in a series
        if row is None:
            row = AbandonedCart(
                quote_id=quote.quote_id,
                website_id=self.wctx.website.pk,
                store=self.store,
                created_at=self.now,
            )
        elif row.abandoned_cart_number > 0:
            row.series += 1
        count, ids = _items(basket)
        row.customer_id = quote.customer_id
        row.email = quote.email
        row.is_active = True
        row.status = CartStatus.PENDING_OPT_IN
        row.abandoned_cart_number = 0
        row.items_count, row.items_ids = count, ids
        row.quote_updated_at = quote.quote_updated_at
        row.next_due_at = None
        row.updated_at = self.now
        row.save()
        self.result.add(self.wctx.code, "pending_opt_in")

    def _next_step(
        self,
        row: AbandonedCart,
        quote: Quote | None,
        basket: records.Quote | None,
        subscribed: set[str],
    ) -> None:
        if (
            quote is None
            or not quote.is_active
            or quote.item_count <= 0
            or basket is None
            or not basket.lines
        ):
            row.delete()  # ordered, emptied or gone: the series stops
            self.result.add(self.wctx.code, "stopped")
            return
        if self._excluded(quote, basket):  # excluded since: the series goes no further
            row.next_due_at = None
            row.updated_at = self.now
            row.save(update_fields=["next_due_at", "updated_at"])
            return
        count, ids = _items(basket)
        if (count, ids) != (row.items_count, row.items_ids) or not self._may_mail(row.email, subscribed):
            row.next_due_at = None  # changed since the last step: step 1's pass starts a new series
            row.updated_at = self.now
            row.save(update_fields=["next_due_at", "updated_at"])
            self.result.add(self.wctx.code, "changed")
            return
        number = row.abandoned_cart_number + 1
        self._sent(row, quote, count, ids, number)
        self._touch_contact(quote, basket)
        self._queue_campaign(row, number)

    # --- writes ------------------------------------------------------------------------------------

    def _sent(self, row: AbandonedCart, quote: Quote, count: int, ids: str, number: int) -> None:
        """Record that step ``number`` was processed, and when the next one is due."""
        row.status = CartStatus.SENT
        row.abandoned_cart_number = number
        row.items_count = count
        row.items_ids = ids
        row.quote_updated_at = quote.quote_updated_at
        row.next_due_at = self._next_due(quote.quote_updated_at, number)
        row.updated_at = self.now
        row.save()

    def _next_due(self, changed_at: datetime | None, number: int) -> datetime | None:
        """When step ``number + 1`` is due: its delay after the basket's last change, after this pass."""
        if number >= CART_STEPS[-1]:
            return None
        delay = self.scfg.cart_step(self.audience, number + 1).delay
        due = (changed_at or self.now) + delay
        return max(due, self.now + _TICK)

    def _queue_campaign(self, row: AbandonedCart, number: int) -> None:
        step = self.scfg.cart_step(self.audience, number)
        code = self.wctx.code
        if not step.enabled or step.campaign_id is None:
            self.result.add(code, f"step{number}_off")
            return
        if self._limited(row.email):
            self.result.add(code, "cart_limit")
            return
        label = "Guest Abandoned Cart" if self.guests else "Abandoned Cart"
        try:
            with transaction.atomic():  # a savepoint: the (basket, series, step) key refuses a second row
                Campaign.objects.create(
                    campaign_id=step.campaign_id,
                    email=row.email,
                    customer_id=row.customer_id,
                    quote_id=row.quote_id,
                    website_id=row.website_id,
                    store=self.store,
                    event_name=CampaignEvent.LOST_BASKET,
                    message=f"{label} {number}",
                    step=number,
                    series=row.series,
                    send_status=CampaignSendStatus.PENDING,
                    created_at=self.now,
                    updated_at=self.now,
                )
        except IntegrityError:
            self.result.add(code, "already_queued")
            return
        self.result.add(code, f"step{number}")

    def _limited(self, email: str) -> bool:
        """True when a Lost Basket send to ``email`` was queued or sent within the cart limit."""
        limit = self.scfg.cart_limit
        if not limit:
            return False
        return (
            Campaign.objects.filter(
                website_id=self.wctx.website.pk,
                email__iexact=email,
                event_name=CampaignEvent.LOST_BASKET,
                created_at__gt=self.now - limit,
            )
            .exclude(send_status=CampaignSendStatus.FAILED)
            .exists()
        )

    def _queue_cart_insight(self, email: str, basket: records.Quote, phase: str) -> None:
        """Queue the basket's CartInsight record (``cartUrl`` its restore link, ``cartPhase`` ``phase``)."""
        website = self.wctx.website
        site = self.store.site
        body = cart_insight.cart_insight_json(
            basket,
            email=email,
            store_name=self.store.name,
            website_name=website.name,
            cart_url=cart_insight.cart_url(
                basket.id, website.code, site.domain if site is not None else None
            ),
            phase=phase,
        )
        enqueue_single(
            website_id=website.pk,
            import_type=cart_insight.COLLECTION,
            import_mode=ImportMode.SINGLE,
            payload={
                "collection": cart_insight.COLLECTION,
                "scope": "contact",
                "type": cart_insight.COLLECTION_TYPE,
                "key": str(basket.id),
                "email": email,
                "json": body,
            },
        )

    def _touch_contact(self, quote: Quote, basket: records.Quote) -> None:
        """Queue the basket's CartInsight record and the contact's basket data fields."""
        website = self.wctx.website
        email = quote.email
        self._queue_cart_insight(email, basket, cart_insight.ORDER_PENDING)
        fields: dict[str, Any] = {}
        if self.mapping.get("last_quote_id"):
            fields[self.mapping["last_quote_id"]] = basket.id
        if self.mapping.get("abandoned_prod_name"):
            fields[self.mapping["abandoned_prod_name"]] = cart_insight.most_expensive_name(basket)
        if fields:
            enqueue_single(
                website_id=website.pk,
                import_type="Contact",
                import_mode=ImportMode.CONTACT_UPDATE,
                payload={"email": email, "data_fields": fields, "address_book_id": None},
            )
        self.result.add(self.wctx.code, "baskets")

    # --- reads -------------------------------------------------------------------------------------

    def _baskets(self, quotes: dict[int, Quote]) -> dict[int, records.Quote]:
        ids = [q for q in quotes if q]
        return {b.id: b for b in self.adapter.quotes(ids)} if ids else {}

    def _subscribed(self, emails: Iterable[str]) -> set[str]:
        """The emails among ``emails`` subscribed in this website (all of them when not needed)."""
        wanted = {canonical_email(e) for e in emails if e}
        if self.scfg.allow_non_subscribers or not wanted:
            return wanted
        return set(
            Contact.objects.filter(
                website_id=self.wctx.website.pk, email__in=wanted, is_subscriber=True
            ).values_list("email", flat=True)
        )

    def _awaiting_opt_in(self, emails: Iterable[str]) -> set[str]:
        """The emails among ``emails`` whose subscription in this website awaits confirmation."""
        if self.scfg.allow_non_subscribers:
            return set()
        wanted = {canonical_email(e) for e in emails if e}
        return set(
            Contact.objects.filter(
                website_id=self.wctx.website.pk,
                email__in=wanted,
                is_subscriber=False,
                subscriber_status__in=AWAITING_CONFIRMATION,
            ).values_list("email", flat=True)
        )

    def _excluded(self, quote: Quote, basket: records.Quote) -> bool:
        """True, with its ``email_rule_exclusion`` row written, when an exclusion rule excludes the basket."""
        verdict = self.rules.excluded(self.rules.basket(basket, quote.email)) if self.rules else None
        if verdict is None:
            return False
        self.rules.record(verdict, store_id=self.store.pk, email=quote.email, quote_id=quote.quote_id)
        self.result.add(self.wctx.code, "excluded")
        return True

    def _may_mail(self, email: str, subscribed: set[str]) -> bool:
        return canonical_email(email) in subscribed


STATUS_LINE = TableReport(
    "email_abandoned_cart", AbandonedCart, "abandoned_cart_number", {n: f"step {n}" for n in CART_STEPS}
)
"""The ``dotsync status`` line (and dashboard row) of ``email_abandoned_cart``: baskets per step reached."""


JOB = AbandonedCartsJob(
    id=JOB_ID,
    spec_name="abandoned_cart",
    summary="abandoned-cart series 1-3 (customers, guests) -> Lost Basket campaign rows",
    scope=JobScope.WEBSITE,
    default_frequency=5,
    after=("unsubscriber", "resubscriber"),  # a suppression carried first is never mailed
)


def run(website_code: str | None = None) -> JobResult:
    """Run the abandoned-cart series once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
