"""Call modes by import mode: a view of :data:`.operations.OPERATIONS` (the handlers are in :mod:`.calls`)."""

from __future__ import annotations

from dotsync.jobs.importer.calls import Handler, StartImport
from dotsync.jobs.importer.operation import Kind, Start
from dotsync.jobs.importer.operations import OPERATIONS

__all__ = ["HANDLERS", "Handler", "StartImport"]

HANDLERS: dict[str, Start] = {mode: op.start for mode, op in OPERATIONS.items() if op.kind is Kind.CALL}
"""Import mode -> the start of its call, for every mode that is not a bulk import."""
