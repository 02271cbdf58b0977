"""``pending_contacts`` (reference §2.6, ``PendingContactChecker``): confirm or expire PendingOptIn rows.

Every 30 minutes, per website with valid settings, for ``email_automation`` and ``email_abandoned_cart``
rows in ``PendingOptIn`` (oldest first, up to :data:`LIMIT` contacts a run):

* the contact is confirmed when the store has the subscription confirmed (the contact is a subscriber
  again in ``email_contact``) or the platform says so (``GET /v2/contacts/{email}``: a contact with an id
  whose status is no longer ``PendingOptIn``);
* a confirmed **enrolment** row becomes ``Confirmed``: the next ``automation`` run enrols it;
* a confirmed **basket** row is left to the ``abandoned_carts`` job, which takes it through step 1 once
  the store has the subscription confirmed (the platform's confirmation reaches the store through the
  ``resubscriber``);
* a row still waiting :data:`EXPIRE_AFTER` after it was created is ``Expired`` (both tables);
* otherwise only ``updated_at`` is touched, as the reference does.

A transient platform error stops the website's run (the rows stay as they were).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Model

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.jobs.automation import claims
from dotsync.jobs.automation.passes import run_per_website
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.models import Contact
from dotsync.models.automation import AbandonedCart, Automation, AutomationStatus, CartStatus
from dotsync.models.sync import canonical_email
from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)

JOB_ID = "pending_contacts"
LIMIT = 100
"""Contacts looked up per website per run."""
EXPIRE_AFTER = timedelta(hours=24)
"""A row still PendingOptIn this long after it was created expires (the reference's ``expire_time``)."""
PENDING = "PendingOptIn"


class PendingContactsJob(Job):
    """Confirms or expires PendingOptIn rows (see the module docstring)."""

    def run(self, ctx: RunContext) -> JobResult:
        """One pass over every valid website of the run."""
        return run_per_website(self.id, ctx, "pending_contacts", run_website)


def run_website(site: WebsiteContext, client: DotdigitalClient, result: JobResult) -> None:
    """One website's pass over its PendingOptIn enrolment and basket rows."""
    website_id, code = site.website.pk, site.code
    enrolments = list(
        Automation.objects.filter(
            website_id=website_id, enrolment_status=AutomationStatus.PENDING_OPT_IN
        ).order_by("id")
    )
    baskets = list(
        AbandonedCart.objects.filter(website_id=website_id, status=CartStatus.PENDING_OPT_IN).order_by("id")
    )
    found = {canonical_email(r.email) for r in enrolments} | {canonical_email(c.email) for c in baskets}
    emails = sorted(e for e in found if e)[:LIMIT]
    if not emails:
        return
    subscribed = set(
        Contact.objects.filter(website_id=website_id, email__in=emails, is_subscriber=True).values_list(
            "email", flat=True
        )
    )
    confirmed = set(subscribed)
    for email in emails:
        if email in confirmed:
            continue
        contact = client.get_contact(email)
        if contact and contact.get("id") and str(contact.get("status") or PENDING) != PENDING:
            confirmed.add(email)
    now = claims.now()
    for row in enrolments:
        email = canonical_email(row.email)
        if email not in emails:
            continue
        if email in confirmed:
            _set(row, enrolment_status=AutomationStatus.CONFIRMED)
            result.add(code, "confirmed")
        elif row.created_at <= now - EXPIRE_AFTER:
            _set(row, enrolment_status=AutomationStatus.EXPIRED)
            result.add(code, "expired")
        else:
            _set(row)
    for cart in baskets:
        email = canonical_email(cart.email)
        if email not in emails or email in confirmed:
            continue  # a confirmed basket is the abandoned_carts job's (step 1)
        if cart.created_at <= now - EXPIRE_AFTER:
            _set(cart, status=CartStatus.EXPIRED)
            result.add(code, "expired")
        else:
            _set(cart)


def _set(row: Model, **fields: object) -> None:
    """Update one row's columns (only while it is still PendingOptIn) and ``updated_at``."""
    status_field = "enrolment_status" if isinstance(row, Automation) else "status"
    type(row)._default_manager.filter(pk=row.pk, **{status_field: PENDING}).update(
        **fields, updated_at=claims.now()
    )


JOB = PendingContactsJob(
    JOB_ID,
    "pending_contact_checker",
    "PendingOptIn enrolments and baskets -> Confirmed (opted in) or Expired (after 24 hours)",
    JobScope.WEBSITE,
    default_frequency=30,
    after=("resubscriber",),  # a confirmation the platform has reaches the store first
)


def run(website_code: str | None = None) -> JobResult:
    """Run the pending-contacts check once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
