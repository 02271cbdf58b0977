"""``automation`` (reference §2.6): programme enrolment of ``email_automation`` rows, exactly once.

The store's observers (:mod:`dotsync.store.oscar.observers.automations`) and the abandoned-cart job
(its programme variant) queue one row per (website, type, entity). Per website with valid settings,
each run:

1. **Interrupted enrolments.** A ``Processing`` row without an ``enrolment_id`` was claimed by a run
   that stopped (crash, kill, timeout on the call) before it recorded the platform's answer: the
   enrolment may or may not exist. The programme's enrolments are looked up
   (``GET /v2/programs/enrolments/{Processing|Finished}``): one of the programme, not recorded on any
   other row, listing the row's contact -> ``Active`` with that ``enrolment_id``. None lists it and
   every enrolment of the programme names its contacts -> back to ``pending`` (the platform says the
   call never reached it). An enrolment of the programme that does not name its contacts makes the
   lookup unable to tell: the row goes to ``Review`` (``fail_reason`` ``unconfirmed``); it is never
   enrolled blind.
2. **Faults.** ``Active`` rows whose enrolment has finished get its report-faults read once
   (``faults_checked_at``): a contact listed as unsubscribed is ``Failed`` (``suppressed``, the
   platform's reason in ``message``); ``AlreadyInProgram`` stays ``Active`` with that message.
3. **Enrol** up to :data:`ROW_LIMIT` ``pending`` / ``Confirmed`` rows, oldest first:

   * the programme is the row's ``program_id``, else the store's setting now (none -> ``Failed``,
     ``no_programme``); an abandoned-cart row whose basket emptied is ``Cancelled`` (``empty_basket``);
   * no ``email_contact`` row -> ``Failed`` (``no_contact``); a contact whose store subscription awaits
     confirmation (double opt-in), or whom the platform answers as ``PendingOptIn``, -> ``PendingOptIn``
     (not enrolled; ``pending_contacts`` confirms or expires it);
   * an order type waits (stays ``pending``) while its order's insight record has not reached the
     platform yet (the ``orders`` job and the importer send it): the programme finds the order;
   * the contact's data fields (store and website name; for order types LAST_ORDER_ID,
     LAST_INCREMENT_ID, LAST_ORDER_DATE, CUSTOMER_ID; for baskets LAST_QUOTE_ID) go in the one call that
     gets its platform id (:mod:`~dotsync.jobs.automation.contact_ids`); a suppressed contact fails the
     row (``suppressed``);
   * rows are grouped per programme, at most :data:`MAX_ENROLMENT_CONTACTS` contacts per call and
     :data:`CALLS_PER_RUN` calls per website per run (the platform allows 20 calls an hour per account;
     the job runs every 15 minutes). Each group is **claimed** (``Processing``, ``claimed_at``,
     ``platform_contact_id``) in its own committed transaction, then enrolled
     (``POST /v2/programs/enrolments``); the answer is recorded in one transaction: the id ->
     ``Active``; ``ERROR_PROGRAM_NOT_ACTIVE`` -> ``Deactivated``; the hourly allowance used up -> back
     to ``pending`` (and no more calls this run); any other refusal -> ``Failed`` (``enrol_refused``,
     the platform's message).

A transient platform error stops the website's run (reported in the result); claimed rows whose call
may have gone out are taken up by step 1 of a later run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import get_store_config
from dotsync.crashpoints import crashpoint
from dotsync.exceptions import NotFoundError, PlatformError
from dotsync.jobs.automation import claims, contact_ids
from dotsync.jobs.automation.passes import run_per_website
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.jobs.status_lines import TableReport
from dotsync.models import Contact, Order, Quote, SyncStatus
from dotsync.models.automation import (
    Automation,
    AutomationFailReason,
    AutomationStatus,
    AutomationType,
    is_order_type,
    programme_setting,
)
from dotsync.models.newsletter import SubscriberStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.platform.dotdigital.client import MAX_ENROLMENT_CONTACTS

logger = logging.getLogger(__name__)

JOB_ID = "automation"
SPEC_NAME = "ddg.sync.automation"
ROW_LIMIT = 100
"""Rows enrolled per website per run (the reference's batch of 100)."""
CALLS_PER_RUN = 5
"""Enrolment calls per website per run: the platform allows 20 an hour per account, the job runs every
15 minutes."""
AWAITING_CONFIRMATION = (SubscriberStatus.NOT_ACTIVE, SubscriberStatus.UNCONFIRMED)
"""Store subscription statuses that mean "subscribed, awaiting confirmation" (double opt-in)."""
PENDING_OPT_IN = "PendingOptIn"
"""The platform's status of a contact who has not confirmed a double opt-in yet."""
NOT_ACTIVE_CODE = "ERROR_PROGRAM_NOT_ACTIVE"
ALLOWANCE_CODE = "ERROR_ENROLMENT_ALLOWANCE_EXCEEDED"
SUPPRESSED_REASONS = frozenset({"Unsubcribed", "Unsubscribed", "Suppressed"})
"""report-faults reasons of a contact that cannot receive the programme (the spec's example spells
``Unsubcribed``)."""
NO_CONTACT_MESSAGE = "Could not find matching contact in email_contact."
NO_ENROLMENT_ID_MESSAGE = "No enrolment id returned."
CANCELLED_MESSAGE = "Cancelled in dotsync."

S = AutomationStatus
R = AutomationFailReason


def _finish(
    ids: Iterable[int], status: AutomationStatus, reason: AutomationFailReason, message: str, **extra: Any
) -> int:
    return Automation.objects.filter(pk__in=list(ids)).update(
        enrolment_status=status, fail_reason=reason, message=message[:255], **extra, updated_at=claims.now()
    )


class AutomationJob(Job):
    """Enrols ``email_automation`` rows per website (see the module docstring)."""

    def run(self, ctx: RunContext, *, limit: int = ROW_LIMIT) -> JobResult:
        """Recover, check faults and enrol for every valid website of the run."""
        return run_per_website(
            self.id,
            ctx,
            "automation",
            lambda site, client, result: run_website(site, client, result, limit=limit),
        )


def run_website(site: WebsiteContext, client: DotdigitalClient, result: JobResult, *, limit: int) -> None:
    """One website's run: interrupted enrolments, faults of finished ones, new enrolments."""
    recover_interrupted(site.website.pk, client, result, site.code)
    check_faults(site.website.pk, client, result, site.code)
    enrol_pending(site, client, result, limit=limit)


# --- step 1: interrupted enrolments -------------------------------------------------------------------


def recover_interrupted(website_id: int, client: DotdigitalClient, result: JobResult, code: str) -> None:
    """Step 1: look up enrolments whose call may have been made by a run that stopped before recording it."""
    rows = list(
        Automation.objects.filter(
            website_id=website_id, enrolment_status=S.PROCESSING, enrolment_id=""
        ).order_by("id")
    )
    if not rows:
        return
    enrolments: list[dict[str, Any]] | None = None
    recorded = set(  # enrolments other rows stand for already
        Automation.objects.filter(website_id=website_id)
        .exclude(enrolment_id="")
        .values_list("enrolment_id", flat=True)
    )
    taken: dict[str, Any] = {}  # enrolment id -> the claim it was found for in this run
    for row in rows:
        if row.platform_contact_id is None:  # claimed without a contact: no call can have been made
            _requeue(row.pk)
            result.add(code, "requeued")
            continue
        if enrolments is None:
            enrolments = [
                *client.enrolments_by_status("Processing"),
                *client.enrolments_by_status("Finished"),
            ]
        mine = [
            e
            for e in enrolments
            if str(e.get("programId")) == row.program_id
            and str(e.get("id")) not in recorded
            and taken.get(str(e.get("id")), row.claimed_at) == row.claimed_at  # one claim, one enrolment
        ]
        found = next((e for e in mine if row.platform_contact_id in (e.get("contacts") or [])), None)
        if found is not None:
            enrolment_id = str(found["id"])
            with transaction.atomic():
                _finish([row.pk], S.ACTIVE, R.NONE, "", enrolment_id=enrolment_id)
            taken[enrolment_id] = row.claimed_at
            result.add(code, "recovered")
            result.add(code, "active")
        elif any(not isinstance(e.get("contacts"), list) for e in mine):
            _finish(
                [row.pk], S.REVIEW, R.UNCONFIRMED, "The platform's enrolments do not name their contacts."
            )
            result.add(code, "review")
        else:
            _requeue(row.pk)
            result.add(code, "requeued")


def _requeue(pk: int) -> None:
    Automation.objects.filter(pk=pk, enrolment_status=S.PROCESSING, enrolment_id="").update(
        enrolment_status=S.PENDING, claimed_at=None, updated_at=claims.now()
    )


# --- step 2: report-faults ----------------------------------------------------------------------------


def check_faults(website_id: int, client: DotdigitalClient, result: JobResult, code: str) -> None:
    """Step 2: read the report-faults of finished enrolments once; unsubscribed contacts fail their row."""
    enrolment_ids = list(
        Automation.objects.filter(website_id=website_id, enrolment_status=S.ACTIVE, faults_checked_at=None)
        .exclude(enrolment_id="")
        .order_by("enrolment_id")
        .values_list("enrolment_id", flat=True)
        .distinct()[: CALLS_PER_RUN * 4]
    )
    for enrolment_id in enrolment_ids:
        rows = Automation.objects.filter(
            website_id=website_id, enrolment_id=enrolment_id, faults_checked_at=None
        )
        try:
            faults = client.enrolment_faults(enrolment_id)
        except NotFoundError as exc:
            n = rows.update(
                faults_checked_at=claims.now(), message=exc.message[:255], updated_at=claims.now()
            )
            result.add(code, "faults_unknown", n)
            continue
        except PlatformError as exc:
            if exc.transient:
                raise
            continue  # ERROR_ENROLMENT_IS_PROCESSING: the next run reads it
        reasons = {str(f.get("Id") or ""): str(f.get("Reason") or "") for f in faults}
        now = claims.now()
        with transaction.atomic():
            for row in rows:
                reason = reasons.get(str(row.platform_contact_id))
                if reason in SUPPRESSED_REASONS:
                    _finish([row.pk], S.FAILED, R.SUPPRESSED, reason, faults_checked_at=now)
                    result.add(code, "failed")
                else:
                    Automation.objects.filter(pk=row.pk).update(
                        faults_checked_at=now, message=(reason or row.message)[:255], updated_at=now
                    )


# --- step 3: enrol ------------------------------------------------------------------------------------


def _programme(site: WebsiteContext, row: Automation, cache: dict[int | None, Any]) -> str:
    if row.program_id:
        return row.program_id
    if row.store_id not in cache:
        store = site.store(row.store_id)
        cache[row.store_id] = None if store is None else get_store_config(store, site.cfg)
    scfg = cache[row.store_id]
    value = None if scfg is None else scfg.values.get(programme_setting(row.automation_type))
    return "" if value is None else str(value)


def _order_waits(site: WebsiteContext, order: Order | None) -> bool:
    """Whether an order type's row waits for its order's insight record to reach the platform."""
    if order is None or not site.cfg.sync_orders:
        return False
    if order.last_imported_at is not None:
        return False
    return order.sync_status not in (SyncStatus.FAILED, SyncStatus.SKIPPED)


def _data_fields(site: WebsiteContext, row: Automation, order: Order | None) -> dict[str, object]:
    mapping = site.cfg.data_field_mapping or {}
    values: dict[str, object] = {"website_name": site.website.name}
    store = site.stores.get(row.store_id) if row.store_id else None
    if store is not None or row.store_name:
        values["store_name"] = store.name if store is not None else row.store_name
    if order is not None:
        values["last_order_id"] = order.order_id
        values["last_increment_id"] = order.order_number
        values["last_order_date"] = (order.order_updated_at or order.created_at).isoformat()
        if order.customer_id is not None:
            values["customer_id"] = order.customer_id
    if row.automation_type == AutomationType.ABANDONED_CART and row.type_id.isdigit():
        values["last_quote_id"] = int(row.type_id)
    return {str(mapping[k]): v for k, v in values.items() if mapping.get(k)}


def enrol_pending(site: WebsiteContext, client: DotdigitalClient, result: JobResult, *, limit: int) -> None:
    """Step 3: enrol up to ``limit`` waiting rows (see the module docstring)."""
    code, website_id = site.code, site.website.pk
    rows = list(
        Automation.objects.filter(website_id=website_id, enrolment_status__in=S.waiting()).order_by("id")[
            :limit
        ]
    )
    if not rows:
        return
    emails = {r.email.lower() for r in rows}
    contacts = {c.email: c for c in Contact.objects.filter(website_id=website_id, email__in=emails)}
    orders = {
        o.order_number: o
        for o in Order.objects.filter(
            website_id=website_id,
            order_number__in=[r.type_id for r in rows if is_order_type(r.automation_type)],
        )
    }
    baskets = {
        str(q.quote_id): q
        for q in Quote.objects.filter(
            quote_id__in=[
                int(r.type_id)
                for r in rows
                if r.automation_type == AutomationType.ABANDONED_CART and r.type_id.isdigit()
            ]
        )
    }
    settings: dict[int | None, Any] = {}
    ready: list[tuple[Automation, str]] = []
    fields: dict[str, dict[str, object]] = {}
    for row in rows:
        programme = _programme(site, row, settings)
        if not programme.isdigit():
            _finish([row.pk], S.FAILED, R.NO_PROGRAMME, "No programme set for this automation type.")
            result.add(code, "failed")
            continue
        if row.automation_type == AutomationType.ABANDONED_CART:
            basket = baskets.get(row.type_id)
            if basket is None or basket.item_count <= 0:
                _finish([row.pk], S.CANCELLED, R.EMPTY_BASKET, "The basket has no items.")
                result.add(code, "cancelled")
                continue
        contact = contacts.get(row.email.lower())
        if contact is None:
            _finish([row.pk], S.FAILED, R.NO_CONTACT, NO_CONTACT_MESSAGE)
            result.add(code, "failed")
            continue
        if not contact.is_subscriber and contact.subscriber_status in AWAITING_CONFIRMATION:
            _finish([row.pk], S.PENDING_OPT_IN, R.NONE, "")
            result.add(code, "pending_opt_in")
            continue
        order = orders.get(row.type_id) if is_order_type(row.automation_type) else None
        if _order_waits(site, order):
            result.add(code, "waiting_order")
            continue
        if extra := _data_fields(site, row, order):
            fields.setdefault(row.email.lower(), {}).update(extra)
        ready.append((row, programme))
    if not ready:
        return
    ids = contact_ids.resolve(client, website_id, [r.email for r, _ in ready], data_fields=fields)
    groups: dict[str, list[tuple[Automation, int]]] = defaultdict(list)
    for row, programme in ready:
        found = ids[row.email.lower()]
        if found.ok and found.platform_status == PENDING_OPT_IN:  # the platform awaits the opt-in
            _finish([row.pk], S.PENDING_OPT_IN, R.NONE, "")
            result.add(code, "pending_opt_in")
            continue
        if found.ok:
            assert found.contact_id is not None
            groups[programme].append((row, found.contact_id))
            continue
        reason = R.SUPPRESSED if found.status is contact_ids.ContactIdStatus.SUPPRESSED else R.CONTACT_ERROR
        _finish([row.pk], S.FAILED, reason, found.message)
        result.add(code, "failed")
    calls = 0
    for programme, members in groups.items():
        for chunk in _chunks(members):
            if calls >= CALLS_PER_RUN:
                result.add(code, "deferred", len(chunk))
                continue
            calls += 1
            if not _enrol_group(website_id, client, programme, chunk, result, code):
                calls = CALLS_PER_RUN  # the hourly allowance is used up: no more calls this run


def _chunks(members: list[tuple[Automation, int]]) -> Iterable[list[tuple[Automation, int]]]:
    """Groups of rows with at most :data:`MAX_ENROLMENT_CONTACTS` distinct contacts each."""
    chunk: list[tuple[Automation, int]] = []
    contacts: set[int] = set()
    for row, contact_id in members:
        if contact_id not in contacts and len(contacts) == MAX_ENROLMENT_CONTACTS:
            yield chunk
            chunk, contacts = [], set()
        chunk.append((row, contact_id))
        contacts.add(contact_id)
    if chunk:
        yield chunk


def _enrol_group(
    website_id: int,
    client: DotdigitalClient,
    programme: str,
    members: list[tuple[Automation, int]],
    result: JobResult,
    code: str,
) -> bool:
    """Claim, enrol and record one group; False when the platform's hourly allowance is used up."""
    at = claims.now()
    claimed = claims.claim(
        Automation,
        {row.pk: contact_id for row, contact_id in members},
        status_field="enrolment_status",
        free=S.waiting(),
        claimed=S.PROCESSING,
        at=at,
        extra={"program_id": programme, "fail_reason": R.NONE, "message": ""},
    )
    if not claimed:
        return True
    crashpoint("enrolment_claimed")
    if not claims.still_ours(
        Automation,
        claimed,
        status_field="enrolment_status",
        claimed=S.PROCESSING,
        id_field="enrolment_id",
        at=at,
    ):  # another run took the claim over (step 1): never enrol twice
        result.add(code, "claim_lost", len(claimed))
        return True
    targets = sorted({cid for row, cid in members if row.pk in claimed})
    try:
        enrolment = client.enrol(int(programme), targets)
    except PlatformError as exc:
        if exc.transient:
            raise  # the call may have gone out: the rows stay claimed for the next run's lookup
        if exc.error_code == ALLOWANCE_CODE:
            Automation.objects.filter(pk__in=claimed).update(
                enrolment_status=S.PENDING, claimed_at=None, updated_at=claims.now()
            )
            result.add(code, "allowance_exceeded", len(claimed))
            return False
        if exc.error_code == NOT_ACTIVE_CODE:
            _finish(claimed, S.DEACTIVATED, R.NONE, exc.message, claimed_at=None)
            result.add(code, "deactivated", len(claimed))
            return True
        if exc.error_code == "ERROR_CONTACT_NOT_FOUND":
            contact_ids.forget(website_id, [row.email for row, _ in members if row.pk in claimed])
        _finish(claimed, S.FAILED, R.ENROL_REFUSED, exc.message, claimed_at=None)
        result.add(code, "failed", len(claimed))
        return True
    crashpoint("enrolment_sent")
    enrolment_id = str(enrolment.get("id") or "")
    with transaction.atomic():
        if not enrolment_id:
            _finish(
                claimed, S.FAILED, R.NO_ENROLMENT_ID, str(enrolment.get("message") or NO_ENROLMENT_ID_MESSAGE)
            )
            result.add(code, "failed", len(claimed))
            return True
        _finish(claimed, S.ACTIVE, R.NONE, "", enrolment_id=enrolment_id)
    result.add(code, "active", len(claimed))
    return True


# --- admin and status ---------------------------------------------------------------------------------


_LABELS: dict[Any, str] = {str(s.value): str(s.label) for s in S}  # TableReport takes any status value
STATUS_LINE = TableReport("email_automation", Automation, "enrolment_status", _LABELS)
"""The ``dotsync status`` line (and dashboard row) of ``email_automation``: rows per website by status."""

RETRYABLE = (S.FAILED, S.REVIEW, S.DEACTIVATED, S.EXPIRED, S.CANCELLED)
CANCELLABLE = (S.PENDING, S.CONFIRMED, S.PENDING_OPT_IN, S.REVIEW)


def retry(rows: QuerySet[Automation]) -> int:
    """Queue failed, review, deactivated, expired and cancelled rows again (the admin's *Retry*).

    A ``Review`` row is one whose enrolment the platform could not confirm after an interrupted run:
    retrying it is the operator's decision that the contact was not enrolled. Rows waiting, processing
    or active are left alone.
    """
    return rows.filter(enrolment_status__in=RETRYABLE).update(
        enrolment_status=S.PENDING,
        fail_reason=R.NONE,
        message="",
        enrolment_id="",
        claimed_at=None,
        faults_checked_at=None,
        updated_at=claims.now(),
    )


def cancel(rows: QuerySet[Automation]) -> int:
    """Never enrol waiting and review rows (the admin's *Cancel*): ``Cancelled``, reason ``cancelled``.

    Rows being enrolled (``Processing``) cannot be cancelled: the platform may already have them.
    """
    return rows.filter(enrolment_status__in=CANCELLABLE).update(
        enrolment_status=S.CANCELLED,
        fail_reason=R.CANCELLED,
        message=CANCELLED_MESSAGE,
        updated_at=claims.now(),
    )


JOB = AutomationJob(
    JOB_ID,
    SPEC_NAME,
    "email_automation rows (registrations, subscriptions, orders, reviews, wishlists, baskets) -> programme "
    "enrolments, exactly once",
    JobScope.WEBSITE,
    default_frequency=15,
    after=("importer", "abandoned_carts"),  # the orders' insight records first; the basket programme rows
)


def run(website_code: str | None = None) -> JobResult:
    """Run the automation job once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
