"""Every job dotsync runs, by id, with the name the specification uses for it.

``dotsync sync JOB``, the runner and the scheduler read only this list. Each entry is a
:class:`~dotsync.jobs.base.Job`: call it with an optional website code, or ``job.run(ctx)`` with a
:class:`~dotsync.accounts.RunContext`; either returns a :class:`~dotsync.jobs.base.JobResult`.

=========================  ==================================  ============================================
job id                     specification name                  what it does
=========================  ==================================  ============================================
``contacts``               ``customer_subscriber_guest_sync``  customers, guests, subscribers -> CSV imports
``orders``                 ``order_and_quote_sync``            orders -> ``Orders``, baskets -> ``Quote``
``reviews_and_wishlists``  ``reviews_and_wishlist``            ``Reviews`` and ``Wishlist`` collections
``catalog``                ``catalog_sync``                    products -> ``Catalog_Default``/per store
``importer``               ``importer``                        drains ``email_importer`` into dotdigital
``unsubscriber``           ``unsubscribe``                     platform suppressions -> store unsubscribed
``resubscriber``           ``platform_modified_contacts``      platform resubscriptions -> store subscribed
``cleaner``                ``cleaner``                         finished queue/automation rows past retention
``abandoned_carts``        ``abandoned_cart``                  abandoned-cart series 1-3 -> Lost Basket rows
``review_requests``        ``review_reminder``                 orders past the review delay -> Order Review
``campaigns``              ``ddg_automation_campaign``         queued ``email_campaign`` sends, exactly once
``monitor``                ``monitor``                         failed imports, job errors -> admin, email
=========================  ==================================  ============================================
"""

from __future__ import annotations

from dotsync.jobs import catalog, contacts, importer, monitor, orders, reviews_and_wishlists
from dotsync.jobs.automation import (
    abandoned_carts,
    campaigns,
    cleaner,
    resubscriber,
    review_requests,
    unsubscriber,
)
from dotsync.jobs.automation.cleaner import CleanerJob
from dotsync.jobs.automation.feed import FeedJob
from dotsync.jobs.base import Job
from dotsync.jobs.importer import ImporterJob
from dotsync.jobs.monitor import MonitorJob

ALL: tuple[Job, ...] = (
    contacts.JOB,
    orders.JOB,
    reviews_and_wishlists.JOB,
    catalog.JOB,
    importer.JOB,
    abandoned_carts.JOB,
    review_requests.JOB,
    campaigns.JOB,
    unsubscriber.JOB,
    resubscriber.JOB,
    cleaner.JOB,
    monitor.JOB,
)
"""Every job. ``sync all`` runs the batching jobs in this order (``contacts`` moved last), then the
importer, which drains what they queue. The ``monitor`` is no sync job: ``sync all`` leaves it out."""

JOBS: dict[str, Job] = {job.id: job for job in ALL}
"""Job id -> :class:`~dotsync.jobs.base.Job`."""

DEFAULT_JOB_FREQUENCIES: dict[str, int] = {job.id: job.default_frequency for job in ALL}
"""Job id -> minutes between runs when ``job_frequencies`` does not say (the jobs' declarations).

:data:`dotsync.config.DEFAULT_JOB_FREQUENCIES` (the settings layer, which cannot import the jobs) must
agree: ``tests/jobs/test_registry.py`` checks it.
"""


def batching_jobs() -> list[Job]:
    """Every job but the importer and the monitor, in registry order, without the scheduled housekeeping.

    ``unsubscriber`` and ``resubscriber`` (they read the platform's change feeds into the store) and
    the ``cleaner`` run on their schedule (``dotsync run``) or alone (``dotsync sync JOB``): a
    ``sync all`` sends the store to the platform, and one with no store changes makes no call.
    """
    return [job for job in ALL if not isinstance(job, (ImporterJob, MonitorJob, FeedJob, CleanerJob))]
