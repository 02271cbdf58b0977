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
``sms``                    ``sms_order_status``                SMS order-status messages, at most once
``automation``             ``ddg.sync.automation``             ``email_automation`` -> programme enrolments
``pending_contacts``       ``pending_contact_checker``         PendingOptIn rows -> Confirmed or Expired
``monitor``                ``monitor``                         failed imports, job errors -> admin, email
=========================  ==================================  ============================================
"""

from __future__ import annotations

from dotsync.jobs import catalog, contacts, importer, monitor, orders, reviews_and_wishlists, sms
from dotsync.jobs.automation import (
    abandoned_carts,
    campaigns,
    cleaner,
    enrolment,
    pending_contacts,
    resubscriber,
    review_requests,
    unsubscriber,
)
from dotsync.jobs.base import Job
from dotsync.jobs.importer import ImporterJob

ALL: tuple[Job, ...] = (
    contacts.JOB,
    orders.JOB,
    reviews_and_wishlists.JOB,
    catalog.JOB,
    importer.JOB,
    unsubscriber.JOB,
    resubscriber.JOB,
    cleaner.JOB,
    abandoned_carts.JOB,
    review_requests.JOB,
    campaigns.JOB,
    sms.JOB,
    enrolment.JOB,
    pending_contacts.JOB,
    monitor.JOB,
)
"""Every job, in the order the documentation lists them. ``sync all`` runs them all, sorted by their
declared dependencies (:func:`sync_order`), not by this order."""

JOBS: dict[str, Job] = {job.id: job for job in ALL}
"""Job id -> :class:`~dotsync.jobs.base.Job`."""

DEFAULT_JOB_FREQUENCIES: dict[str, int] = {job.id: job.default_frequency for job in ALL}
"""Job id -> minutes between runs when ``job_frequencies`` does not say (the jobs' declarations).

:data:`dotsync.config.DEFAULT_JOB_FREQUENCIES` (the settings layer, which cannot import the jobs) must
agree: ``tests/jobs/test_registry.py`` checks it.
"""


def sync_order() -> list[Job]:
    """Every registered job in the order a ``sync all`` pass runs them.

    Each job runs after the jobs its :attr:`~dotsync.jobs.base.Job.after` names (a stable topological
    sort: registry order among the jobs that are ready).

    Today that is the ``catalog`` (it needs nothing) and the platform feeds (``unsubscriber``,
    ``resubscriber``) first, so the store knows the platform's suppressions before it sends or mails
    anyone; then the batching jobs, the abandoned-cart and review-request queues and ``contacts``
    last of them; then the ``importer``; then the sends that need contacts on the platform
    (``campaigns``, and ``automation`` when it is registered); then the ``cleaner`` and the ``monitor``.

    Raises:
        ValueError: the declarations have a cycle (``tests/jobs/test_registry.py`` pins that they do not).
    """
    known = {job.id for job in ALL}
    waiting = {job.id: {dep for dep in job.after if dep in known and dep != job.id} for job in ALL}
    done: list[Job] = []
    while len(done) < len(ALL):
        ready = [job for job in ALL if job.id in waiting and not waiting[job.id]]
        if not ready:
            raise ValueError(f"the jobs' `after` declarations have a cycle among {sorted(waiting)}")
        job = ready[0]
        done.append(job)
        del waiting[job.id]
        for deps in waiting.values():
            deps.discard(job.id)
    return done


def split_at_importer() -> tuple[list[Job], list[Job]]:
    """:func:`sync_order` cut at the importer: the jobs before it, and the jobs after it.

    Each pass of ``sync all`` runs the jobs before it, then drains the importer; the jobs after it run
    once the queue drained.
    """
    order = sync_order()
    at = next(i for i, job in enumerate(order) if isinstance(job, ImporterJob))
    return order[:at], order[at + 1 :]


def batching_jobs() -> list[Job]:
    """The jobs a ``sync all`` pass runs before the importer, in :func:`sync_order`."""
    return split_at_importer()[0]
