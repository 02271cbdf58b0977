"""Time-stamped product views (``email_product_view``) for the most-viewed and recently-viewed content.

Oscar's ``product_viewed`` signal (sent by its product page) records one row after the request's
transaction commits: one small insert, nothing read, and a failure to record is logged and never breaks
the page. :func:`connect` is called from the app's ``ready()``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from dotsync.models import ProductView

log = logging.getLogger("dotsync.storefront")


def record_view(product_id: int, user_id: int | None, site_id: int | None) -> None:
    """Insert the view row now (the signal handler defers this to the commit)."""
    try:
        ProductView.objects.create(
            product_id=product_id, user_id=user_id, site_id=site_id, viewed_at=timezone.now()
        )
    except Exception:
        log.exception("product view not recorded")


def on_product_viewed(
    sender: Any, product: Any, user: Any = None, request: Any = None, **kwargs: Any
) -> None:
    """Oscar's ``product_viewed`` receiver: record the view once the request's transaction commits."""
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    site_id = None
    if request is not None:
        from django.contrib.sites.shortcuts import get_current_site

        site_id = getattr(get_current_site(request), "pk", None)
    product_id = int(product.pk)
    transaction.on_commit(lambda: record_view(product_id, user_id, site_id))


def connect() -> None:
    """Connect :func:`on_product_viewed` to Oscar's ``product_viewed`` signal (idempotent; needs Oscar)."""
    try:
        from oscar.apps.catalogue.signals import product_viewed
    except ImportError:  # pragma: no cover - the storefront needs Oscar; another store brings its own
        return

    product_viewed.connect(on_product_viewed, dispatch_uid="dotsync.storefront.product_viewed")
