"""Start the next imports of an account: bulk imports within its caps, single-record calls in turn.

Rows come from :class:`~.fairness.Queue` (round-robin across websites, oldest first). Each row is
claimed, then sent by the ``start`` of its import mode's :class:`~.operation.Operation`
(:mod:`.operations`): a bulk import (:mod:`.bulk`) returns the platform's import id, a call
(:mod:`.calls`) is settled at once.

A started bulk import becomes ``IMPORTING`` with its ``import_id`` (``retry_count`` unchanged); the
platform confirms it later (:mod:`.poll`). Failures follow :mod:`.retry`'s table.
"""

from __future__ import annotations

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
from dotsync.jobs.importer import bisect, fairness, state
from dotsync.jobs.importer.calls import StartImport
from dotsync.jobs.importer.fairness import Account, Queue
from dotsync.jobs.importer.operation import Kind
from dotsync.jobs.importer.operations import OPERATIONS, kind_of, operation
from dotsync.jobs.importer.retry import BACKOFF, Outcome, classify, describe
from dotsync.models import Importer
from dotsync.models.importer import WaitReason

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
    caps, active = fairness.caps(account), fairness.active(account)
    rows = Queue(account.website_ids, now)
    for kind in caps:
        if active[kind] >= caps[kind]:
            rows.close(kind)
    settings = account.settings()
    for row in rows:
        if budget.exhausted:
            return
        kind = kind_of(row.import_mode)
        if kind is not Kind.CALL and active[kind] >= caps[kind]:
            rows.close(kind)
            continue
        op = OPERATIONS.get(row.import_mode)
        if (op is None or op.waits_for_carrier) and queue.waits_for(row):
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
            result.errors.append(unreachable_line(account.codes, client.breaker.cause))
            return


def _send(row: Importer, client: DotdigitalClient, cfg: WebsiteSettings, result: JobResult) -> Outcome | None:
    """Send one claimed row through its operation. Returns None on success, else the failure's outcome.

    A call is settled as soon as it returns; a bulk import is recorded as started with its import id.
    """
    code = cfg.website_code
    try:
        op = operation(row.import_mode)
        try:
            started = op.start(client, row, cfg)
        except StartImport as switch:
            _switch_to_bulk(row, switch)
            return _send(row, client, cfg, result)
        if not op.is_import:
            state.imported(row, message=started.note)
            result.add(code, "sent")
            return None
        crashpoint("import_started")
    except Exception as exc:  # every failure is the row's: one bad row never stops the queue
        if not isinstance(exc, DotsyncError | ValueError):
            logger.exception("importer: #%s could not be sent", row.pk)
        return _failed(row, exc, cfg, result)
    state.started(row, started.import_id)
    result.add(code, "started")
    logger.info(
        "importer: started #%s (%s/%s) as import %s",
        row.pk,
        row.import_type,
        row.import_mode,
        started.import_id,
    )
    return None


def _switch_to_bulk(row: Importer, switch: StartImport) -> None:
    envelope = queue.Envelope.load(row)
    row.import_mode = switch.mode
    row.import_data = queue.Envelope(envelope.table, envelope.stream, envelope.rows, switch.payload).dumps()
    row.save(update_fields=["import_mode", "import_data"])


def _failed(row: Importer, exc: Exception, cfg: WebsiteSettings, result: JobResult) -> Outcome:
    """Apply the failure policy to a claimed row."""
    code = cfg.website_code
    op = OPERATIONS.get(row.import_mode)
    outcome = classify(exc, records=bisect.record_count(row, op))
    logger.warning(
        "importer: #%s (%s/%s) %s: %s", row.pk, row.import_type, row.import_mode, outcome.value, exc
    )
    if outcome in WAITS:
        state.retry_later(row, exc, WAITS[outcome], count=False)
        result.add(code, "waiting")
    elif outcome is Outcome.RETRY:
        state.retry_later(row, exc, WaitReason.PLATFORM_ERROR)
        result.add(code, "retrying")
    elif outcome is Outcome.SPLIT and op is not None and op.splittable:
        bisect.split(row, describe(exc), op)
        result.add(code, "split")
    else:
        state.failed(row, describe(exc))
        result.add(code, "failed")
    return outcome
