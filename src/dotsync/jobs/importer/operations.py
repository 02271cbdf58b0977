"""Every import mode, declared once: one :class:`~.operation.Operation` each.

The importer dispatches on these declarations (:func:`operation`), never on the mode's string. A new
mode (cart insight, campaign send, programme enrolment, SMS send...) is one more declaration here,
with its start function (a call in :mod:`.calls`, or a bulk start in :mod:`.bulk`) and its payload
type below, plus its value in :class:`~dotsync.models.importer.ImportMode`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from dotsync.exceptions import DotsyncError
from dotsync.jobs import queue
from dotsync.jobs.importer import bisect, bulk, calls
from dotsync.jobs.importer.operation import Kind, Operation, P, Started
from dotsync.models.importer import ImportMode

if TYPE_CHECKING:
    from dotsync.config import WebsiteSettings
    from dotsync.models import Importer
    from dotsync.platform.dotdigital import DotdigitalClient


class ContactCsv(TypedDict):
    """Contact ``Bulk``: a CSV for one address book, and which source row each email is."""

    address_book: str  # "customers", "subscribers" or "guests" (address_book_id wins when given)
    address_book_id: NotRequired[int]
    csv: str
    emails: dict[str, int]


class InsightBatch(TypedDict):
    """Insight ``Bulk_JSON``: records of one collection (``records[i]`` is ``rows[i]`` unless ``keys``)."""

    collection: str  # e.g. "Orders"
    scope: str  # "contact" or "account"
    type: str  # e.g. "orders"
    records: list[Any]  # {"key": ..., "contactIdentity": {...}, "json": {...}}, always the last member
    keys: NotRequired[dict[str, int]]  # record key -> source-row pk, when not by position


class InsightRecord(TypedDict):
    """``Single``: one insight record to create or replace."""

    collection: str
    scope: str
    key: str
    email: str | None
    json: dict[str, Any]
    type: NotRequired[str]
    after: NotRequired[list[int]]


class InsightRecordRef(TypedDict):
    """``Single_Delete``: one insight record to delete."""

    collection: str
    scope: str
    key: str
    email: str | None
    after: NotRequired[list[int]]


class ContactFields(TypedDict):
    """``Contact_Update``: one contact's data fields, in an address book when one is given."""

    email: str
    data_fields: dict[str, Any]
    address_book_id: int | None


class EmailOnly(TypedDict):
    """``Contact_Delete``, ``Subscriber_Unsubscribe``, ``Subscriber_Resubscribed``: one contact.

    ``address_book_id``: the book an unsubscribe takes the contact out of (default: the subscribers book).
    """

    email: str
    after: NotRequired[list[int]]
    address_book_id: NotRequired[int]


class EmailChange(TypedDict):
    """``Contact_Email_Update``: a contact's old and new email."""

    old_email: str
    email: str
    after: NotRequired[list[int]]


def call_operation(mode: str, payload: type[P], handler: calls.Handler) -> Operation[P]:
    """A call mode: its :mod:`.calls` handler runs on the row's payload and its note settles the row.

    A call waits for an unsettled import its payload names in ``after`` (``waits_for_carrier``).
    """

    def start(client: DotdigitalClient, row: Importer, cfg: WebsiteSettings) -> Started:
        return Started(note=handler(client, queue.Envelope.load(row).payload, cfg))

    start.__name__ = start.__qualname__ = handler.__name__
    start.__doc__ = handler.__doc__
    return Operation(mode, payload, Kind.CALL, start, waits_for_carrier=True)


CONTACT_CSV = Operation(
    mode=ImportMode.BULK,
    payload=ContactCsv,
    kind=Kind.CONTACT_IMPORT,
    platform_cap=25,
    start=bulk.start_contacts,
    progress=bulk.contact_progress,
    confirm=bulk.confirm_contacts,
    count=bisect.count_contacts,
    split=bisect.split_contacts,
)
INSIGHT_BULK = Operation(
    mode=ImportMode.BULK_JSON,
    payload=InsightBatch,
    kind=Kind.INSIGHT_IMPORT,
    platform_cap=5,
    start=bulk.start_insight,
    progress=bulk.insight_progress,
    confirm=bulk.confirm_insight,
    count=bisect.count_insight,
    split=bisect.split_insight,
)
INSIGHT_UPSERT = call_operation(ImportMode.SINGLE, InsightRecord, calls.insight_upsert)
INSIGHT_DELETE = call_operation(ImportMode.SINGLE_DELETE, InsightRecordRef, calls.insight_delete)
CONTACT_UPDATE = call_operation(ImportMode.CONTACT_UPDATE, ContactFields, calls.contact_update)
CONTACT_DELETE = call_operation(ImportMode.CONTACT_DELETE, EmailOnly, calls.contact_delete)
CONTACT_EMAIL_UPDATE = call_operation(
    ImportMode.CONTACT_EMAIL_UPDATE, EmailChange, calls.contact_email_update
)
UNSUBSCRIBE = call_operation(ImportMode.SUBSCRIBER_UNSUBSCRIBE, EmailOnly, calls.subscriber_unsubscribe)
RESUBSCRIBE = call_operation(ImportMode.SUBSCRIBER_RESUBSCRIBED, EmailOnly, calls.subscriber_resubscribe)

ALL: tuple[Operation[Any], ...] = (
    CONTACT_CSV,
    INSIGHT_BULK,
    INSIGHT_UPSERT,
    INSIGHT_DELETE,
    CONTACT_UPDATE,
    CONTACT_DELETE,
    CONTACT_EMAIL_UPDATE,
    UNSUBSCRIBE,
    RESUBSCRIBE,
)

OPERATIONS: dict[str, Operation[Any]] = {
    **{str(op.mode): op for op in ALL},
    # handled as an unsubscribe, as in the Magento connector: the contact leaves the subscribers book
    str(ImportMode.SUBSCRIBER_UPDATE): UNSUBSCRIBE,
}
"""Import mode -> its operation, for every :class:`~dotsync.models.importer.ImportMode`."""

CAPS: dict[Kind, int] = {op.kind: op.platform_cap for op in ALL if op.platform_cap is not None}
"""The platform's concurrent-import limit per account, per kind of import."""


def operation(mode: str) -> Operation[Any]:
    """The operation of an import mode.

    Raises:
        DotsyncError: the mode is unknown (the row cannot be sent; it fails with this reason).
    """
    try:
        return OPERATIONS[mode]
    except KeyError:
        raise DotsyncError(f"import mode {mode!r} has no handler; the row cannot be sent") from None


def kind_of(mode: str) -> Kind:
    """The kind of an import mode (an unknown mode counts as a call: it is failed when sent)."""
    op = OPERATIONS.get(mode)
    return Kind.CALL if op is None else op.kind
