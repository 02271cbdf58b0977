"""Time windows that follow on: each pass starts exactly where the last successful pass ended.

The reference looks back a fixed interval from "now" (``[now - delay - 5 min, now - delay]``), so a run
that starts late skips what fell between, and two stacked runs send twice (Magento 1 #277). Here the
end of each pass's window is kept in ``email_automation_window`` (:class:`~dotsync.models.AutomationWindow`),
one row per (job, store, pass), moved in the transaction that queued the pass's work: a pass that fails
leaves the row where it was, and the next run takes the same window again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from dotsync.models import AutomationWindow, Store


@dataclass
class Window:
    """One pass's window ``(start, end]`` and the row keeping its end; use inside ``transaction.atomic``."""

    row: AutomationWindow
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """True when ``start < moment <= end``."""
        return self.start < moment <= self.end

    def close(self) -> None:
        """Record the window as done (the next pass starts at its end). Never moves backwards."""
        if self.end > self.row.window_end or self.row.pk is None:
            self.row.window_end = max(self.end, self.row.window_end)
            self.row.updated_at = timezone.now()
            self.row.save()


def open_window(job_id: str, store: Store, key: str, end: datetime, *, first: timedelta) -> Window:
    """The window of pass ``key`` of ``job_id`` in ``store`` ending at ``end``, its row locked.

    Args:
        job_id: the job's id.
        store: the store the pass covers.
        key: the pass's name within the job (e.g. ``series1:customers``).
        end: where this pass's window ends (it starts where the last one ended).
        first: how far before ``end`` the very first window starts (no row yet).

    The row is locked (``SELECT ... FOR UPDATE`` where the database has it) until the transaction ends,
    so a stacked run waits and then finds the window already taken. A window whose end is before its
    start (a delay made longer) is empty.
    """
    row = AutomationWindow.objects.select_for_update().filter(job_id=job_id, store=store, key=key).first()
    if row is None:
        row = AutomationWindow(job_id=job_id, store=store, key=key, window_end=end - first)
    return Window(row=row, start=row.window_end, end=max(end, row.window_end))


def idle(job_id: str, store: Store, key: str, end: datetime) -> int:
    """Move an existing window's end to ``end`` without a pass (the pass is switched off).

    Switching a pass off and on again must not make the next pass cover everything that happened while
    it was off (a week-old basket would get its first email). A pass that never ran has no row: its first
    window starts :func:`open_window`'s ``first`` before its end, as usual. Returns the rows moved (0/1).
    """
    return AutomationWindow.objects.filter(job_id=job_id, store=store, key=key, window_end__lt=end).update(
        window_end=end, updated_at=timezone.now()
    )
