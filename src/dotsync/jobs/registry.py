"""Every job dotsync runs, by id, with the name the specification uses for it.

``dotsync sync JOB`` and the scheduler look jobs up here. Each ``run`` takes an optional website
code and returns a :class:`~dotsync.jobs.base.JobResult`.

=========================  ==================================  ============================================
job id                     specification name                  what it does
=========================  ==================================  ============================================
``contacts``               ``customer_subscriber_guest_sync``  customers, guests, subscribers -> CSV imports
``orders``                 ``order_and_quote_sync``            orders -> ``Orders``, baskets -> ``Quote``
``reviews_and_wishlists``  ``reviews_and_wishlist``            ``Reviews`` and ``Wishlist`` collections
``catalog``                ``catalog_sync``                    products -> ``Catalog_Default``/per store
``importer``               ``importer``                        drains ``email_importer`` into dotdigital
=========================  ==================================  ============================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dotsync.jobs import catalog, contacts, importer, orders, reviews_and_wishlists
from dotsync.jobs.base import JobResult


@dataclass(frozen=True)
class JobSpec:
    """A job: its id, the specification's name for it, its entry point and a one-line summary."""

    id: str
    spec_name: str
    run: Callable[[str | None], JobResult]
    summary: str


JOBS: dict[str, JobSpec] = {
    contacts.JOB_ID: JobSpec(
        contacts.JOB_ID,
        contacts.SPEC_NAME,
        contacts.run,
        "Customers, guests and subscribers to their address books as CSV imports.",
    ),
    orders.JOB_ID: JobSpec(
        orders.JOB_ID,
        orders.SPEC_NAME,
        orders.run,
        "Orders to the Orders collection and baskets to the Quote collection.",
    ),
    reviews_and_wishlists.JOB_ID: JobSpec(
        reviews_and_wishlists.JOB_ID,
        reviews_and_wishlists.SPEC_NAME,
        reviews_and_wishlists.run,
        "Reviews and wishlists to the Reviews and Wishlist collections.",
    ),
    catalog.JOB_ID: JobSpec(
        catalog.JOB_ID,
        catalog.SPEC_NAME,
        catalog.run,
        "Products to Catalog_Default or one catalogue collection per store.",
    ),
}
JOBS[importer.JOB] = JobSpec(
    importer.JOB,
    "importer",
    importer.run,
    "Sends queued imports and single-record calls to dotdigital and settles what it confirms.",
)
"""Job id -> :class:`JobSpec`. The importer comes last: ``sync all`` runs the others, then drains it."""
