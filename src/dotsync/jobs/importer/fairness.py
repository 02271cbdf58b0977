"""Which importer rows go next: per account, round-robin across its websites, oldest first in each.

Websites that share an API user share one account (:class:`dotsync.accounts.Account`):
one client, one rate-limit budget, one active-import cap. Within an account the queue is read one
website at a time in turn, so one website's backlog, or a run of failures that keep being retried,
never blocks another website (the Magento connector's issue #545). Rows whose ``next_attempt_at`` is
still ahead are skipped. Bulk imports only start while the account has room under its caps;
single-record rows have no cap and interleave with them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime

from dotsync.accounts import Account
from dotsync.jobs.importer.operation import Kind
from dotsync.jobs.importer.operations import CAPS, OPERATIONS, kind_of
from dotsync.jobs.importer.state import due
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus

CONTACT_IMPORT = Kind.CONTACT_IMPORT
INSIGHT_IMPORT = Kind.INSIGHT_IMPORT
SINGLE = Kind.CALL

KIND_BY_MODE: dict[str, Kind] = {mode: op.kind for mode, op in OPERATIONS.items() if op.is_import}
"""Bulk modes and the platform import they start (a view of :data:`.operations.OPERATIONS`)."""

PLATFORM_CAPS: dict[Kind, int] = CAPS
"""The platform's concurrent-import limits per account: 25 contact imports, 5 insight bulk imports."""

PAGE = 50
"""Queue rows read per website at a time."""


def caps(account: Account) -> dict[Kind, int]:
    """Active-import caps per kind: the account's ``import_cap``, within the platform's own limits."""
    return {kind: max(1, min(account.import_cap, limit)) for kind, limit in PLATFORM_CAPS.items()}


def active(account: Account) -> dict[Kind, int]:
    """Imports in progress on the platform (and claimed ones), per kind."""
    counts = {kind: 0 for kind in PLATFORM_CAPS}
    rows = Importer.objects.filter(
        website_id__in=account.website_ids,
        import_status=ImportStatus.IMPORTING,
        import_mode__in=list(KIND_BY_MODE),
    ).values_list("import_mode", flat=True)
    for mode in rows.iterator():
        counts[kind_of(mode)] += 1
    return counts


class Queue:
    """The account's due ``PENDING`` rows, one website at a time in turn, oldest first in each.

    Call :meth:`close` with a kind (``contact``/``insight``) once the account has no room for it:
    later pages leave those rows out, and rows of that kind already read are passed over.
    """

    def __init__(self, website_ids: list[int], now: datetime, *, page: int = PAGE) -> None:
        self.now = now
        self.page = page
        self.closed: set[Kind] = set()
        self._buffers: dict[int, deque[Importer]] = {w: deque() for w in website_ids}
        self._last: dict[int, int] = {w: 0 for w in website_ids}
        self._exhausted: set[int] = set()

    def close(self, kind: Kind) -> None:
        """Stop offering rows of ``kind``."""
        self.closed.add(kind)

    def __iter__(self) -> Iterator[Importer]:
        turn = deque(self._buffers)
        while turn:
            website_id = turn.popleft()
            row = self._next(website_id)
            if row is None:
                continue
            turn.append(website_id)
            yield row

    def _next(self, website_id: int) -> Importer | None:
        buffer = self._buffers[website_id]
        while True:
            while buffer:
                row = buffer.popleft()
                if kind_of(row.import_mode) not in self.closed:
                    return row
            if website_id in self._exhausted or not self._fill(website_id):
                return None

    def _fill(self, website_id: int) -> bool:
        qs = Importer.objects.filter(
            due(self.now),
            website_id=website_id,
            import_status=ImportStatus.PENDING,
            pk__gt=self._last[website_id],
        )
        closed_modes = [mode for mode, kind in KIND_BY_MODE.items() if kind in self.closed]
        if closed_modes:
            qs = qs.exclude(import_mode__in=closed_modes)
        # payloads (up to 45 MB each) are read one row at a time, when the row is started
        rows = list(qs.defer("import_data").order_by("pk")[: self.page])
        if len(rows) < self.page:
            self._exhausted.add(website_id)
        if not rows:
            return False
        self._last[website_id] = rows[-1].pk
        self._buffers[website_id].extend(rows)
        return True
