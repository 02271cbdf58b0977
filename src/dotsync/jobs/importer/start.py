"""Start the next imports of an account: bulk imports within its caps, single-record calls in turn.

Rows come from :class:`~.fairness.Queue` (round-robin across websites, oldest first). Each row is
claimed, then sent:

* contact ``Bulk``: the batch's CSV goes to its address book (``import_contacts_csv``);
* insight ``Bulk_JSON``: the records go to ``insight_import``;
* any other mode: its handler in :mod:`.single` makes the call and the row is settled at once.

A started bulk import becomes ``IMPORTING`` with its ``import_id`` (``retry_count`` unchanged); the
platform confirms it later (:mod:`.poll`). Failures follow :mod:`.retry`'s table.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from dotsync.config import WebsiteSettings
from dotsync.crashpoints import crashpoint
from dotsync.exceptions import DotsyncError
from dotsync.jobs import queue
from dotsync.jobs.base import JobResult
from dotsync.jobs.health import unreachable_line
from dotsync.jobs.importer import bisect, state
from dotsync.jobs.importer.fairness import CONTACT_IMPORT, INSIGHT_IMPORT, SINGLE, Account, Queue, kind_of
from dotsync.jobs.importer.retry import BACKOFF, Outcome, classify, describe
from dotsync.jobs.importer.single import HANDLERS, StartImport
from dotsync.models import Importer
from dotsync.models.importer import ImportMode, WaitReason

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)


WAITS: dict[Outcome, WaitReason] = {
    Outcome.WAIT: WaitReason.BUSY,
    Outcome.THROTTLED: WaitReason.THROTTLED,
    Outcome.HALT_ACCOUNT: WaitReason.CREDENTIALS,
    Outcome.UNREACHABLE: WaitReason.UNREACHABLE,
}
"""Outcomes that hold a row without spending a retry, and the reason the row shows."""


@dataclass
class Budget:
    """How many more platform calls that start work this run may make (None = no limit)."""

    left: int | None = None

    @property
    def exhausted(self) -> bool:
        """True once no start is left."""
        return self.left is not None and self.left <= 0

    def spend(self) -> None:
        """Use one start."""
        if self.left is not None:
            self.left -= 1


def start_account(account: Account, client: DotdigitalClient, result: JobResult, budget: Budget) -> None:
    """Start what the account has room for, fairly across its websites."""
    now = timezone.now()
    caps, active = account.caps(), account.active()
    rows = Queue(account.website_ids, now)
    for kind in (CONTACT_IMPORT, INSIGHT_IMPORT):
        if active[kind] >= caps[kind]:
            rows.close(kind)
    settings = {website.pk: cfg for website, cfg in account.websites}
    for row in rows:
        if budget.exhausted:
            return
        kind = kind_of(row.import_mode)
        if kind != SINGLE and active[kind] >= caps[kind]:
            rows.close(kind)
            continue
        if kind == SINGLE and queue.waits_for(row):
            continue  # its record is still being imported: sent once that import settles
        if not state.claim(row):
            continue
        budget.spend()
        cfg = settings[state.website_of(row)]
        outcome = _send(row, client, cfg, result)
        if outcome is None:
            if row.import_id:
                active[kind_of(row.import_mode)] += 1
            continue
        if outcome is Outcome.WAIT:
            rows.close(kind)
        elif outcome is Outcome.THROTTLED:
            return  # this account makes no more calls this run
        elif outcome is Outcome.HALT_ACCOUNT:
            result.errors.append(
                f"website {cfg.website_code}: the platform refused the API credentials; the rows stay "
                f"queued. What to do: fix the API user and password, then run `dotsync retry` to send "
                f"them now (otherwise they are tried again in {BACKOFF.account / 60:.0f} minutes)"
            )
            return
        elif outcome is Outcome.UNREACHABLE:
            codes = ", ".join(c.website_code for _, c in account.websites)
            result.errors.append(unreachable_line(codes, client.breaker.cause))
            return


def _send(row: Importer, client: DotdigitalClient, cfg: WebsiteSettings, result: JobResult) -> Outcome | None:
    """Send one claimed row. Returns None on success, else the failure's outcome."""
    code = cfg.website_code
    try:
        if row.import_mode in HANDLERS:
            try:
                note = HANDLERS[row.import_mode](client, queue.Envelope.load(row).payload, cfg)
            except StartImport as switch:
                _switch_to_bulk(row, switch)
                return _send(row, client, cfg, result)
            state.imported(row, message=note)
            result.add(code, "sent")
            return None
        import_id = _start_bulk(row, client, cfg)
        crashpoint("import_started")
    except Exception as exc:  # every failure is the row's: one bad row never stops the queue
        if not isinstance(exc, DotsyncError | ValueError):
            logger.exception("importer: #%s could not be sent", row.pk)
        return _failed(row, exc, cfg, result)
    state.started(row, import_id)
    result.add(code, "started")
    logger.info(
        "importer: started #%s (%s/%s) as import %s", row.pk, row.import_type, row.import_mode, import_id
    )
    return None


def _start_bulk(row: Importer, client: DotdigitalClient, cfg: WebsiteSettings) -> str:
    if row.import_mode == ImportMode.BULK_JSON:
        return _start_insight(row, client)
    payload = queue.Envelope.load(row).payload
    if row.import_mode == ImportMode.BULK:
        book = payload.get("address_book_id") or cfg.address_book(payload.get("address_book", "customers"))
        if not book:
            raise DotsyncError(
                f"no {payload.get('address_book', 'customers')} address book is configured for website "
                f"{cfg.website_code}; set one in the configuration, then retry the row"
            )
        filename = f"{cfg.website_code}_{row.import_type}_{row.pk}.csv".lower()
        return client.import_contacts_csv(int(book), payload["csv"].encode("utf-8"), filename=filename)
    raise DotsyncError(f"import mode {row.import_mode!r} has no handler; the row cannot be sent")


def _start_insight(row: Importer, client: DotdigitalClient) -> str:
    """Send an insight batch with its records' JSON as stored (parsed only if stored otherwise)."""
    text = queue.Envelope.text_of(row)
    split = queue.split_records(text)
    if split is None:
        payload = json.loads(text).get("payload", {})
        return client.insight_import(
            payload["collection"],
            payload["records"],
            scope=payload.get("scope", "contact"),
            collection_type=payload.get("type"),
        )
    head, records_json = split
    del text  # the records' text is all that is kept while the call runs
    payload = head.get("payload", {})
    return client.insight_import_json(
        payload["collection"],
        records_json,
        row.record_count,
        scope=payload.get("scope", "contact"),
        collection_type=payload.get("type"),
    )


def _switch_to_bulk(row: Importer, switch: StartImport) -> None:
    envelope = queue.Envelope.load(row)
    row.import_mode = switch.mode
    row.import_data = queue.Envelope(envelope.table, envelope.stream, envelope.rows, switch.payload).dumps()
    row.save(update_fields=["import_mode", "import_data"])


def _failed(row: Importer, exc: Exception, cfg: WebsiteSettings, result: JobResult) -> Outcome:
    """Apply the failure policy to a claimed row."""
    code = cfg.website_code
    outcome = classify(exc, records=bisect.record_count(row))
    logger.warning(
        "importer: #%s (%s/%s) %s: %s", row.pk, row.import_type, row.import_mode, outcome.value, exc
    )
    if outcome in WAITS:
        state.retry_later(row, exc, WAITS[outcome], count=False)
        result.add(code, "waiting")
    elif outcome is Outcome.RETRY:
        state.retry_later(row, exc, WaitReason.PLATFORM_ERROR)
        result.add(code, "retrying")
    elif outcome is Outcome.SPLIT:
        bisect.split(row, describe(exc))
        result.add(code, "split")
    else:
        state.failed(row, describe(exc))
        result.add(code, "failed")
    return outcome
