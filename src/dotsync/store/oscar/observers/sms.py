"""SMS order-status messages (``email_sms_order_queue`` rows) from Oscar's order events (reference §7).

An order **reaches** a status when Oscar places it in that status (``order_placed``) or moves it there
with ``Order.set_status`` (``order_status_changed``, which the dashboard and the order pipeline send). A
status written with a plain ``save()`` is not a transition Oscar reports, so it sends nothing: re-saving
an old order never texts its customer.

The receivers (:mod:`.receivers`) defer :func:`order_reached_status` to the store's commit. It queues one
``pending`` row per enabled message slot of the order's store whose ``sms_<n>_status`` is that status
(compared without case) and whose message is not empty, when the website is enabled and the store's
``sms_enabled`` is on. A unique key on (order, status, slot) makes a second row impossible, so an order
that reaches a status twice is texted once. Nothing else is read here: the ``sms`` job
(:mod:`dotsync.jobs.sms`) checks the opt-in, the phone number and the settings again when it sends.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from dotsync.config import SMS_SLOTS, StoreSettings, get_store_config
from dotsync.models import SmsOrderQueue, Store
from dotsync.store.oscar.scope import default_store, store_for_site

logger = logging.getLogger("dotsync.observers")


def slots_for(settings: StoreSettings, status: str) -> list[int]:
    """The store's enabled message slots (with a message) sent when an order reaches ``status``."""
    if not status or not settings.website.enabled or not settings.values["sms_enabled"]:
        return []
    wanted = status.strip().lower()
    return [
        n
        for n in SMS_SLOTS
        if settings.values[f"sms_{n}_enabled"]
        and settings.values[f"sms_{n}_message"]
        and str(settings.values[f"sms_{n}_status"]).lower() == wanted
    ]


def order_reached_status(order_id: int, status: str) -> None:
    """An order reached ``status``: queue each of its store's SMS slots for that status, once."""
    from oscar.core.loading import get_model

    if not status:
        return
    row = get_model("order", "Order").objects.filter(pk=order_id).values_list("number", "site_id").first()
    if row is None:
        return
    number, site_id = row
    ref = store_for_site(site_id) or default_store()
    store = None if ref is None else Store.objects.select_related("website").filter(pk=ref.store_id).first()
    if store is None:
        return
    slots = slots_for(get_store_config(store), status)
    if not slots:
        return
    now = timezone.now()
    SmsOrderQueue.objects.bulk_create(
        [
            SmsOrderQueue(
                website_id=store.website_id,
                store=store,
                order_id=order_id,
                order_number=str(number),
                order_status=status,
                slot=n,
                created_at=now,
                updated_at=now,
            )
            for n in slots
        ],
        ignore_conflicts=True,  # (order, status, slot) is unique: an order reaching it again adds nothing
    )
    logger.info("email_sms_order_queue: order %s reached a status with %d SMS slot(s)", order_id, len(slots))
