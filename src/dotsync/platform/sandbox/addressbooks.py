"""Address books ("lists") and their members (v2)."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.responses import Response

from dotsync.platform.sandbox.contacts import by_id, contact_from_body, contact_json, lookup, resubscribe_to
from dotsync.platform.sandbox.context import Api, Ctx, enum, get, no_content, ok
from dotsync.platform.sandbox.datafields import fields_of
from dotsync.platform.sandbox.errors import ApiError, not_found
from dotsync.platform.sandbox.storage import Store

RESERVED = frozenset({"test", "all contacts"})
NOT_WRITABLE = frozenset({"test"})
VISIBILITIES = ("Private", "Public")


def book_json(store: Store, row: sqlite3.Row) -> dict[str, Any]:
    """An ``ApiAddressBook`` with its member count."""
    count = store.one("SELECT COUNT(*) AS n FROM memberships WHERE address_book_id = ?", (row["id"],))
    return {
        "id": int(row["id"]),
        "name": row["name"],
        "visibility": row["visibility"],
        "contacts": int(count["n"]) if count else 0,
    }


def find_book(ctx: Ctx, book_id: int, *, writable: bool = False) -> sqlite3.Row:
    """The caller's address book, or 404 ``ERROR_ADDRESSBOOK_NOT_FOUND``."""
    row = ctx.store.one(
        "SELECT * FROM address_books WHERE account_id = ? AND id = ?", (ctx.account_id, book_id)
    )
    if row is None:
        raise not_found("ERROR_ADDRESSBOOK_NOT_FOUND")
    if writable and str(row["name"]).lower() in NOT_WRITABLE:
        raise ApiError(400, "Address book cannot be written to via the API. ERROR_ADDRESSBOOK_NOTWRITABLE")
    return row


async def list_books(ctx: Ctx) -> Response:
    """``GET /v2/address-books?select&skip``."""
    select, skip = ctx.paging()
    rows = ctx.store.all(
        "SELECT * FROM address_books WHERE account_id = ? ORDER BY id LIMIT ? OFFSET ?",
        (ctx.account_id, select, skip),
    )
    return ok([book_json(ctx.store, r) for r in rows])


async def create_book(ctx: Ctx) -> Response:
    """``POST /v2/address-books``: 201; a name in use is ``ERROR_ADDRESSBOOK_DUPLICATE``."""
    body = await ctx.json_object()
    name = get(body, "name")
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise ApiError(400, "The address book name must be 1 to 128 characters. ERROR_PARAMETER_INVALID")
    visibility = enum(get(body, "visibility"), VISIBILITIES, "visibility", default="Private")
    duplicate = ApiError(
        400, "That name is in use already, please choose another. ERROR_ADDRESSBOOK_DUPLICATE"
    )
    if name.strip().lower() in RESERVED:
        raise duplicate
    with ctx.store.tx() as conn:
        exists = conn.execute(
            "SELECT 1 FROM address_books WHERE account_id = ? AND lower(name) = lower(?)",
            (ctx.account_id, name),
        ).fetchone()
        if exists:
            raise duplicate
        book_id = conn.execute(
            "INSERT INTO address_books (account_id, name, visibility) VALUES (?, ?, ?)",
            (ctx.account_id, name, visibility),
        ).lastrowid
    return ok({"id": book_id, "name": name, "visibility": visibility, "contacts": 0}, 201)


async def get_book(ctx: Ctx) -> Response:
    """``GET /v2/address-books/{id}``."""
    return ok(book_json(ctx.store, find_book(ctx, ctx.path_int("id"))))


async def book_contacts(ctx: Ctx) -> Response:
    """``GET /v2/address-books/{addressBookId}/contacts?withFullData&select&skip``."""
    book = find_book(ctx, ctx.path_int("addressBookId"))
    select, skip = ctx.paging()
    full = ctx.flag("withFullData")
    fields = fields_of(ctx.store, ctx.account_id)
    rows = ctx.store.all(
        "SELECT c.* FROM contacts c JOIN memberships m ON m.contact_id = c.id WHERE m.address_book_id = ? "
        "ORDER BY c.id LIMIT ? OFFSET ?",
        (book["id"], select, skip),
    )
    return ok([contact_json(ctx.store, r, full, fields) for r in rows])


async def add_contact(ctx: Ctx) -> Response:
    """``POST /v2/address-books/{addressBookId}/contacts``: create or update and add; 200."""
    book = find_book(ctx, ctx.path_int("addressBookId"), writable=True)
    row, _ = await contact_from_body(ctx, address_book_id=int(book["id"]))
    return ok(contact_json(ctx.store, row))


async def remove_contact(ctx: Ctx) -> Response:
    """``DELETE /v2/address-books/{addressBookId}/contacts/{contactId}``: 204."""
    book = find_book(ctx, ctx.path_int("addressBookId"), writable=True)
    contact = by_id(ctx.store, ctx.account_id, ctx.path_int("contactId"))
    if contact is None:
        raise not_found("ERROR_CONTACT_NOT_FOUND")
    ctx.store.run(
        "DELETE FROM memberships WHERE address_book_id = ? AND contact_id = ?", (book["id"], contact["id"])
    )
    return no_content()


async def resubscribe(ctx: Ctx) -> Response:
    """``POST /v2/address-books/{addressBookId}/contacts/resubscribe``: resubscribe, then join the book."""
    book = find_book(ctx, ctx.path_int("addressBookId"), writable=True)
    return await resubscribe_to(ctx, ctx.faults.faults.resubscribe_challenge, int(book["id"]))


async def resubscribe_no_challenge(ctx: Ctx) -> Response:
    """``POST /v2/address-books/{addressBookId}/contacts/resubscribe-with-no-challenge``."""
    book = find_book(ctx, ctx.path_int("addressBookId"), writable=True)
    return await resubscribe_to(ctx, False, int(book["id"]))


async def contact_address_books(ctx: Ctx) -> Response:
    """``GET /v2/contacts/{id}/address-books``."""
    row = lookup(ctx, str(ctx.path_int("id")))
    select, skip = ctx.paging()
    books = ctx.store.all(
        "SELECT b.* FROM address_books b JOIN memberships m ON m.address_book_id = b.id "
        "WHERE m.contact_id = ? ORDER BY b.id LIMIT ? OFFSET ?",
        (row["id"], select, skip),
    )
    return ok([book_json(ctx.store, b) for b in books])


ROUTES = [
    Api("GET", "/v2/contacts/{id}/address-books", contact_address_books),
    Api("GET", "/v2/address-books", list_books),
    Api("POST", "/v2/address-books", create_book),
    Api("GET", "/v2/address-books/{id}", get_book),
    Api("GET", "/v2/address-books/{addressBookId}/contacts", book_contacts),
    Api("POST", "/v2/address-books/{addressBookId}/contacts", add_contact),
    Api("DELETE", "/v2/address-books/{addressBookId}/contacts/{contactId}", remove_contact),
    Api("POST", "/v2/address-books/{addressBookId}/contacts/resubscribe", resubscribe),
    Api(
        "POST",
        "/v2/address-books/{addressBookId}/contacts/resubscribe-with-no-challenge",
        resubscribe_no_challenge,
    ),
]
