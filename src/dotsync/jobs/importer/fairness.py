"""Which importer rows go next: per account, round-robin across its websites, oldest first in each.

Websites that share an API user share one account (:func:`~dotsync.platform.accounts.account_key`):
one client, one rate-limit budget, one active-import cap. Within an account the queue is read one
website at a time in turn, so one website's backlog, or a run of failures that keep being retried,
never blocks another website (the Magento connector's issue #545). Rows whose ``next_attempt_at`` is
still ahead are skipped. Bulk imports only start while the account has room under its caps;
single-record rows have no cap and interleave with them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from dotsync.config import WebsiteSettings
from dotsync.jobs.importer.state import due
from dotsync.models import Importer, Website
from dotsync.models.importer import ImportMode, ImportStatus
from dotsync.platform.accounts import account_key

CONTACT_IMPORT = "contact"
INSIGHT_IMPORT = "insight"
SINGLE = "single"

KIND_BY_MODE: dict[str, str] = {
    ImportMode.BULK: CONTACT_IMPORT,
    ImportMode.BULK_JSON: INSIGHT_IMPORT,
}
"""Bulk modes and the platform import they start; every other mode is a single-record call."""

PLATFORM_CAPS: dict[str, int] = {CONTACT_IMPORT: 25, INSIGHT_IMPORT: 5}
"""The platform's concurrent-import limits per account: 25 contact imports, 5 insight bulk imports."""

PAGE = 50
"""Queue rows read per website at a time."""


def kind_of(mode: str) -> str:
    """``contact``, ``insight`` or ``single`` for an import mode."""
    return KIND_BY_MODE.get(mode, SINGLE)


@dataclass
class Account:
    """The websites served by one dotdigital account, and its settings (the first website's).

    Attributes:
        key: :func:`~dotsync.platform.accounts.account_key` of the account.
        websites: the account's enabled websites with their settings, by website id.
    """

    key: tuple[str, str]
    websites: list[tuple[Website, WebsiteSettings]] = field(default_factory=list)

    @property
    def cfg(self) -> WebsiteSettings:
        """The settings that speak for the account (its first website's)."""
        return self.websites[0][1]

    @property
    def website_ids(self) -> list[int]:
        """Ids of the account's websites."""
        return [w.pk for w, _ in self.websites]

    def caps(self) -> dict[str, int]:
        """Active-import caps per kind: ``max_active_imports``, within the platform's own limits.

        When the account's websites disagree, the smallest setting wins.
        """
        wanted = min(cfg.max_active_imports for _, cfg in self.websites)
        return {kind: max(1, min(wanted, limit)) for kind, limit in PLATFORM_CAPS.items()}

    def active(self) -> dict[str, int]:
        """Imports in progress on the platform (and claimed ones), per kind."""
        counts = {kind: 0 for kind in PLATFORM_CAPS}
        rows = Importer.objects.filter(
            website_id__in=self.website_ids,
            import_status=ImportStatus.IMPORTING,
            import_mode__in=list(KIND_BY_MODE),
        ).values_list("import_mode", flat=True)
        for mode in rows.iterator():
            counts[kind_of(mode)] += 1
        return counts


def group_accounts(websites: Iterable[tuple[Website, WebsiteSettings]]) -> list[Account]:
    """Group websites by account, in website order."""
    accounts: dict[tuple[str, str], Account] = {}
    for website, cfg in websites:
        key = account_key(cfg)
        accounts.setdefault(key, Account(key)).websites.append((website, cfg))
    return list(accounts.values())


class Queue:
    """The account's due ``PENDING`` rows, one website at a time in turn, oldest first in each.

    Call :meth:`close` with a kind (``contact``/``insight``) once the account has no room for it:
    later pages leave those rows out, and rows of that kind already read are passed over.
    """

    def __init__(self, website_ids: list[int], now: datetime, *, page: int = PAGE) -> None:
        self.now = now
        self.page = page
        self.closed: set[str] = set()
        self._buffers: dict[int, deque[Importer]] = {w: deque() for w in website_ids}
        self._last: dict[int, int] = {w: 0 for w in website_ids}
        self._exhausted: set[int] = set()

    def close(self, kind: str) -> None:
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
