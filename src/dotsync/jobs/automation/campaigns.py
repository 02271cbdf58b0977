"""``campaigns`` (reference §2.7, ``Model/Sync/Campaign.php``): queued ``email_campaign`` sends, exactly once.

Per website with valid settings, each run:

1. **Interrupted sends.** A ``PROCESSING`` row without a ``send_id`` was claimed by a run that stopped
   (crash, kill, timeout on the send call) before it recorded the platform's answer: the send may or
   may not have gone out. It is looked up in the campaign's send report for the contact
   (``GET /v2/campaigns/{id}/activities/{contactId}``): reported -> ``SENT`` (``sent_at`` = the
   report's ``dateSent``). Not reported -> left alone while the send could still be in progress
   (:data:`LOOKUP_GRACE` after the claim), then back to ``PENDING``: the platform says it never sent.
   When the report cannot tell (the campaign or the contact is gone) the row goes to ``REVIEW``
   (``fail_reason`` ``unconfirmed``): it is never sent blind.
2. **Stale sends** (as the reference): ``PROCESSING`` rows with a ``send_id`` not updated for
   :data:`STALE_AFTER` -> ``SENT``, ``fail_reason`` ``stale``, message "Check sending status in
   Dotdigital".
3. **Poll** ``PROCESSING`` rows by send id (``GET /v2/campaigns/send/{id}``): ``Sent`` -> ``SENT``
   (``sent_at`` = ``sendDate``); ``Cancelled`` or a message -> ``FAILED`` (``send_cancelled``); a send
   id the platform does not know -> ``REVIEW``.
4. **Send.** Up to the batch limit (:data:`SEND_LIMIT` rows per website, the reference's 10), oldest
   first by campaign: a row without campaign id or email fails (``missing_data``); a ``Lost Basket``
   row waits while another ``Lost Basket`` row for the same email is ``PROCESSING``; each email's
   platform contact id comes from :mod:`~dotsync.jobs.automation.contact_ids` (one call, cached;
   ``LAST_QUOTE_ID`` / ``LAST_INCREMENT_ID`` written in that call when mapped); a suppressed contact
   fails the row (``suppressed``). The rows of one campaign are **claimed** (``PROCESSING``,
   ``claimed_at``, ``platform_contact_id``) in their own committed transaction, then sent in one
   ``POST /v2/campaigns/send``; the ``send_id`` (or the refusal, ``send_refused`` with the platform's
   message, or ``no_send_id``) is recorded in one transaction.
   The new sends are polled once more at the end of the run (a send may be finished already).

A transient platform error stops the website's run (reported in the result); claimed rows whose call
may have gone out are taken up by step 1 of a later run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.crashpoints import crashpoint
from dotsync.exceptions import NotFoundError, PlatformError
from dotsync.jobs.automation import claims, contact_ids
from dotsync.jobs.automation.passes import run_per_website
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.jobs.status_lines import TableReport
from dotsync.models.automation import Campaign, CampaignEvent, CampaignFailReason, CampaignSendStatus
from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)

JOB_ID = "campaigns"
SPEC_NAME = "ddg_automation_campaign"
SEND_LIMIT = 10
"""Rows sent per website per run (the reference's ``SEND_EMAIL_CONTACT_LIMIT``); also polled send ids."""
STALE_AFTER = dt.timedelta(hours=2)
"""A send still ``PROCESSING`` this long after its last update is taken as sent (the reference)."""
LOOKUP_GRACE = dt.timedelta(hours=2)
"""How long an interrupted send may still be in progress on the platform before "not in the report"
means "never sent"."""
LOST_BASKET = CampaignEvent.LOST_BASKET
ORDER_REVIEW = CampaignEvent.ORDER_REVIEW
STALE_MESSAGE = "Check sending status in Dotdigital"
NO_SEND_ID_MESSAGE = "No send id returned."

S = CampaignSendStatus
R = CampaignFailReason


_now = claims.now
_when = claims.when


def _finish(
    ids: Iterable[int], status: CampaignSendStatus, reason: CampaignFailReason, message: str, **extra: Any
) -> int:
    now = _now()
    fields: dict[str, Any] = {"send_status": status, "fail_reason": reason, "message": message[:255]}
    if status in (S.SENT, S.FAILED) and "sent_at" not in extra:
        fields["sent_at"] = now
    return Campaign.objects.filter(pk__in=list(ids)).update(**fields, **extra, updated_at=now)


class CampaignsJob(Job):
    """Sends queued ``email_campaign`` rows per website (see the module docstring)."""

    def run(self, ctx: RunContext, *, limit: int = SEND_LIMIT) -> JobResult:
        """Recover, expire, send and poll campaign rows for every valid website of the run."""
        return run_per_website(
            self.id,
            ctx,
            "campaigns",
            lambda site, client, result: run_website(site, client, result, limit=limit),
        )


def run_website(site: WebsiteContext, client: DotdigitalClient, result: JobResult, *, limit: int) -> None:
    """One website's run: interrupted sends, stale sends, polls, new sends (then their first poll)."""
    website_id = site.website.pk
    recover_interrupted(website_id, client, result, site.code, limit=limit)
    expire_stale(website_id, result, site.code)
    poll_sends(website_id, client, result, site.code, limit=limit)
    if send_pending(site, client, result, limit=limit):
        poll_sends(website_id, client, result, site.code, limit=limit)  # a send may be done already


def recover_interrupted(
    website_id: int, client: DotdigitalClient, result: JobResult, code: str, *, limit: int
) -> None:
    """Step 1: look up sends whose call may have been made by a run that stopped before recording it."""
    rows = list(
        Campaign.objects.filter(website_id=website_id, send_status=S.PROCESSING, send_id="").order_by("id")[
            : limit * 10
        ]
    )
    now = _now()
    for row in rows:
        if row.platform_contact_id is None:  # claimed without a contact: no call can have been made
            Campaign.objects.filter(pk=row.pk, send_status=S.PROCESSING, send_id="").update(
                send_status=S.PENDING, claimed_at=None, updated_at=now
            )
            result.add(code, "requeued")
            continue
        try:
            report = client.campaign_contact_activity(row.campaign_id, int(row.platform_contact_id))
        except NotFoundError as exc:
            _finish([row.pk], S.REVIEW, R.UNCONFIRMED, exc.message, sent_at=None)
            result.add(code, "review")
            continue
        if report is not None:
            _finish([row.pk], S.SENT, R.NONE, "", sent_at=_when(report.get("dateSent")))
            result.add(code, "recovered")
            result.add(code, "sent")
        elif row.claimed_at is None or now - row.claimed_at >= LOOKUP_GRACE:
            Campaign.objects.filter(pk=row.pk, send_status=S.PROCESSING, send_id="").update(
                send_status=S.PENDING, claimed_at=None, updated_at=now
            )
            result.add(code, "requeued")
        else:
            result.add(code, "awaiting_report")


def expire_stale(website_id: int, result: JobResult, code: str) -> None:
    """Step 2: sends still processing after :data:`STALE_AFTER` are taken as sent (as the reference)."""
    stale = Campaign.objects.filter(
        website_id=website_id, send_status=S.PROCESSING, updated_at__lt=_now() - STALE_AFTER
    ).exclude(send_id="")
    n = _finish(list(stale.values_list("pk", flat=True)), S.SENT, R.STALE, STALE_MESSAGE)
    if n:
        result.add(code, "stale", n)


def _data_fields(site: WebsiteContext, row: Campaign) -> dict[str, object]:
    mapping = site.cfg.data_field_mapping or {}
    out: dict[str, object] = {}
    if row.event_name == LOST_BASKET and row.quote_id and mapping.get("last_quote_id"):
        out[str(mapping["last_quote_id"])] = row.quote_id
    if row.event_name == ORDER_REVIEW and row.order_increment_id and mapping.get("last_increment_id"):
        out[str(mapping["last_increment_id"])] = row.order_increment_id
    return out


def send_pending(site: WebsiteContext, client: DotdigitalClient, result: JobResult, *, limit: int) -> int:
    """Step 4: send up to ``limit`` pending rows, one call per campaign, each row claimed first.

    Returns:
        The number of send calls the platform accepted.
    """
    code, website_id = site.code, site.website.pk
    rows = list(
        Campaign.objects.filter(website_id=website_id, send_status=S.PENDING).order_by("campaign_id", "id")[
            :limit
        ]
    )
    if not rows:
        return 0
    missing = [r.pk for r in rows if not r.campaign_id or not r.email.strip()]
    if missing:
        _finish(missing, S.FAILED, R.MISSING_DATA, "Missing campaign id or email.")
        result.add(code, "failed", len(missing))
    rows = [r for r in rows if r.pk not in set(missing)]
    busy = _lost_baskets_processing(website_id, [r.email for r in rows if r.event_name == LOST_BASKET])
    waiting = [r for r in rows if r.event_name == LOST_BASKET and r.email.lower() in busy]
    if waiting:
        result.add(code, "skipped", len(waiting))
    rows = [r for r in rows if r not in waiting]
    fields: dict[str, dict[str, object]] = {}
    for r in rows:
        if extra := _data_fields(site, r):
            fields.setdefault(r.email.lower(), {}).update(extra)
    ids = contact_ids.resolve(client, website_id, [r.email for r in rows], data_fields=fields)
    groups: dict[int, list[tuple[Campaign, int]]] = defaultdict(list)
    for r in rows:
        found = ids[r.email.lower()]
        if found.ok:
            assert found.contact_id is not None
            groups[r.campaign_id].append((r, found.contact_id))
            continue
        reason = R.SUPPRESSED if found.status is contact_ids.ContactIdStatus.SUPPRESSED else R.CONTACT_ERROR
        _finish([r.pk], S.FAILED, reason, found.message)
        result.add(code, "failed")
    return sum(
        _send_group(website_id, client, campaign_id, members, result, code)
        for campaign_id, members in groups.items()
    )


def _lost_baskets_processing(website_id: int, emails: list[str]) -> set[str]:
    if not emails:
        return set()
    q = Q()
    for email in set(emails):
        q |= Q(email__iexact=email)
    return {
        e.lower()
        for e in Campaign.objects.filter(
            q, website_id=website_id, event_name=LOST_BASKET, send_status=S.PROCESSING
        ).values_list("email", flat=True)
    }


def _send_group(
    website_id: int,
    client: DotdigitalClient,
    campaign_id: int,
    members: list[tuple[Campaign, int]],
    result: JobResult,
    code: str,
) -> int:
    now = _now()
    claimed = claims.claim(  # the claim is committed before the call
        Campaign,
        {row.pk: contact_id for row, contact_id in members},
        status_field="send_status",
        free=(S.PENDING,),
        claimed=S.PROCESSING,
        at=now,
        extra={"fail_reason": R.NONE, "message": ""},
    )
    if not claimed:
        return 0
    crashpoint("campaign_claimed")
    if not claims.still_ours(
        Campaign, claimed, status_field="send_status", claimed=S.PROCESSING, id_field="send_id", at=now
    ):  # another run took a claim over (step 1): never send twice
        result.add(code, "claim_lost", len(claimed))
        return 0
    targets = sorted({cid for row, cid in members if row.pk in claimed})
    try:
        send = client.send_campaign(campaign_id, targets)
    except PlatformError as exc:
        if exc.transient:
            raise  # the call may have gone out: the rows stay claimed for the next run's lookup
        if exc.error_code == "ERROR_CONTACT_NOT_FOUND":
            contact_ids.forget(website_id, [row.email for row, _ in members if row.pk in claimed])
        _finish(claimed, S.FAILED, R.SEND_REFUSED, exc.message, claimed_at=None)
        result.add(code, "failed", len(claimed))
        return 0
    crashpoint("campaign_sent")
    send_id = str(send.get("id") or "")
    with transaction.atomic():
        if not send_id:
            _finish(claimed, S.FAILED, R.NO_SEND_ID, str(send.get("message") or NO_SEND_ID_MESSAGE))
            result.add(code, "failed", len(claimed))
            return 0
        Campaign.objects.filter(pk__in=claimed).update(send_id=send_id, updated_at=_now())
    result.add(code, "sending", len(claimed))
    return 1


def poll_sends(
    website_id: int, client: DotdigitalClient, result: JobResult, code: str, *, limit: int
) -> None:
    """Step 4: poll up to ``limit`` send ids still processing; settle every row of a finished send."""
    send_ids = list(
        Campaign.objects.filter(website_id=website_id, send_status=S.PROCESSING)
        .exclude(send_id="")
        .order_by("send_id")
        .values_list("send_id", flat=True)
        .distinct()[:limit]
    )
    for send_id in send_ids:
        rows = Campaign.objects.filter(website_id=website_id, send_status=S.PROCESSING, send_id=send_id)
        try:
            send = client.campaign_send_status(send_id)
        except NotFoundError as exc:
            n = rows.update(
                send_status=S.REVIEW, fail_reason=R.UNCONFIRMED, message=exc.message[:255], updated_at=_now()
            )
            result.add(code, "review", n)
            continue
        status = str(send.get("status") or "")
        message = str(send.get("message") or "")
        if message or status == "Cancelled":
            ids = list(rows.values_list("pk", flat=True))
            _finish(ids, S.FAILED, R.SEND_CANCELLED, message or "Send cancelled.")
            result.add(code, "failed", len(ids))
        elif status == "Sent":
            ids = list(rows.values_list("pk", flat=True))
            _finish(ids, S.SENT, R.NONE, "", sent_at=_when(send.get("sendDate")))
            result.add(code, "sent", len(ids))


STATUS_LINE = TableReport(
    "email_campaign", Campaign, "send_status", {int(s.value): str(s.label) for s in CampaignSendStatus}
)
"""The ``dotsync status`` line (and dashboard row) of ``email_campaign``: rows per website by send status."""

RETRYABLE = (S.FAILED, S.REVIEW)
CANCELLABLE = (S.PENDING, S.REVIEW)
CANCELLED_MESSAGE = "Cancelled in dotsync."


def retry(rows: QuerySet[Campaign]) -> int:
    """Queue failed and review rows again (the admin's *Retry*); returns how many.

    A ``REVIEW`` row is one whose send the platform could not confirm after an interrupted run: retrying
    it is the operator's decision that the contact did not get it. Rows pending, processing or sent are
    left alone.
    """
    return rows.filter(send_status__in=RETRYABLE).update(
        send_status=S.PENDING,
        fail_reason=R.NONE,
        message="",
        send_id="",
        claimed_at=None,
        sent_at=None,
        updated_at=_now(),
    )


def cancel(rows: QuerySet[Campaign]) -> int:
    """Never send pending and review rows (the admin's *Cancel*): ``FAILED``, reason ``cancelled``.

    Rows being sent (``PROCESSING``) cannot be cancelled: the platform may already have them.
    """
    now = _now()
    return rows.filter(send_status__in=CANCELLABLE).update(
        send_status=S.FAILED, fail_reason=R.CANCELLED, message=CANCELLED_MESSAGE, sent_at=now, updated_at=now
    )


JOB = CampaignsJob(
    JOB_ID,
    SPEC_NAME,
    "queued campaign sends (abandoned carts, review requests) -> the platform, exactly once",
    JobScope.WEBSITE,
    default_frequency=5,
    after=("importer", "abandoned_carts", "review_requests"),  # sends what they queued
)


def run(website_code: str | None = None) -> JobResult:
    """Run the campaigns job once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
