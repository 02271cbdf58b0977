"""Signal receivers: capture ids, defer the work to transaction commit, never raise into the store.

Each receiver returns at once when ``raw`` is set (fixtures being loaded) or observers are muted
(:func:`muted`), captures the ids it needs (and the request's Site, when a request is at hand),
and registers a ``transaction.on_commit`` callback that runs a handler from
:mod:`dotsync.store.oscar.observers.handlers`. The callback runs in its own savepoint; any exception is logged
(operation and ids only) and swallowed. A receiver's own capture step is guarded the same way, so
Oscar's ``send()`` signals (``order_placed``, ``basket_addition``, ``review_added``) can never fail
a checkout because of dotsync.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.db import transaction

from dotsync.store.oscar.observers import automations, handlers, sms

logger = logging.getLogger("dotsync.observers")

_muted: ContextVar[bool] = ContextVar("dotsync_observers_muted", default=False)


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Silence every observer in this context (bulk seeding, imports that install backfills later)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def defer(event: str, handler: Callable[..., None], *args: Any) -> None:
    """Run ``handler(*args)`` once the current transaction commits, logging and swallowing any error.

    Args:
        event: the event name, for the log.
        handler: the work to do (looked up on :mod:`dotsync.store.oscar.observers.handlers` at call time).
        *args: ids only (never a model instance or personal data: they appear in the log).
    """

    def run() -> None:
        try:
            with transaction.atomic():
                handler(*args)
        except Exception:
            logger.exception("dotsync observer %s failed for %s; the store is unaffected", event, args)

    transaction.on_commit(run)


def receiver(event: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate a receiver: skip raw saves and muted contexts, and never let it raise."""

    def wrap(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def guarded(sender: Any, **kwargs: Any) -> None:
            if kwargs.get("raw") or _muted.get():
                return
            try:
                func(sender, **kwargs)
            except Exception:
                logger.exception(
                    "dotsync observer %s could not capture its event; the store is unaffected", event
                )

        guarded.event = event  # type: ignore[attr-defined]
        return guarded

    return wrap


def _site_id(request: Any) -> int | None:
    if request is None:
        return None
    from django.contrib.sites.shortcuts import get_current_site

    try:
        return getattr(get_current_site(request), "pk", None)
    except Exception:  # no host, or a host with no Site: fall back to the customer's store
        return None


# --- customers ------------------------------------------------------------------------------------


@receiver("customer_saved")
def customer_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` of the user model."""
    defer("customer_saved", handlers.sync_customer, instance.pk, None)


@receiver("customer_registered")
def customer_registered(sender: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    """Oscar's ``user_registered`` (carries the request, hence the store)."""
    defer("customer_registered", handlers.sync_customer, user.pk, _site_id(request))
    defer("customer_registered", automations.customer_registered, user.pk, _site_id(request))


@receiver("customer_logged_in")
def customer_logged_in(sender: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    """Oscar's and Django's ``user_logged_in``."""
    defer("customer_logged_in", handlers.sync_customer, user.pk, _site_id(request))


@receiver("customer_deleted")
def customer_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of the user model."""
    defer("customer_deleted", handlers.customer_deleted, instance.pk, instance.email)


# --- newsletter -----------------------------------------------------------------------------------


@receiver("subscription_saved")
def subscription_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` of :class:`~dotsync.models.NewsletterSubscriber`."""
    defer("subscription_saved", handlers.sync_subscription, instance.pk)
    defer("subscription_saved", automations.subscription_saved, instance.pk)


@receiver("subscription_deleted")
def subscription_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of :class:`~dotsync.models.NewsletterSubscriber`."""
    defer("subscription_deleted", handlers.subscription_deleted, instance.subscriber_email, instance.store_id)


# --- orders ---------------------------------------------------------------------------------------


@receiver("order_placed")
def order_placed(sender: Any, order: Any, **kwargs: Any) -> None:
    """Oscar's ``order_placed`` (sent by ``OrderCreator.place_order``)."""
    defer("order_placed", handlers.sync_order, order.pk)
    defer("order_placed", automations.order_placed, order.pk)
    defer("order_placed", sms.order_reached_status, order.pk, str(order.status or ""))


@receiver("order_saved")
def order_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` of ``order.Order`` (any save, including a status assigned without ``set_status``)."""
    defer("order_saved", handlers.sync_order, instance.pk)
    defer("order_saved", automations.order_saved, instance.pk)


@receiver("order_status_changed")
def order_status_changed(sender: Any, order: Any, **kwargs: Any) -> None:
    """Oscar's ``order_status_changed``; a change to a cancelled status is the order-cancelled event."""
    defer("order_status_changed", handlers.sync_order, order.pk)
    defer("order_status_changed", automations.order_saved, order.pk)
    new_status = str(kwargs.get("new_status") or order.status or "")  # each step of a walk reaches one
    defer("order_status_changed", sms.order_reached_status, order.pk, new_status)


@receiver("order_refunded")
def order_refunded(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` of ``payment.Source`` (``refund()`` saves it) or ``order.PaymentEvent``."""
    defer("order_refunded", handlers.sync_order, instance.order_id)


# --- baskets --------------------------------------------------------------------------------------


@receiver("basket_line_changed")
def basket_line_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` / ``post_delete`` of ``basket.Line``."""
    defer("basket_line_changed", handlers.sync_quote, instance.basket_id, None)


@receiver("basket_addition")
def basket_addition(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Oscar's ``basket_addition``: the request tells the store the basket is being filled in."""
    basket = getattr(request, "basket", None)
    if basket is not None and basket.pk:
        defer("basket_addition", handlers.sync_quote, basket.pk, _site_id(request))


class _Masked(str):
    """An email passed to a handler: shown as ``<email>`` if the handler's failure is logged."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<email>'"


@receiver("guest_checkout_email")
def start_checkout(sender: Any, request: Any = None, email: str | None = None, **kwargs: Any) -> None:
    """Oscar's ``start_checkout`` with the email a guest typed (``CheckoutSessionData.set_guest_email``)."""
    basket = getattr(request, "basket", None)
    if email and basket is not None and basket.pk and getattr(basket, "owner_id", None) is None:
        defer(
            "guest_checkout_email", handlers.guest_basket_email, basket.pk, _site_id(request), _Masked(email)
        )


@receiver("basket_saved")
def basket_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """``post_save`` of ``basket.Basket``: submitted or merged baskets become inactive quotes."""
    if not created:
        defer("basket_saved", handlers.basket_status, instance.pk)


# --- wishlists ------------------------------------------------------------------------------------


@receiver("wishlist_line_changed")
def wishlist_line_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` / ``post_delete`` of ``wishlists.Line`` (Oscar sends no wishlist signal)."""
    defer("wishlist_line_changed", handlers.sync_wishlist, instance.wishlist_id, None)
    defer("wishlist_line_changed", automations.wishlist_line_added, instance.wishlist_id, None)


@receiver("wishlist_deleted")
def wishlist_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of ``wishlists.WishList``."""
    defer("wishlist_deleted", handlers.wishlist_deleted, instance.pk, instance.owner_id)


# --- reviews --------------------------------------------------------------------------------------


@receiver("review_saved")
def review_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` of ``reviews.ProductReview`` (reviews created in code or approved in the dashboard)."""
    defer("review_saved", handlers.sync_review, instance.pk, None)
    defer("review_saved", automations.review_saved, instance.pk, None)


@receiver("review_deleted")
def review_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of ``reviews.ProductReview`` (deleted in the dashboard)."""
    defer("review_deleted", handlers.review_deleted, instance.pk, instance.user_id)


@receiver("basket_deleted")
def basket_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of ``basket.Basket``."""
    defer("basket_deleted", handlers.basket_deleted, instance.pk, instance.owner_id)


@receiver("review_added")
def review_added(sender: Any, review: Any, request: Any = None, **kwargs: Any) -> None:
    """Oscar's ``review_added`` (the review view; carries the request, hence the store)."""
    defer("review_added", handlers.sync_review, review.pk, _site_id(request))
    defer("review_added", automations.review_saved, review.pk, _site_id(request))


# --- catalogue ------------------------------------------------------------------------------------


@receiver("product_saved")
def product_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` of ``catalogue.Product`` (a child also marks its parent)."""
    defer("product_saved", handlers.sync_products, [instance.pk, instance.parent_id])


@receiver("product_deleted")
def product_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of ``catalogue.Product``."""
    defer("product_deleted", handlers.product_deleted, instance.pk)


@receiver("stock_record_changed")
def stock_record_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save`` / ``post_delete`` of ``partner.StockRecord`` (prices and stock live there)."""
    defer("stock_record_changed", handlers.sync_products, [instance.product_id])
