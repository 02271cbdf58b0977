"""Contacts, suppressions and resubscription (v2).

Suppression model (reference §9.5): a suppressed email cannot be created, updated or added to a list
(``ERROR_CONTACT_SUPPRESSED``), cannot be deleted, is hidden from ``GET /v2/contacts/{id}`` (but returned,
with its status, by ``GET /v2/contacts/{email}``), and is listed by ``suppressed-since``. Global suppression
(``POST /sandbox/suppress`` without an account) shows as status ``Suppressed`` in every account.

A contact taken back (``resubscribe`` without a challenge, or ``POST /sandbox/resubscribe``) gets the
platform's system data field ``LASTSUBSCRIBED`` (the time, as the platform writes it:
``2020-01-01 09:40:18.527000+00:00``) and a new ``modified`` time, so ``modified-since`` lists it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from dotsync.platform.sandbox.context import Api, Ctx, enum, get, int32, no_content, ok
from dotsync.platform.sandbox.datafields import coerce_many, fields_of
from dotsync.platform.sandbox.errors import ApiError, bad_request, not_found
from dotsync.platform.sandbox.storage import Store, dumps, iso, parse_iso, utcnow

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
OPT_IN_TYPES = ("Unknown", "Single", "Double", "VerifiedDouble")
EMAIL_TYPES = ("PlainText", "Html")
ACTIVE_STATUSES = frozenset({"Subscribed", "PendingOptIn"})
GLOBAL_STATUS = "Suppressed"
SUPPRESSED_MESSAGE = "Contact is suppressed. ERROR_CONTACT_SUPPRESSED"
LAST_SUBSCRIBED = "LASTSUBSCRIBED"
"""The platform's system data field: when the contact last subscribed (set on a resubscription)."""


def valid_email(email: Any) -> bool:
    """Whether the platform would accept this address (a pragmatic RFC 5322 subset)."""
    return isinstance(email, str) and len(email) <= 254 and bool(EMAIL_RE.match(email))


def globally_suppressed(store: Store, email: str) -> str | None:
    """When the address was globally suppressed, or None."""
    row = store.one("SELECT suppressed_at FROM global_suppressions WHERE email = ?", (email.lower(),))
    return str(row["suppressed_at"]) if row else None


def status_of(store: Store, row: sqlite3.Row) -> str:
    """The contact's status, global suppression first."""
    return GLOBAL_STATUS if globally_suppressed(store, row["email"]) else str(row["status"])


def contact_json(
    store: Store, row: sqlite3.Row, full: bool = True, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``ApiContact``. ``full=False`` gives ``dataFields: null`` as list calls do without ``withFullData``.

    ``dataFields`` lists the fields that have a value (or a default), every value as a string.
    """
    data_fields = None
    if full:
        fields = fields if fields is not None else fields_of(store, int(row["account_id"]))
        values = json.loads(row["data_fields"])
        data_fields = []
        for f in fields.values():
            value = values.get(f["name"], f["defaultValue"])
            if value is not None:
                data_fields.append({"key": f["name"], "value": wire_value(value)})
        if values.get(LAST_SUBSCRIBED) and LAST_SUBSCRIBED.lower() not in fields:
            data_fields.append({"key": LAST_SUBSCRIBED, "value": str(values[LAST_SUBSCRIBED])})
    return {
        "id": int(row["id"]),
        "email": row["email"],
        "optInType": row["opt_in_type"],
        "emailType": row["email_type"],
        "dataFields": data_fields,
        "status": status_of(store, row),
    }


def wire_value(value: Any) -> str:
    """A stored data-field value as the API returns it: a string (the reference spec types it so)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def by_email(store: Store, account_id: int, email: str) -> sqlite3.Row | None:
    """The account's contact with this address (case-insensitive)."""
    return store.one(
        "SELECT * FROM contacts WHERE account_id = ? AND email_key = ?", (account_id, email.lower())
    )


def by_id(store: Store, account_id: int, contact_id: int) -> sqlite3.Row | None:
    """The account's contact with this id."""
    return store.one("SELECT * FROM contacts WHERE account_id = ? AND id = ?", (account_id, contact_id))


def ids_by_email(conn: sqlite3.Connection, account_id: int, email_keys: Iterable[str]) -> dict[str, int]:
    """Lower-cased email -> contact id for those of ``email_keys`` (lower-cased) the account holds.

    One query over the ``(account_id, email_key)`` index, however many addresses: they travel as one JSON
    array parameter (``json_each``), so there is no per-address round trip and no parameter limit.
    """
    rows = conn.execute(
        "SELECT c.email_key, c.id FROM json_each(?) AS j "
        "CROSS JOIN contacts AS c ON c.account_id = ? AND c.email_key = j.value",
        (json.dumps(list(email_keys)), account_id),
    )
    return {str(key): int(contact_id) for key, contact_id in rows}


def existing_ids(conn: sqlite3.Connection, account_id: int, contact_ids: Iterable[int]) -> set[int]:
    """Those of ``contact_ids`` that are contacts of the account (one query, as :func:`ids_by_email`)."""
    rows = conn.execute(
        "SELECT c.id FROM json_each(?) AS j CROSS JOIN contacts AS c ON c.id = j.value AND c.account_id = ?",
        (json.dumps(list(contact_ids)), account_id),
    )
    return {int(contact_id) for (contact_id,) in rows}


def rows_by_email(
    conn: sqlite3.Connection, account_id: int, email_keys: Iterable[str]
) -> dict[str, sqlite3.Row]:
    """Lower-cased email -> the contact's row, for those of ``email_keys`` the account holds (one query)."""
    rows = conn.execute(
        "SELECT c.* FROM json_each(?) AS j "
        "CROSS JOIN contacts AS c ON c.account_id = ? AND c.email_key = j.value",
        (json.dumps(list(email_keys)), account_id),
    ).fetchall()
    return {str(r["email_key"]): r for r in rows}


def globally_suppressed_among(conn: sqlite3.Connection, email_keys: Iterable[str]) -> set[str]:
    """Those of ``email_keys`` (lower-cased) that are globally suppressed (one query)."""
    rows = conn.execute(
        "SELECT g.email FROM json_each(?) AS j CROSS JOIN global_suppressions AS g ON g.email = j.value",
        (json.dumps(list(email_keys)),),
    )
    return {str(email) for (email,) in rows}


def is_suppressed(store: Store, row: sqlite3.Row) -> bool:
    """Whether the contact may not be written to or mailed."""
    return status_of(store, row) not in ACTIVE_STATUSES


def data_pairs(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """``dataFields: [{key, value}]`` from a request body (keys case-insensitive)."""
    items = get(body, "dataFields") or []
    if not isinstance(items, list):
        raise ApiError(400, "dataFields must be a list of {key, value}. ERROR_PARAMETER_INVALID")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or get(item, "key") is None:
            raise ApiError(400, "Each data field needs a key. ERROR_PARAMETER_INVALID")
        pairs.append((str(get(item, "key")), get(item, "value")))
    return pairs


INSERT_CONTACT = (
    "INSERT INTO contacts (account_id, email, email_key, email_type, opt_in_type, status, data_fields, "
    "created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_CONTACT = (
    "UPDATE contacts SET email_type = ?, opt_in_type = ?, data_fields = ?, modified = ? WHERE id = ?"
)


def insert_contact(
    conn: sqlite3.Connection,
    account_id: int,
    email: str,
    email_type: str,
    opt_in: str,
    values: dict[str, Any],
) -> tuple[int, str]:
    """Insert a contact (``PendingOptIn`` for double opt-in, else ``Subscribed``); returns (id, status)."""
    params, status = new_contact(account_id, email, email_type, opt_in, values, iso())
    row_id = conn.execute(INSERT_CONTACT, params).lastrowid
    return int(row_id or 0), status


def new_contact(
    account_id: int, email: str, email_type: str, opt_in: str, values: dict[str, Any], now: str
) -> tuple[tuple[Any, ...], str]:
    """The :data:`INSERT_CONTACT` parameters of a new contact, and its status.

    The status is ``PendingOptIn`` for double opt-in, else ``Subscribed``.
    """
    status = "PendingOptIn" if opt_in == "Double" else "Subscribed"
    stored = dumps({k: v for k, v in values.items() if v is not None})
    return (account_id, email, email.lower(), email_type, opt_in, status, stored, now, now), status


def update_contact_row(
    conn: sqlite3.Connection, contact_id: int, email_type: str, opt_in: str, values: dict[str, Any]
) -> None:
    """Store a contact's new properties and data-field values."""
    conn.execute(UPDATE_CONTACT, (email_type, opt_in, dumps(values), iso(), contact_id))


def add_member(conn: sqlite3.Connection, address_book_id: int, contact_id: int) -> None:
    """Add a contact to an address book (no-op if already there)."""
    conn.execute(
        "INSERT INTO memberships (address_book_id, contact_id, added) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (address_book_id, contact_id, iso()),
    )


def add_members(
    conn: sqlite3.Connection, account_id: int, address_book_id: int, email_keys: list[str], now: str
) -> None:
    """Add the account's contacts with these lower-cased addresses to an address book, in one statement."""
    conn.execute(
        "INSERT INTO memberships (address_book_id, contact_id, added) "
        "SELECT ?, c.id, ? FROM json_each(?) AS j "
        "CROSS JOIN contacts AS c ON c.account_id = ? AND c.email_key = j.value WHERE true "
        "ON CONFLICT DO NOTHING",
        (address_book_id, now, json.dumps(email_keys), account_id),
    )


def upsert(
    store: Store,
    account_id: int,
    email: Any,
    *,
    email_type: Any = None,
    opt_in_type: Any = None,
    values: dict[str, Any] | None = None,
    address_book_id: int | None = None,
) -> tuple[sqlite3.Row, bool]:
    """Create or update a contact (and optionally add it to a list). Returns (row, created?).

    Raises:
        ApiError: invalid email (``ERROR_PARAMETER_INVALID``) or suppressed (``ERROR_CONTACT_SUPPRESSED``).
    """
    if not valid_email(email):
        raise ApiError(400, "Email is not a valid email address. ERROR_PARAMETER_INVALID")
    etype = enum(email_type, EMAIL_TYPES, "emailType", default="Html")
    with store.tx() as conn:
        row = conn.execute(
            "SELECT * FROM contacts WHERE account_id = ? AND email_key = ?", (account_id, email.lower())
        ).fetchone()
        if globally_suppressed(store, email) or (row is not None and row["status"] not in ACTIVE_STATUSES):
            raise ApiError(400, SUPPRESSED_MESSAGE)
        created = row is None
        if row is None:
            opt_in = enum(opt_in_type, OPT_IN_TYPES, "optInType", default="Unknown")
            contact_id, _ = insert_contact(conn, account_id, email, etype, opt_in, values or {})
        else:
            contact_id = int(row["id"])
            merged = json.loads(row["data_fields"])
            merged.update(values or {})
            opt_in = enum(opt_in_type, OPT_IN_TYPES, "optInType", default=row["opt_in_type"])
            if email_type is None:
                etype = row["email_type"]
            update_contact_row(conn, contact_id, etype, opt_in, merged)
        if address_book_id is not None:
            add_member(conn, address_book_id, contact_id)
        return conn.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone(), created


async def contact_from_body(ctx: Ctx, address_book_id: int | None = None) -> tuple[sqlite3.Row, bool]:
    """Validate an ``ApiContact`` body and upsert it."""
    body = await ctx.json_object()
    values = coerce_many(fields_of(ctx.store, ctx.account_id), data_pairs(body))
    return upsert(
        ctx.store,
        ctx.account_id,
        get(body, "email"),
        email_type=get(body, "emailType"),
        opt_in_type=get(body, "optInType"),
        values=values,
        address_book_id=address_book_id,
    )


async def create_contact(ctx: Ctx) -> Response:
    """``POST /v2/contacts``: create or update; 201 with the contact."""
    row, _ = await contact_from_body(ctx)
    return ok(contact_json(ctx.store, row), 201)


def lookup(ctx: Ctx, identifier: str) -> sqlite3.Row:
    """A contact by id (digits) or email; suppressed contacts are hidden from lookups by id."""
    if identifier.isdigit():
        number = int32(identifier)
        if number is None:
            raise bad_request("ERROR_PARAMETER_INVALID", "The contact id is not a valid number.")
        row = by_id(ctx.store, ctx.account_id, number)
        if row is None or is_suppressed(ctx.store, row):
            raise not_found("ERROR_CONTACT_NOT_FOUND")
        return row
    row = by_email(ctx.store, ctx.account_id, identifier)
    if row is None:
        raise not_found("ERROR_CONTACT_NOT_FOUND")
    return row


async def get_contact(ctx: Ctx) -> Response:
    """``GET /v2/contacts/{id}`` and ``GET /v2/contacts/{email}``."""
    return ok(contact_json(ctx.store, lookup(ctx, ctx.path("identifier"))))


CONSENT_KEYS = ("TEXT", "DATETIMECONSENTED", "URL", "USERAGENT", "IPADDRESS")
"""The keys of an ``ApiConsent``'s fields, in the order the platform lists them."""


def consent_json(store: Store, contact_id: int) -> list[dict[str, Any]]:
    """The contact's consent records as ``ApiConsent`` items (``{id, fields}``), oldest first."""
    rows = store.all("SELECT * FROM consent_records WHERE contact_id = ? ORDER BY id", (contact_id,))
    out = []
    for r in rows:
        values = (r["text"], r["consented_at"], r["url"], r["user_agent"], r["ip"])
        out.append(
            {
                "id": str(r["id"]),
                "fields": [{"key": k, "value": v} for k, v in zip(CONSENT_KEYS, values, strict=True)],
            }
        )
    return out


async def get_contact_with_consent(ctx: Ctx) -> Response:
    """``GET /v2/contacts/{id or email}/with-consent``: ``ApiContactWithConsent {contact, consentFields}``."""
    row = lookup(ctx, ctx.path("identifier"))
    return ok(
        {"contact": contact_json(ctx.store, row), "consentFields": consent_json(ctx.store, int(row["id"]))}
    )


async def update_contact(ctx: Ctx) -> Response:
    """``PUT /v2/contacts/{id}``: update fields and possibly the address; 200."""
    row = lookup(ctx, str(ctx.path_int("id")))
    body = await ctx.json_object()
    email = get(body, "email", row["email"])
    if not valid_email(email):
        raise ApiError(400, "Email is not a valid email address. ERROR_PARAMETER_INVALID")
    other = by_email(ctx.store, ctx.account_id, email)
    if other is not None and other["id"] != row["id"]:
        raise ApiError(400, "A contact with this email address already exists. ERROR_CONTACT_INVALID")
    if globally_suppressed(ctx.store, email):
        raise ApiError(400, SUPPRESSED_MESSAGE)
    values = json.loads(row["data_fields"])
    values.update(coerce_many(fields_of(ctx.store, ctx.account_id), data_pairs(body)))
    etype = enum(get(body, "emailType"), EMAIL_TYPES, "emailType", default=row["email_type"])
    opt_in = enum(get(body, "optInType"), OPT_IN_TYPES, "optInType", default=row["opt_in_type"])
    ctx.store.run(
        "UPDATE contacts SET email = ?, email_key = ?, email_type = ?, opt_in_type = ?, data_fields = ?, "
        "modified = ? "
        "WHERE id = ?",
        (email, email.lower(), etype, opt_in, dumps(values), iso(), row["id"]),
    )
    fresh = by_id(ctx.store, ctx.account_id, int(row["id"]))
    assert fresh is not None
    return ok(contact_json(ctx.store, fresh))


def delete_contact_rows(store: Store, contact_id: int) -> None:
    """Remove a contact and everything that hangs off it."""
    with store.tx() as conn:
        conn.execute("DELETE FROM memberships WHERE contact_id = ?", (contact_id,))
        conn.execute("DELETE FROM program_members WHERE contact_id = ?", (contact_id,))
        conn.execute("DELETE FROM insight_records WHERE contact_id = ?", (contact_id,))
        conn.execute("DELETE FROM consent_records WHERE contact_id = ?", (contact_id,))
        conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))


async def delete_contact(ctx: Ctx) -> Response:
    """``DELETE /v2/contacts/{id}``: 204. Suppressed contacts are kept (``ERROR_CONTACT_SUPPRESSED``)."""
    row = by_id(ctx.store, ctx.account_id, ctx.path_int("id"))
    if row is None:
        raise not_found("ERROR_CONTACT_NOT_FOUND")
    if is_suppressed(ctx.store, row):
        raise ApiError(400, "Suppressed contacts cannot be deleted. ERROR_CONTACT_SUPPRESSED")
    delete_contact_rows(ctx.store, int(row["id"]))
    return no_content()


def suppress_in_account(
    store: Store, account_id: int, email: str, reason: str = "Unsubscribed"
) -> sqlite3.Row:
    """Suppress (unsubscribe) an address in one account, creating the contact if needed."""
    now = iso()
    with store.tx() as conn:
        row = conn.execute(
            "SELECT * FROM contacts WHERE account_id = ? AND email_key = ?", (account_id, email.lower())
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO contacts (account_id, email, email_key, status, created, modified, "
                "suppressed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (account_id, email, email.lower(), reason, now, now, now),
            )
        else:
            conn.execute(
                "UPDATE contacts SET status = ?, suppressed_at = ?, modified = ? WHERE id = ?",
                (reason, now, now, row["id"]),
            )
        return conn.execute(
            "SELECT * FROM contacts WHERE account_id = ? AND email_key = ?", (account_id, email.lower())
        ).fetchone()


def suppress_globally(store: Store, email: str) -> None:
    """Put an address on the global suppression list (every account, present and future)."""
    now = iso()
    with store.tx() as conn:
        conn.execute(
            "INSERT INTO global_suppressions (email, suppressed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (email.lower(), now),
        )
        conn.execute("UPDATE contacts SET modified = ? WHERE email_key = ?", (now, email.lower()))


async def unsubscribe(ctx: Ctx) -> Response:
    """``POST /v2/contacts/unsubscribe``: account-level unsubscribe; 200 ``ApiContactSuppression``."""
    body = await ctx.json_object()
    email = get(body, "email")
    if not valid_email(email):
        raise ApiError(400, "Email is not a valid email address. ERROR_PARAMETER_INVALID")
    row = suppress_in_account(ctx.store, ctx.account_id, email)
    return ok(
        {
            "suppressedContact": contact_json(ctx.store, row),
            "dateRemoved": row["suppressed_at"],
            "reason": "Unsubscribed",
        }
    )


async def resubscribe_to(ctx: Ctx, challenge: bool, address_book_id: int | None = None) -> Response:
    """Resubscribe the body's contact; with ``address_book_id`` an active contact also joins that book."""
    response = await _resubscribe_contact(ctx, challenge)
    if address_book_id is not None and response.status_code == 200:
        body = await ctx.json_object()
        row = by_email(ctx.store, ctx.account_id, get(get(body, "unsubscribedContact"), "email"))
        if row is not None and row["status"] in ACTIVE_STATUSES:
            with ctx.store.tx() as conn:
                add_member(conn, address_book_id, int(row["id"]))
    return response


async def _resubscribe_contact(ctx: Ctx, challenge: bool) -> Response:
    body = await ctx.json_object()
    inner = get(body, "unsubscribedContact")
    if not isinstance(inner, dict):
        raise ApiError(400, "unsubscribedContact is required. ERROR_PARAMETER_INVALID")
    email = get(inner, "email")
    if not valid_email(email):
        raise ApiError(400, "Email is not a valid email address. ERROR_PARAMETER_INVALID")
    row = by_email(ctx.store, ctx.account_id, email)
    if globally_suppressed(ctx.store, email):
        shown = contact_json(ctx.store, row) if row else {"email": email, "status": GLOBAL_STATUS}
        return ok({"contact": shown, "status": "ContactCannotBeUnsuppressed"})
    if row is not None and row["status"] in ACTIVE_STATUSES:
        return ok({"contact": contact_json(ctx.store, row), "status": "ContactAdded"})
    if challenge:
        if row is None:
            row = suppress_in_account(ctx.store, ctx.account_id, email)
        return ok({"contact": contact_json(ctx.store, row), "status": "ContactChallenged"})
    row = resubscribe_in_account(ctx.store, ctx.account_id, email)
    return ok({"contact": contact_json(ctx.store, row), "status": "ContactAdded"})


def last_subscribed_value(when: datetime | None = None) -> str:
    """``LASTSUBSCRIBED`` as the platform writes it: ``2020-01-01 09:40:18.527000+00:00``."""
    return (when or utcnow()).astimezone(UTC).isoformat(sep=" ", timespec="microseconds")


def resubscribe_in_account(store: Store, account_id: int, email: str) -> sqlite3.Row:
    """Take an address back in one account without a challenge (creating the contact if needed).

    The contact becomes ``Subscribed``, its account suppression is lifted, ``LASTSUBSCRIBED`` is set to
    now and ``modified`` moves. A globally suppressed address stays ``Suppressed`` (the caller checks).
    """
    now = utcnow()
    with store.tx() as conn:
        row = conn.execute(
            "SELECT * FROM contacts WHERE account_id = ? AND email_key = ?", (account_id, email.lower())
        ).fetchone()
        if row is None:
            contact_id, _ = insert_contact(conn, account_id, email, "Html", "Unknown", {})
            row = conn.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
        values = json.loads(row["data_fields"])
        values[LAST_SUBSCRIBED] = last_subscribed_value(now)
        conn.execute(
            "UPDATE contacts SET status = 'Subscribed', suppressed_at = NULL, data_fields = ?, modified = ? "
            "WHERE id = ?",
            (dumps(values), iso(now), row["id"]),
        )
        fresh: sqlite3.Row = conn.execute("SELECT * FROM contacts WHERE id = ?", (row["id"],)).fetchone()
        return fresh


async def resubscribe(ctx: Ctx) -> Response:
    """``POST /v2/contacts/resubscribe``: challenged unless ``resubscribe_challenge`` is off."""
    return await resubscribe_to(ctx, ctx.faults.faults.resubscribe_challenge)


async def resubscribe_no_challenge(ctx: Ctx) -> Response:
    """``POST /v2/contacts/resubscribe-with-no-challenge``."""
    return await resubscribe_to(ctx, False)


def since(ctx: Ctx) -> str:
    """The ``{date}`` path parameter normalised to the stored timestamp format, or 400."""
    try:
        return iso(parse_iso(ctx.path("date")))
    except ValueError:
        raise bad_request("ERROR_PARAMETER_INVALID", "The date is not a valid date-time.") from None


async def suppressed_since(ctx: Ctx) -> Response:
    """``GET /v2/contacts/suppressed-since/{date}``: account and global suppressions, oldest first."""
    start = since(ctx)
    select, skip = ctx.paging()
    rows = ctx.store.all(
        "SELECT * FROM ("
        "  SELECT c.*, COALESCE(g.suppressed_at, c.suppressed_at) AS removed,"
        "         CASE WHEN g.email IS NULL THEN c.status ELSE ? END AS reason"
        "  FROM contacts c LEFT JOIN global_suppressions g ON g.email = c.email_key"
        "  WHERE c.account_id = ? AND (g.email IS NOT NULL OR c.status NOT IN ('Subscribed', 'PendingOptIn'))"
        ") WHERE removed >= ? ORDER BY removed, id LIMIT ? OFFSET ?",
        (GLOBAL_STATUS, ctx.account_id, start, select, skip),
    )
    return ok(
        [
            {
                "suppressedContact": contact_json(ctx.store, r, full=False),
                "dateRemoved": r["removed"],
                "reason": r["reason"],
            }
            for r in rows
        ]
    )


async def modified_since(ctx: Ctx) -> Response:
    """``GET /v2/contacts/modified-since/{date}?withFullData&select&skip`` (default page 2000)."""
    start = since(ctx)
    select, skip = ctx.paging(default_select=2000, max_select=5000)
    full = ctx.flag("withFullData")
    fields = fields_of(ctx.store, ctx.account_id)
    rows = ctx.store.all(
        "SELECT * FROM contacts WHERE account_id = ? AND modified >= ? ORDER BY id LIMIT ? OFFSET ?",
        (ctx.account_id, start, select, skip),
    )
    return ok([contact_json(ctx.store, r, full, fields) for r in rows])


async def list_contacts(ctx: Ctx) -> Response:
    """``GET /v2/contacts?withFullData&select&skip``."""
    select, skip = ctx.paging()
    full = ctx.flag("withFullData")
    fields = fields_of(ctx.store, ctx.account_id)
    rows = ctx.store.all(
        "SELECT * FROM contacts WHERE account_id = ? ORDER BY id LIMIT ? OFFSET ?",
        (ctx.account_id, select, skip),
    )
    return ok([contact_json(ctx.store, r, full, fields) for r in rows])


ROUTES = [
    Api("GET", "/v2/contacts", list_contacts),
    Api("POST", "/v2/contacts", create_contact),
    Api("POST", "/v2/contacts/unsubscribe", unsubscribe),
    Api("POST", "/v2/contacts/resubscribe", resubscribe),
    Api("POST", "/v2/contacts/resubscribe-with-no-challenge", resubscribe_no_challenge),
    Api("GET", "/v2/contacts/suppressed-since/{date}", suppressed_since),
    Api("GET", "/v2/contacts/modified-since/{date}", modified_since),
    Api("GET", "/v2/contacts/{identifier}/with-consent", get_contact_with_consent),
    Api("GET", "/v2/contacts/{identifier}", get_contact),
    Api("PUT", "/v2/contacts/{id}", update_contact),
    Api("DELETE", "/v2/contacts/{id}", delete_contact),
]
