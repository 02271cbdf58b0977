"""Typed results and the platform's status vocabularies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AccountKey:
    """The identity of one dotdigital account: its API endpoint and API user.

    Websites whose settings name the same pair share one account: one client, one rate-limit budget,
    one active-import cap. ``str()`` is the rate limiter's key, ``"<base url>|<api user>"``.
    """

    base_url: str
    api_user: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def __str__(self) -> str:
        return f"{self.base_url}|{self.api_user}"


# v2 contact CSV import (ApiContactImportStatuses).
CONTACT_IMPORT_FINISHED = "Finished"
"""The import was accepted and imported."""
CONTACT_IMPORT_IN_PROGRESS = "NotFinished"
"""The import was accepted and is still running: poll again."""
CONTACT_IMPORT_FAILED_STATUSES = frozenset(
    {
        "RejectedByWatchdog",
        "InvalidFileFormat",
        "Unknown",
        "Failed",
        "ExceedsAllowedContactLimit",
        "NotAvailableInThisVersion",
    }
)
"""Terminal failure statuses of a contact import (as the Magento connector treats them)."""

# v3 insight import: the spec's enum says Complete, its example and the Magento connector say Finished.
INSIGHT_IMPORT_DONE_STATUSES = frozenset({"finished", "complete"})
INSIGHT_IMPORT_FAILED_STATUSES = frozenset({"failed"})


@dataclass(frozen=True)
class ImportFault:
    """One row of a contact import's ``report-faults`` CSV.

    Attributes:
        reason: why the row was not imported, as the platform spells it (e.g. ``Globally Suppressed``;
            compare case-insensitively, sources disagree on casing).
        email: the row's email address.
    """

    reason: str
    email: str


@dataclass(frozen=True)
class InsightImportFailure:
    """A record an insight-data import rejected.

    Attributes:
        key: the record key.
        reason: the platform's ``failureReason`` (e.g. ``ContactEmailDoesNotExist``).
        details: extra failure descriptions.
        contact_identity: ``{"identifier": ..., "value": ...}`` for contact-scoped records, else None.
    """

    key: str
    reason: str
    details: tuple[str, ...] = ()
    contact_identity: dict[str, Any] | None = None


@dataclass(frozen=True)
class InsightImportStatus:
    """Progress of a v3 insight-data bulk import (``GET /insightData/v3/import/{importId}``).

    Attributes:
        import_id: the import id.
        status: the platform's status string (``NotStarted``, ``Processing``, ``Finished``/``Complete``,
            ``Failed``).
        collection_name: the collection, when reported.
        total_records: records received (0 until reported).
        total_imported: records imported.
        total_rejected: records rejected.
        failures: the rejected records.
    """

    import_id: str
    status: str
    collection_name: str | None = None
    total_records: int = 0
    total_imported: int = 0
    total_rejected: int = 0
    failures: tuple[InsightImportFailure, ...] = field(default_factory=tuple)

    @property
    def finished(self) -> bool:
        """True once the import completed (``Finished`` or ``Complete``)."""
        return self.status.lower() in INSIGHT_IMPORT_DONE_STATUSES

    @property
    def failed(self) -> bool:
        """True when the whole import failed."""
        return self.status.lower() in INSIGHT_IMPORT_FAILED_STATUSES

    @property
    def in_progress(self) -> bool:
        """True while the platform is still working on it."""
        return not (self.finished or self.failed)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> InsightImportStatus:
        """Build from the API's JSON (unknown fields ignored, missing ones defaulted)."""
        summary = body.get("summary") or {}
        failures = tuple(
            InsightImportFailure(
                key=str(item.get("key", "")),
                reason=str(item.get("failureReason", "Unknown")),
                details=tuple(str(d) for d in item.get("details") or ()),
                contact_identity=(item.get("collectionOwner") or {}).get("contactIdentity"),
            )
            for item in body.get("failures") or ()
        )
        return cls(
            import_id=str(body.get("importId", "")),
            status=str(body.get("status", "")),
            collection_name=body.get("collectionName"),
            total_records=int(summary.get("totalRecords") or 0),
            total_imported=int(summary.get("totalImported") or 0),
            total_rejected=int(summary.get("totalRejected") or 0),
            failures=failures,
        )
