"""``dotsync retry``: make deferred work due now and, on request, queue failed work again.

* **Deferred** importer rows (``PENDING`` with a ``next_attempt_at``: backing off after platform
  errors, held by an open circuit, refused credentials, a busy account, a failed import) become due
  at once: the next run sends them. Their ``wait_reason`` is cleared, their message kept.
* With ``failed``: ``FAILED`` importer rows go back to ``PENDING`` as new, their source rows
  re-attached (:func:`dotsync.jobs.importer.state.reset_to_pending`), then every sync row still
  ``FAILED`` (a record the platform rejected, a quarantined record) is marked modified, so the
  batchers send it again (:func:`dotsync.jobs.resync.resync`).

The circuit breaker is per process, so a new run starts with it closed: nothing to reset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from dotsync.jobs.importer.state import reset_to_pending
from dotsync.jobs.resync import SYNC_MODELS, resync
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus, WaitReason


@dataclass
class Resumed:
    """What :func:`resume` changed."""

    deferred: int = 0
    """Importer rows made due now."""
    failed_imports: int = 0
    """Failed importer rows queued again."""
    failed_records: int = 0
    """Failed sync rows (records) marked to be sent again."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _in_scope(qs: QuerySet[Any], website_code: str | None) -> QuerySet[Any]:
    if not website_code:
        return qs
    if any(f.name == "website" for f in qs.model._meta.get_fields()):
        return qs.filter(website__code=website_code)
    return qs.none() if qs.model is Importer else qs  # a global table (catalog) belongs to every website


def resume(website_code: str | None = None, *, failed: bool = False) -> Resumed:
    """Make deferred importer rows due now; with ``failed``, queue failed rows and records again.

    Args:
        website_code: only this website (``--website CODE``); None for all.
        failed: also re-queue ``FAILED`` importer rows and sync rows.

    Returns:
        The counts changed.
    """
    out = Resumed()
    importer_rows = _in_scope(Importer.objects.all(), website_code)
    out.deferred = importer_rows.filter(
        import_status=ImportStatus.PENDING, next_attempt_at__isnull=False
    ).update(next_attempt_at=None, wait_reason=WaitReason.NONE, updated_at=timezone.now())
    if failed:
        out.failed_imports = reset_to_pending(importer_rows.filter(import_status=ImportStatus.FAILED))
        for model in SYNC_MODELS:
            out.failed_records += resync(
                _in_scope(model._default_manager.all(), website_code), only_failed=True
            )
    return out
