"""Insight data (v3): collections, bulk import, and single records in contact and account scope.

Bulk import (``PUT /insightData/v3/import``) is limited to ``insight_max_bytes`` (50 MB) per call and
``max_active_insight_imports`` (5) concurrent imports. Records are checked when the import is processed;
each rejected record is reported with a v3 ``failureReason``: ``InvalidClientKey`` (missing or over-long
key), ``InvalidJson`` (``json`` not an object), ``JsonKeyInvalidCharacters`` / ``JsonKeyTooLong`` (property
names outside ``[A-Za-z0-9_-]`` or over 100 characters), ``JsonContainsNestedArray``,
``InvalidContactIdentifier``, ``ContactEmailDoesNotExist`` / ``ContactIdDoesNotExist`` and ``DuplicateKey``
(the same key twice in one import; the first wins).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from typing import Any

from starlette.responses import Response

from dotsync.platform.sandbox.contacts import by_email, by_id, existing_ids, ids_by_email
from dotsync.platform.sandbox.context import Api, Ctx, int32, no_content, ok
from dotsync.platform.sandbox.errors import ApiError, V3Error
from dotsync.platform.sandbox.faults import Faults
from dotsync.platform.sandbox.processing import poll, register
from dotsync.platform.sandbox.storage import Store, dumps, iso

COLLECTION_RE = re.compile(r"^[-A-Za-z_][-A-Za-z0-9_]{1,255}$")
JSON_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
SCOPES = ("account", "contact")
TYPES = (
    "cartInsight",
    "catalog",
    "consentInsight",
    "custom",
    "easyEditorExtensions",
    "nostoEmailCampaigns",
    "orders",
    "productCategories",
    "webInsight",
    "wishList",
)
MAX_KEY = 255
MAX_JSON_KEY = 100
IDENTIFIERS = ("email", "contactId")


def _bad(description: str, item: str | None = None) -> V3Error:
    details = [{"item": item, "description": description}] if item else None
    return V3Error(400, "insightData:validationFailed", description, details)


def _collection(store: Store, account_id: int, name: str) -> sqlite3.Row | None:
    return store.one(
        "SELECT * FROM insight_collections WHERE account_id = ? AND lower(name) = lower(?)",
        (account_id, name),
    )


def _ensure_collection(store: Store, account_id: int, name: str, scope: str, ctype: str) -> bool:
    """Create the collection if missing (True if created); 400 if it exists in the other scope."""
    existing = _collection(store, account_id, name)
    if existing is None:
        store.run(
            "INSERT INTO insight_collections (account_id, name, scope, type) VALUES (?, ?, ?, ?)",
            (account_id, name, scope, ctype),
        )
        return True
    if existing["scope"] != scope:
        raise _bad(f"The collection '{name}' exists with scope '{existing['scope']}'", name)
    return False


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not COLLECTION_RE.match(name):
        raise V3Error(400, "insightData:invalidId", f"The collectionName value '{name}' is invalid")
    return name


def json_problem(value: Any, depth: int = 0, in_array: bool = False) -> tuple[str, str] | None:
    """The first v3 failure reason (and detail) of a record's ``json``, or None if it is acceptable."""
    if depth == 0 and not isinstance(value, dict):
        return "InvalidJson", "The record json must be a JSON object"
    return _json_problem(value, _GOOD_KEYS)


_GOOD_KEYS: set[str] = set()
"""Property names already found valid: a bulk import repeats the same few names in every record, so each
is checked against the rules once per process, not once per record."""
_GOOD_KEYS_MAX = 100_000
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
"""What ``json.loads`` makes of JSON scalars: nothing below them to check."""


def _json_problem(value: Any, good: set[str]) -> tuple[str, str] | None:
    """:func:`json_problem` below the top level: property names, and arrays nested in arrays."""
    if isinstance(value, dict):
        known = good.issuperset(value)  # one C loop over the names; the rules run only for new ones
        for key, item in value.items():
            if not known and key not in good:
                if len(key) > MAX_JSON_KEY:
                    return (
                        "JsonKeyTooLong",
                        f"Field name '{key[:20]}...' is longer than {MAX_JSON_KEY} characters",
                    )
                if not JSON_KEY_RE.match(key):
                    return (
                        "JsonKeyInvalidCharacters",
                        f"Field name '{key}' has characters other than A-Z a-z 0-9 _ -",
                    )
                if len(good) < _GOOD_KEYS_MAX:
                    good.add(key)
            if item.__class__ not in _SCALAR_TYPES:
                found = _json_problem(item, good)
                if found:
                    return found
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, list):
                return "JsonContainsNestedArray", "Arrays cannot contain arrays"
            if item.__class__ not in _SCALAR_TYPES:
                found = _json_problem(item, good)
                if found:
                    return found
    return None


def _owner_contact(store: Store, account_id: int, identity: Any) -> tuple[int | None, str | None]:
    """(contact id, failure reason) for a ``contactIdentity``."""
    if (
        not isinstance(identity, dict)
        or identity.get("identifier") not in IDENTIFIERS
        or identity.get("value") in (None, "")
    ):
        return None, "InvalidContactIdentifier"
    value = str(identity["value"])
    if identity["identifier"] == "email":
        row = by_email(store, account_id, value)
        return (int(row["id"]), None) if row else (None, "ContactEmailDoesNotExist")
    number = int32(value)
    if number is None:
        return None, "InvalidContactIdentifier"
    row = by_id(store, account_id, number)
    return (int(row["id"]), None) if row else (None, "ContactIdDoesNotExist")


async def bulk_import(ctx: Ctx) -> Response:
    """``PUT /insightData/v3/import``: 202 ``{"importId"}``; the collection is created if missing."""
    f = ctx.faults.faults
    raw = await ctx.request.body()
    if len(raw) > f.insight_max_bytes:
        raise V3Error(
            413,
            "insightData:payloadTooLarge",
            f"The request body is larger than the {f.insight_max_bytes} byte limit",
        )
    body = await ctx.json_object()
    name = _check_name(body.get("collectionName"))
    scope = body.get("collectionScope")
    if scope not in SCOPES:
        raise _bad("collectionScope must be 'account' or 'contact'", "collectionScope")
    ctype = body.get("collectionType")
    if ctype not in TYPES:
        raise _bad(f"collectionType must be one of {', '.join(TYPES)}", "collectionType")
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise _bad("records must be a non-empty array", "records")
    import_id = str(uuid.uuid4())
    now = time.time()
    with ctx.store.tx() as conn:
        active = conn.execute(
            "SELECT COUNT(*) FROM imports "
            "WHERE account_id = ? AND kind = 'insight' AND status = 'NotStarted'",
            (ctx.account_id,),
        ).fetchone()[0]
        if active >= f.max_active_insight_imports:
            raise V3Error(
                429,
                "insightData:tooManyActiveImports",
                f"There are already {active} active Insight data imports; wait for one to finish",
            )
        _ensure_collection(ctx.store, ctx.account_id, name, scope, ctype)
        conn.execute(
            "INSERT INTO imports (id, account_id, kind, status, created, ready_at, polls_needed, outcome, "
            "payload) "
            "VALUES (?, ?, 'insight', 'NotStarted', ?, ?, ?, ?, ?)",
            (import_id, ctx.account_id, now, now + f.import_delay, f.import_polls, f.import_outcome, raw),
        )
    return ok({"importId": import_id}, 202)


UPSERT_RECORD = (
    "INSERT INTO insight_records (account_id, collection, key, contact_id, json, created, updated) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, collection, key) DO UPDATE SET "
    "contact_id = excluded.contact_id, json = excluded.json, updated = excluded.updated"
)


def _upsert_record(
    conn: sqlite3.Connection, account_id: int, collection: str, key: str, contact_id: int | None, record: Any
) -> bool:
    """Insert or replace a record; True if it was created."""
    now = iso()
    existing = conn.execute(
        "SELECT created FROM insight_records WHERE account_id = ? AND collection = ? AND key = ?",
        (account_id, collection, key),
    ).fetchone()
    conn.execute(UPSERT_RECORD, (account_id, collection, key, contact_id, dumps(record), now, now))
    return existing is None


def _owners(conn: sqlite3.Connection, account_id: int, records: list[Any]) -> tuple[dict[str, int], set[int]]:
    """The contacts a contact-scope import names, in two indexed queries for the whole import.

    Returns (lower-cased email -> contact id, contact ids that exist) for the identities of ``records``.
    """
    emails: set[str] = set()
    ids: set[int] = set()
    for record in records:
        identity = record.get("contactIdentity") if isinstance(record, dict) else None
        if not isinstance(identity, dict) or identity.get("value") in (None, ""):
            continue
        if identity.get("identifier") == "email":
            emails.add(str(identity["value"]).lower())
        elif identity.get("identifier") == "contactId":
            number = int32(str(identity["value"]))
            if number is not None:
                ids.add(number)
    return ids_by_email(conn, account_id, emails), existing_ids(conn, account_id, ids)


def _owner_of(
    identity: Any, by_email_key: dict[str, int], known_ids: set[int]
) -> tuple[int | None, str | None]:
    """:func:`_owner_contact` answered from :func:`_owners`' lookups instead of one query per record."""
    if (
        not isinstance(identity, dict)
        or identity.get("identifier") not in IDENTIFIERS
        or identity.get("value") in (None, "")
    ):
        return None, "InvalidContactIdentifier"
    value = str(identity["value"])
    if identity["identifier"] == "email":
        found = by_email_key.get(value.lower())
        return (found, None) if found is not None else (None, "ContactEmailDoesNotExist")
    number = int32(value)
    if number is None:
        return None, "InvalidContactIdentifier"
    return (number, None) if number in known_ids else (None, "ContactIdDoesNotExist")


def _record_failure(
    record: dict[str, Any], scope: str, key: Any, raw_json: Any, reason: str, detail: str
) -> dict[str, Any]:
    """One entry of an import report's ``failures``."""
    identity = record.get("contactIdentity")
    owner: dict[str, Any] = {"ownerType": scope}
    if scope == "contact" and isinstance(identity, dict):
        owner["contactIdentity"] = {
            "identifier": str(identity.get("identifier")),
            "value": identity.get("value"),
        }
    return {
        "collectionOwner": owner,
        "failureReason": reason,
        "details": [detail],
        "key": str(key) if isinstance(key, str | int) and not isinstance(key, bool) else "",
        "json": raw_json if isinstance(raw_json, dict) else {},
    }


def _failed_report(name: str, total: int) -> dict[str, Any]:
    """The report of an import that the ``import_outcome`` knob fails as a whole."""
    summary = {"totalRecords": total, "totalImported": 0, "totalRejected": total}
    return {"collectionName": name, "summary": summary}


def process_insight_import(store: Store, faults: Faults, row: sqlite3.Row) -> None:
    """Apply a due bulk import; store the summary and the per-record failures.

    Set-based: the owners of a contact-scope import are looked up in two queries, each record is checked
    and encoded once in Python, and the accepted records are written with one ``executemany`` upsert, all
    in one transaction.
    """
    body = json.loads(bytes(row["payload"]))
    account_id = int(row["account_id"])
    name, scope = body["collectionName"], body["collectionScope"]
    records: list[Any] = body["records"]
    if row["outcome"] != "Finished":
        store.run(
            "UPDATE imports SET status = 'Failed', report = ?, records = ?, rejected = ? WHERE id = ?",
            (dumps(_failed_report(name, len(records))), len(records), len(records), row["id"]),
        )
        return
    failures: list[dict[str, Any]] = []
    seen: set[str] = set()
    rows: list[tuple[Any, ...]] = []
    now = iso()
    with store.tx() as conn:
        by_email_key, known_ids = _owners(conn, account_id, records) if scope == "contact" else ({}, set())
        for record in records:
            if not isinstance(record, dict):
                record = {"json": record}
            key = record.get("key")
            raw_json = record.get("json")
            reason: str | None = None
            detail = ""
            contact_id = None
            if (
                isinstance(key, bool)
                or not isinstance(key, str | int)
                or str(key) == ""
                or len(str(key)) > MAX_KEY
            ):
                reason, detail = "InvalidClientKey", f"The key must be a string of 1 to {MAX_KEY} characters"
            else:
                key = str(key)
                problem = json_problem(raw_json)
                if problem:
                    reason, detail = problem
                elif scope == "contact":
                    identity = record.get("contactIdentity")
                    contact_id, reason = _owner_of(identity, by_email_key, known_ids)
                    shown = identity.get("value") if isinstance(identity, dict) else identity
                    detail = f"Contact {shown!r} not found"
                if reason is None:
                    folded = key.lower()
                    if folded in seen:
                        reason, detail = (
                            "DuplicateKey",
                            f"The key '{key}' appears more than once in this import",
                        )
                    else:
                        seen.add(folded)
            if reason is not None:
                failures.append(_record_failure(record, scope, key, raw_json, reason, detail))
                continue
            rows.append((account_id, name, key, contact_id, dumps(raw_json), now, now))
        conn.executemany(UPSERT_RECORD, rows)
        report: dict[str, Any] = {
            "collectionName": name,
            "summary": {
                "totalRecords": len(records),
                "totalImported": len(rows),
                "totalRejected": len(failures),
            },
        }
        if failures:
            report["failures"] = failures
        conn.execute(
            "UPDATE imports SET status = ?, report = ?, records = ?, rejected = ?, payload = ? WHERE id = ?",
            (faults.insight_done_status, dumps(report), len(records), len(failures), b"", row["id"]),
        )


async def import_status(ctx: Ctx) -> Response:
    """``GET /insightData/v3/import/{importId}``: ``NotStarted`` until processed, then ``Finished``."""
    row = poll(ctx.store, ctx.faults.faults, ctx.account_id, ctx.path("importId"), "insight")
    if row is None:
        raise V3Error(
            404,
            "insightData:importNotFound",
            f"The import request '{ctx.path('importId')}' could not be found!",
        )
    out: dict[str, Any] = {"importId": row["id"], "status": row["status"]}
    if row["report"]:
        out.update(json.loads(row["report"]))
    return ok(out)


async def create_collection(ctx: Ctx) -> Response:
    """``POST /insightData/v3/collections/{collectionName}?collectionScope&collectionType``: 201 or 200."""
    name = _check_name(ctx.path("collectionName"))
    scope = ctx.request.query_params.get("collectionScope")
    ctype = ctx.request.query_params.get("collectionType")
    if scope not in SCOPES or ctype not in TYPES:
        raise _bad("collectionScope and collectionType are required and must be valid")
    created = _ensure_collection(ctx.store, ctx.account_id, name, scope, ctype)
    return Response(status_code=201 if created else 200)


def _target(ctx: Ctx, scope: str, create_with: str | None = None) -> tuple[str, int | None, str]:
    """(collection name, owner contact id, record id) of a single-record call."""
    name = _check_name(ctx.path("collectionName"))
    record_id = ctx.path("recordId")
    contact_id = None
    if scope == "contact":
        identifier, value = ctx.path("identifier"), ctx.path("value")
        if identifier not in IDENTIFIERS or (identifier == "contactId" and not value.isdigit()):
            raise V3Error(
                400,
                "insightData:invalidId",
                f"The id value '{value}' is invalid for the identifier '{identifier}'",
            )
        contact_id, reason = _owner_contact(
            ctx.store, ctx.account_id, {"identifier": identifier, "value": value}
        )
        if reason is not None:
            raise V3Error(
                404,
                "insightData:contactNotFound",
                "The following contacts could not be found",
                [{"item": value, "description": f"Not found using the identifier '{identifier}'"}],
            )
    coll = _collection(ctx.store, ctx.account_id, name)
    if coll is None and create_with and ctx.faults.faults.insight_autocreate_on_put:
        _ensure_collection(ctx.store, ctx.account_id, name, scope, create_with)
        coll = _collection(ctx.store, ctx.account_id, name)
    if coll is None or coll["scope"] != scope:
        raise V3Error(
            404,
            "insightData:collectionNotFound",
            "The collection could not be found",
            [{"item": name, "description": "Not found"}],
        )
    return str(coll["name"]), contact_id, record_id


def _record_row(ctx: Ctx, name: str, record_id: str, contact_id: int | None) -> sqlite3.Row:
    row = ctx.store.one(
        "SELECT * FROM insight_records WHERE account_id = ? AND collection = ? AND key = ?",
        (ctx.account_id, name, record_id),
    )
    if row is None or (contact_id is not None and row["contact_id"] != contact_id):
        raise V3Error(
            404,
            "insightData:recordNotFound",
            "The Insight data record could not be found",
            [{"item": record_id, "description": f"Not found in the collection '{name}'"}],
        )
    return row


async def _put(ctx: Ctx, scope: str) -> Response:
    name, contact_id, record_id = _target(ctx, scope, create_with="custom")
    record = await ctx.json()
    problem = json_problem(record)
    if problem:
        raise V3Error(
            400, "insightData:validationFailed", problem[1], [{"item": record_id, "description": problem[0]}]
        )
    with ctx.store.tx() as conn:
        created = _upsert_record(conn, ctx.account_id, name, record_id, contact_id, record)
    return Response(status_code=201 if created else 204)


async def _get(ctx: Ctx, scope: str) -> Response:
    name, contact_id, record_id = _target(ctx, scope)
    row = _record_row(ctx, name, record_id, contact_id)
    out: dict[str, Any] = {
        "key": row["key"],
        "json": json.loads(row["json"]),
        "created": row["created"],
        "updated": row["updated"],
    }
    if row["contact_id"] is not None:
        out["ownerContactId"] = int(row["contact_id"])
    return ok(out)


async def _delete(ctx: Ctx, scope: str) -> Response:
    name, contact_id, record_id = _target(ctx, scope)
    _record_row(ctx, name, record_id, contact_id)
    ctx.store.run(
        "DELETE FROM insight_records WHERE account_id = ? AND collection = ? AND key = ?",
        (ctx.account_id, name, record_id),
    )
    return no_content()


async def put_contact_record(ctx: Ctx) -> Response:
    """``PUT /insightData/v3/contacts/{identifier}/{value}/{collectionName}/{recordId}``: 201 / 204."""
    return await _put(ctx, "contact")


async def get_contact_record(ctx: Ctx) -> Response:
    """``GET /insightData/v3/contacts/{identifier}/{value}/{collectionName}/{recordId}``."""
    return await _get(ctx, "contact")


async def delete_contact_record(ctx: Ctx) -> Response:
    """``DELETE /insightData/v3/contacts/{identifier}/{value}/{collectionName}/{recordId}``: 204."""
    return await _delete(ctx, "contact")


async def put_account_record(ctx: Ctx) -> Response:
    """``PUT /insightData/v3/account/{collectionName}/{recordId}``: 201 / 204."""
    return await _put(ctx, "account")


async def get_account_record(ctx: Ctx) -> Response:
    """``GET /insightData/v3/account/{collectionName}/{recordId}``."""
    return await _get(ctx, "account")


async def delete_account_record(ctx: Ctx) -> Response:
    """``DELETE /insightData/v3/account/{collectionName}/{recordId}``: 204."""
    return await _delete(ctx, "account")


async def delete_v2_record(ctx: Ctx) -> Response:
    """``DELETE /v2/contacts/transactional-data/{collectionName}/{key}``: v2 delete by key alone; 204."""
    name = _check_name(ctx.path("collectionName"))
    key = ctx.path("key")
    with ctx.store.tx() as conn:
        deleted = conn.execute(
            "DELETE FROM insight_records WHERE account_id = ? AND collection = ? AND key = ?",
            (ctx.account_id, name, key),
        ).rowcount
    if not deleted:
        raise ApiError(404, "Error: ERROR_TRANSACTIONAL_DATA_DOES_NOT_EXIST")
    return no_content()


CONTACT_RECORD = "/insightData/v3/contacts/{identifier}/{value}/{collectionName}/{recordId}"
ACCOUNT_RECORD = "/insightData/v3/account/{collectionName}/{recordId}"

ROUTES = [
    Api("PUT", "/insightData/v3/import", bulk_import),
    Api("GET", "/insightData/v3/import/{importId}", import_status),
    Api("POST", "/insightData/v3/collections/{collectionName}", create_collection),
    Api("PUT", CONTACT_RECORD, put_contact_record),
    Api("GET", CONTACT_RECORD, get_contact_record),
    Api("DELETE", CONTACT_RECORD, delete_contact_record),
    Api("PUT", ACCOUNT_RECORD, put_account_record),
    Api("GET", ACCOUNT_RECORD, get_account_record),
    Api("DELETE", ACCOUNT_RECORD, delete_account_record),
    Api("DELETE", "/v2/contacts/transactional-data/{collectionName}/{key}", delete_v2_record),
]

register("insight", process_insight_import)
