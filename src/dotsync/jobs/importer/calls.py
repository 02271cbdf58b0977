"""Call modes: one platform call (or two) per importer row, settled as soon as it returns.

Each handler takes the client, the row's payload (shapes in :mod:`.operations`) and the
website's settings, and returns the note recorded on the row once it is ``IMPORTED``. Errors are
raised and handled by the importer like a bulk start's (same retry rules). A delete of something the
platform does not hold succeeds with a note: there is nothing left to delete.

Each handler is the start of one :class:`~.operation.Operation` in :mod:`.operations`, which also
maps ``Subscriber_Update`` to :func:`subscriber_unsubscribe`, as in the Magento connector: the contact
leaves the subscribers address book.

A single insight upsert into a collection the platform does not have yet (404) is turned into a
one-record bulk import, which creates the collection; the row then waits for it like any bulk row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dotsync.config import WebsiteSettings
from dotsync.exceptions import NotFoundError
from dotsync.models import Contact
from dotsync.models.importer import ImportMode

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

Payload = dict[str, Any]
Handler = Callable[["DotdigitalClient", Payload, WebsiteSettings], str]


class StartImport(Exception):
    """Raised by a handler to send its row as a one-record bulk import instead.

    Attributes:
        mode: the bulk mode to switch to.
        payload: the bulk payload.
    """

    def __init__(self, mode: str, payload: Payload) -> None:
        super().__init__(mode)
        self.mode = mode
        self.payload = payload


def _remember_contact_id(cfg: WebsiteSettings, email: str, contact: dict[str, Any] | None) -> None:
    contact_id = (contact or {}).get("id")
    if contact_id:
        Contact.objects.filter(website_id=cfg.website_id, email=email).exclude(
            contact_id=str(contact_id)
        ).update(contact_id=str(contact_id))


def contact_update(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Create or update one contact, in its address book when one is given."""
    email, fields, book = payload["email"], payload.get("data_fields") or None, payload.get("address_book_id")
    if book:
        contact = client.add_contact_to_address_book(int(book), email, data_fields=fields)
    else:
        contact = client.upsert_contact(email, data_fields=fields)
    _remember_contact_id(cfg, email, contact)
    return ""


def contact_delete(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Delete one contact from the account."""
    contact = client.get_contact(payload["email"])
    if not contact:
        return "The contact is not on the platform (or is suppressed there): nothing to delete."
    try:
        client.delete_contact(int(contact["id"]))
    except NotFoundError:
        return "The contact was already deleted."
    return ""


def contact_email_update(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Change a contact's email address."""
    contact = client.get_contact(payload["old_email"])
    if not contact:
        return (
            "No contact with the old email on the platform: nothing to change (the new one syncs as usual)."
        )
    if str(contact.get("email", "")).lower() != str(payload["email"]).lower():
        client.update_contact_email(int(contact["id"]), payload["email"])
    _remember_contact_id(cfg, payload["email"], contact)
    return ""


def subscriber_unsubscribe(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Take one contact out of the subscribers address book, or out of the payload's ``address_book_id``.

    A payload naming its book is a customer leaving that book on the newsletter preferences page.
    """
    book = payload.get("address_book_id") or cfg.subscribers_address_book_id
    if not book:
        return "No subscribers address book is configured: nothing to remove."
    contact = client.get_contact(payload["email"])
    if not contact:
        return "The contact is not on the platform (or is suppressed there): nothing to unsubscribe."
    try:
        client.remove_contact_from_address_book(int(book), int(contact["id"]))
    except NotFoundError:
        return "The contact was not in the address book."
    return ""


def subscriber_resubscribe(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Resubscribe one contact (to the subscribers address book when configured)."""
    result = client.resubscribe_contact(payload["email"], address_book_id=cfg.subscribers_address_book_id)
    status = str(result.get("status", ""))
    return f"Platform answered {status}." if status else ""


def insight_upsert(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Create or replace one insight record."""
    collection, key, data = payload["collection"], str(payload["key"]), payload.get("json") or {}
    try:
        if payload.get("scope") == "account":
            client.upsert_account_insight(collection, key, data)
        else:
            client.upsert_contact_insight(collection, payload["email"], key, data)
    except NotFoundError as exc:
        if "collection" not in (exc.error_code or exc.message).lower():
            raise
        record: Payload = {"key": key, "json": data}
        if payload.get("scope") != "account":  # the API's shape, as batched records have it
            record["contactIdentity"] = {"identifier": "email", "value": payload["email"]}
        raise StartImport(
            ImportMode.BULK_JSON,
            {
                "collection": collection,
                "scope": payload.get("scope") or "contact",
                "type": payload.get("type") or "custom",
                "records": [record],
            },
        ) from exc
    return ""


def insight_delete(client: DotdigitalClient, payload: Payload, cfg: WebsiteSettings) -> str:
    """Delete one insight record."""
    collection, key = payload["collection"], str(payload["key"])
    try:
        if payload.get("scope") == "account":
            client.delete_account_insight(collection, key)
        else:
            client.delete_contact_insight(collection, key, email=payload.get("email"))
    except NotFoundError:
        return "The record is not on the platform: nothing to delete."
    return ""
