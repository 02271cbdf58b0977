"""Lines of ``dotsync status``: how one table is counted per website, split by a state column.

Each sync stream declares its line (:attr:`dotsync.jobs.stream.Stream.status_line`); the importer
queue declares its own (:mod:`dotsync.jobs.importer.report`). :mod:`dotsync.reporting` lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Model

from dotsync.models import SyncStatus
from dotsync.models.importer import ImportStatus

GLOBAL = "*"
"""The website column of tables that have no website (the catalogue)."""

SYNC_LABELS = {int(s.value): str(s.label) for s in SyncStatus}
IMPORT_LABELS = {int(s.value): str(s.label) for s in ImportStatus}


@dataclass(frozen=True)
class TableReport:
    """How to summarise one table.

    Attributes:
        name: the name shown, e.g. ``email_order`` or ``email_contact.subscriber``.
        model: the model to count.
        status_field: the state column to split by.
        labels: state value -> label (an integer, text or boolean state column).
        scoped: True when the table has a website (its own column, or through ``website_field``).
        website_field: the lookup of the row's website id: ``website_id``, or a path through a
            relation for a table without its own column (``email_contact__website_id`` for consent).
    """

    name: str
    model: type[Model]
    status_field: str
    labels: Mapping[Any, str]
    scoped: bool = True
    website_field: str = "website_id"

    def counts(self, websites: Mapping[int, str]) -> dict[str, dict[str, int]]:
        """``{website_code: {label: n, ..., "total": n}}``; websites without rows are included (zeros)."""
        zero = dict.fromkeys(self.labels.values(), 0)
        out: dict[str, dict[str, int]] = {}
        if self.scoped:
            for code in websites.values():
                out[code] = {**zero, "total": 0}
            rows = self.model._default_manager.values_list(self.website_field, self.status_field).annotate(
                n=Count("pk")
            )
            grouped = ((websites.get(w, f"#{w}"), s, n) for w, s, n in rows.order_by())
        else:
            out[GLOBAL] = {**zero, "total": 0}
            rows = self.model._default_manager.values_list(self.status_field).annotate(n=Count("pk"))
            grouped = ((GLOBAL, s, n) for s, n in rows.order_by())
        for code, status, n in grouped:
            bucket = out.setdefault(code, {**zero, "total": 0})
            label = self.labels.get(status, str(status))
            bucket[label] = bucket.get(label, 0) + n
            bucket["total"] += n
        return out
