"""Oscar's store observers: cheap, idempotent, non-raising receivers that report store events.

:func:`connect` is called from :meth:`dotsync.apps.DotsyncConfig.ready`, after dotsync's store-event
sink is installed. It wires every entry of :func:`connections`: Oscar's signals plus ``post_save`` /
``post_delete`` for what Oscar does not signal (users, wishlists, products, stock records, basket
lines, subscriptions). See :mod:`.receivers` for the rules every receiver follows (capture ids, run on
commit, log and swallow errors, honour ``raw``) and :mod:`.handlers` for what each reads and reports.
They log as ``dotsync.observers``.

What happens to the rows is dotsync's, behind the port (:mod:`dotsync.store.events`, implemented by
:mod:`dotsync.jobs.events`):

* An upsert inserts the row as ``NEW`` or moves an existing row to ``MODIFIED`` (a row still ``NEW``
  stays ``NEW``). Observers never make platform calls.
* Scope: orders carry their Site, hence their store. Customers, baskets, wishlists and reviews take
  the request's store when the signal carries a request, else the customer's last order store,
  else the default store (:func:`dotsync.store.oscar.scope.resolve_store`).
* An order cancelled or refunded is simply marked modified; the orders job turns a cancelled
  order into a delete.
* **Deletes** (customer, subscription of a non-customer, wishlist, review, basket, product) remove
  the local sync row and, when the platform may hold the record (the row was ever sent), queue a
  ``PENDING`` ``email_importer`` row: ``Contact`` / ``Contact_Delete`` with ``{"email": ...}``, or
  ``<collection>`` / ``Single_Delete`` through the record's stream (the payload the jobs use). The
  importer sends them; nothing is lost if the platform is down. A customer whose email changed gets
  a ``Contact_Email_Update`` the same way.
* **Subscriptions**: a subscribe sets ``last_subscribed_at`` and clears ``suppressed`` **only if
  the subscription change is newer than ``suppressed_at``** (when the platform suppressed the
  contact), so re-saving an old subscription never resurrects a platform suppression. An
  unsubscribe of an already suppressed contact is not sent back to the platform (it came from
  there). Deleting a customer's or guest's subscription unsubscribes the contact; deleting a
  subscriber-only contact's subscription deletes the contact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dotsync.store.oscar.observers.receivers import muted

__all__ = ["EVENTS", "Connection", "connect", "connections", "muted"]

EVENTS: tuple[str, ...] = (
    "customer_saved",
    "customer_deleted",
    "customer_logged_in",
    "customer_registered",
    "subscription_saved",
    "subscription_deleted",
    "order_placed",
    "order_saved",
    "order_status_changed",
    "order_cancelled",
    "order_refunded",
    "basket_line_changed",
    "basket_addition",
    "basket_saved",
    "guest_checkout_email",
    "wishlist_line_added",
    "wishlist_line_removed",
    "wishlist_deleted",
    "review_approved",
    "review_added",
    "review_deleted",
    "basket_deleted",
    "product_saved",
    "product_deleted",
    "stock_record_saved",
    "stock_record_deleted",
)
"""Every store event dotsync observes (the exhaustiveness test checks each has a connected receiver)."""


@dataclass(frozen=True)
class Connection:
    """One signal wired to one receiver, for one or more events."""

    events: tuple[str, ...]
    signal: Any
    receiver: Callable[..., None]
    sender: Any = None

    @property
    def dispatch_uid(self) -> str:
        """A stable uid so connecting twice is a no-op."""
        sender = getattr(self.sender, "_meta", None)
        label = sender.label_lower if sender is not None else "any"
        return f"dotsync:{self.receiver.__name__}:{label}:{id(self.signal)}"


def connections() -> list[Connection]:
    """Every (signal, sender, receiver) dotsync connects."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth import signals as auth_signals
    from django.db.models import signals as db
    from oscar.core.loading import get_class, get_model

    from dotsync.models import NewsletterSubscriber
    from dotsync.store.oscar.observers import receivers as r

    user = get_user_model()
    return [
        Connection(("customer_saved",), db.post_save, r.customer_saved, user),
        Connection(("customer_deleted",), db.post_delete, r.customer_deleted, user),
        Connection(
            ("customer_registered",), get_class("customer.signals", "user_registered"), r.customer_registered
        ),
        Connection(
            ("customer_logged_in",), get_class("customer.signals", "user_logged_in"), r.customer_logged_in
        ),
        Connection(("customer_logged_in",), auth_signals.user_logged_in, r.customer_logged_in),
        Connection(("subscription_saved",), db.post_save, r.subscription_saved, NewsletterSubscriber),
        Connection(("subscription_deleted",), db.post_delete, r.subscription_deleted, NewsletterSubscriber),
        Connection(("order_placed",), get_class("order.signals", "order_placed"), r.order_placed),
        Connection(("order_saved",), db.post_save, r.order_saved, get_model("order", "Order")),
        Connection(
            ("order_status_changed", "order_cancelled"),
            get_class("order.signals", "order_status_changed"),
            r.order_status_changed,
        ),
        Connection(("order_refunded",), db.post_save, r.order_refunded, get_model("payment", "Source")),
        Connection(("order_refunded",), db.post_save, r.order_refunded, get_model("order", "PaymentEvent")),
        Connection(
            ("basket_line_changed",), db.post_save, r.basket_line_changed, get_model("basket", "Line")
        ),
        Connection(
            ("basket_line_changed",), db.post_delete, r.basket_line_changed, get_model("basket", "Line")
        ),
        Connection(("basket_addition",), get_class("basket.signals", "basket_addition"), r.basket_addition),
        Connection(("basket_saved",), db.post_save, r.basket_saved, get_model("basket", "Basket")),
        Connection(
            ("guest_checkout_email",), get_class("checkout.signals", "start_checkout"), r.start_checkout
        ),
        Connection(
            ("wishlist_line_added",), db.post_save, r.wishlist_line_changed, get_model("wishlists", "Line")
        ),
        Connection(
            ("wishlist_line_removed",),
            db.post_delete,
            r.wishlist_line_changed,
            get_model("wishlists", "Line"),
        ),
        Connection(
            ("wishlist_deleted",), db.post_delete, r.wishlist_deleted, get_model("wishlists", "WishList")
        ),
        Connection(("review_approved",), db.post_save, r.review_saved, get_model("reviews", "ProductReview")),
        Connection(("review_added",), get_class("catalogue.reviews.signals", "review_added"), r.review_added),
        Connection(
            ("review_deleted",), db.post_delete, r.review_deleted, get_model("reviews", "ProductReview")
        ),
        Connection(("basket_deleted",), db.post_delete, r.basket_deleted, get_model("basket", "Basket")),
        Connection(("product_saved",), db.post_save, r.product_saved, get_model("catalogue", "Product")),
        Connection(
            ("product_deleted",), db.post_delete, r.product_deleted, get_model("catalogue", "Product")
        ),
        Connection(
            ("stock_record_saved",), db.post_save, r.stock_record_changed, get_model("partner", "StockRecord")
        ),
        Connection(
            ("stock_record_deleted",),
            db.post_delete,
            r.stock_record_changed,
            get_model("partner", "StockRecord"),
        ),
    ]


def connect() -> None:
    """Connect every observer to its signal (idempotent). Does nothing when Oscar is not installed."""
    try:
        import oscar  # noqa: F401
    except ImportError:  # pragma: no cover - another store adapter brings its own observers
        return
    from django.apps import apps

    if not apps.is_installed("oscar.apps.order"):  # pragma: no cover
        return
    for conn in connections():
        conn.signal.connect(conn.receiver, sender=conn.sender, weak=False, dispatch_uid=conn.dispatch_uid)
