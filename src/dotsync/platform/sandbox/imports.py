"""v2 CSV contact imports: upload, asynchronous processing, status, report and report-faults.

Upload: ``multipart/form-data`` with one file part named ``file`` that carries a ``filename`` (without it the
platform answers 400 ``file must be valid``), or JSON ``ApiFileMedia {"fileName", "data": <base64>}``.
The file needs an ``Email`` column (any case); ``EmailType`` and ``OptInType`` set those properties; every
other column maps to the data field of the same name (case-insensitive). Columns that match no data field
are ignored, or create a String field when the ``import_unknown_columns`` knob is ``create``. The consent
columns ``CONSENTTEXT, CONSENTURL, CONSENTDATETIME, CONSENTIP, CONSENTUSERAGENT`` add one consent record to
the contact when any is set (``GET /v2/contacts/{id}/with-consent`` lists them).

Rows that are not imported are listed in report-faults with the platform's reason wording:
``Invalid Email``, ``Duplicate``, ``Globally Suppressed``, ``Unsubscribed``, ``Hard bounced``,
``Soft bounced``, ``Complained to ISP``, ``Mail blocked``, ``Suppressed by Domain``, ``Suppressed by you``
and ``Failures`` (a data-field value the field's type rejects).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import sqlite3
import time
import uuid
from collections import Counter
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from dotsync.platform.sandbox.addressbooks import find_book
from dotsync.platform.sandbox.contacts import (
    ACTIVE_STATUSES,
    INSERT_CONTACT,
    UPDATE_CONTACT,
    add_members,
    globally_suppressed_among,
    ids_by_email,
    new_contact,
    rows_by_email,
    valid_email,
)
from dotsync.platform.sandbox.context import Api, Ctx, csv_response, enum, get, ok
from dotsync.platform.sandbox.datafields import NAME_RE, RESTRICTED_NAMES, coerce, fields_of
from dotsync.platform.sandbox.errors import ApiError, not_found
from dotsync.platform.sandbox.faults import Faults
from dotsync.platform.sandbox.processing import poll, register
from dotsync.platform.sandbox.storage import Store, dumps, iso

MERGE_OPTIONS = ("Overwrite", "OnlyOverwriteIfNotEmpty", "OnlyOverwriteIfContactDataNotPopulated")
REPORT_KEYS = (
    "newContacts",
    "updatedContacts",
    "globallySuppressed",
    "invalidEntries",
    "duplicateEmails",
    "blocked",
    "unsubscribed",
    "hardBounced",
    "softBounced",
    "ispComplaints",
    "mailBlocked",
    "domainSuppressed",
    "pendingDoubleOptin",
    "failures",
    "suppressedContacts",
)
# account-level contact status -> (fault reason as the platform words it, report counter)
SUPPRESSION_REASONS: dict[str, tuple[str, str]] = {
    "Unsubscribed": ("Unsubscribed", "unsubscribed"),
    "HardBounced": ("Hard bounced", "hardBounced"),
    "SoftBounced": ("Soft bounced", "softBounced"),
    "IspComplained": ("Complained to ISP", "ispComplaints"),
    "MailBlocked": ("Mail blocked", "mailBlocked"),
    "DomainSuppression": ("Suppressed by Domain", "domainSuppressed"),
    "DirectComplaint": ("Suppressed by you", "suppressedContacts"),
    "Suppressed": ("Suppressed by you", "suppressedContacts"),
}
GLOBAL_REASON = "Globally Suppressed"
EMAIL_TYPES = ("PlainText", "Html")
OPT_IN_TYPES = ("Unknown", "Single", "Double", "VerifiedDouble")
REPORT_NOT_READY = "Import is not processed yet or completed with error. ERROR_IMPORT_REPORT_NOT_FOUND"


async def _file_bytes(ctx: Ctx) -> bytes:
    content_type = ctx.request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await ctx.request.form(max_files=2)
        except (HTTPException, MultiPartException, ValueError):  # no or bad boundary, truncated body
            raise ApiError(400, "The multipart body could not be read. file must be valid") from None
        part = form.get("file")
        if not isinstance(part, UploadFile) or not part.filename:
            raise ApiError(400, "file must be valid")
        return await part.read()
    body = await ctx.json_object()
    data = get(body, "data")
    if not get(body, "fileName") or not isinstance(data, str):
        raise ApiError(400, "file must be valid")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "file must be valid") from None


class CsvRejected(ValueError):
    """A CSV file that cannot be imported; ``code`` is the platform's error code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    """Parse a CSV import: (header, rows). Any line ending (LF, CRLF, CR alone) and quoted cells.

    The upload and the processing both read the file with this one parser, so a file accepted with 202
    is a file the processing can read.

    Raises:
        CsvRejected: the text is not valid CSV, or its header has no ``Email`` column.
    """
    try:
        # newline="" hands the csv module the raw line endings, which it splits on \n, \r\n and \r alike
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as err:
        raise CsvRejected(f"The file is not valid CSV ({err}).", "ERROR_IMPORT_INVALID_FILE") from None
    columns = rows[0] if rows else []
    if not any(c.strip().lower() == "email" for c in columns):
        raise CsvRejected("The file has no Email column.", "ERROR_NO_EMAIL_COLUMN")
    return columns, rows[1:]


async def _start(ctx: Ctx, book_id: int | None, merge: str) -> Response:
    if book_id is not None:
        find_book(ctx, book_id, writable=True)
    f = ctx.faults.faults
    payload = await _file_bytes(ctx)
    if len(payload) > f.csv_max_bytes:
        raise ApiError(413, f"The file is larger than {f.csv_max_bytes} bytes. ERROR_IMPORT_FILE_TOO_LARGE")
    try:
        read_csv(payload.decode("utf-8-sig", errors="replace"))
    except CsvRejected as err:
        raise ApiError(400, f"{err} {err.code}") from None
    import_id = str(uuid.uuid4())
    now = time.time()
    with ctx.store.tx() as conn:
        active = conn.execute(
            "SELECT COUNT(*) FROM imports "
            "WHERE account_id = ? AND kind = 'contacts' AND status = 'NotFinished'",
            (ctx.account_id,),
        ).fetchone()[0]
        if active >= f.max_active_imports:
            raise ApiError(
                400,
                f"You have more than {f.max_active_imports} imports running at the same time. "
                "ERROR_IMPORT_TOOMANYACTIVEIMPORTS",
            )
        conn.execute(
            "INSERT INTO imports (id, account_id, kind, address_book_id, status, created, ready_at, "
            "polls_needed, "
            "outcome, payload, report) VALUES (?, ?, 'contacts', ?, 'NotFinished', ?, ?, ?, ?, ?, ?)",
            (
                import_id,
                ctx.account_id,
                book_id,
                now,
                now + f.import_delay,
                f.import_polls,
                f.import_outcome,
                payload,
                dumps({"mergeOption": merge}),
            ),
        )
    return ok({"id": import_id, "status": "NotFinished"}, 202)


async def import_to_book(ctx: Ctx) -> Response:
    """``POST /v2/address-books/{addressBookId}/contacts/import``: 202 ``{"id", "status": "NotFinished"}``."""
    return await _start(ctx, ctx.path_int("addressBookId"), "Overwrite")


async def import_to_book_merge(ctx: Ctx) -> Response:
    """``POST /v2/address-books/{addressBookId}/contacts/import/with-merge-option/{mergeOption}``."""
    merge = enum(ctx.path("mergeOption"), MERGE_OPTIONS, "mergeOption")
    return await _start(ctx, ctx.path_int("addressBookId"), merge)


async def import_no_book(ctx: Ctx) -> Response:
    """``POST /v2/contacts/import``: import without adding to a list."""
    return await _start(ctx, None, "Overwrite")


def _merge(existing: dict[str, Any], incoming: dict[str, Any], merge: str) -> dict[str, Any]:
    out = dict(existing)
    for name, value in incoming.items():
        if merge == "OnlyOverwriteIfNotEmpty" and value is None:
            continue
        if merge == "OnlyOverwriteIfContactDataNotPopulated" and out.get(name) not in (None, ""):
            continue
        out[name] = value
    return out


CONSENT_COLUMNS = ("consenttext", "consenturl", "consentdatetime", "consentip", "consentuseragent")
"""The consent columns of a contact import (any case); a row with any of them set adds one consent record."""


def _consent(conn: sqlite3.Connection, contact_id: int, values: list[str], at: dict[str, int]) -> None:
    """Store the row's consent record (its ``CONSENT*`` cells) on the contact, when it has one."""
    cells = {
        key: (values[at[key]].strip() if key in at and at[key] < len(values) else "")
        for key in CONSENT_COLUMNS
    }
    if not any(cells.values()):
        return
    conn.execute(
        "INSERT INTO consent_records (contact_id, text, url, consented_at, ip, user_agent, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            contact_id,
            cells["consenttext"],
            cells["consenturl"],
            cells["consentdatetime"],
            cells["consentip"],
            cells["consentuseragent"],
            iso(),
        ),
    )


def _map_columns(
    store: Store, account_id: int, columns: list[str], faults: Faults
) -> dict[int, dict[str, Any]]:
    """Column index -> data field, creating fields for unknown columns when the knob says so."""
    fields = fields_of(store, account_id)
    mapping: dict[int, dict[str, Any]] = {}
    for index, column in enumerate(columns):
        key = column.strip().lower()
        if key in ("email", "emailtype", "optintype") or key in CONSENT_COLUMNS:
            continue
        field = fields.get(key)
        creatable = NAME_RE.match(column.strip()) and key not in RESTRICTED_NAMES
        if field is None and faults.import_unknown_columns == "create" and creatable:
            store.run(
                "INSERT INTO data_fields (account_id, name, name_key, type, visibility) "
                "VALUES (?, ?, ?, 'String', 'Private') ON CONFLICT DO NOTHING",
                (account_id, column.strip(), key),
            )
            field = {
                "name": column.strip(),
                "type": "String",
                "visibility": "Private",
                "defaultValue": None,
            }
        if field is not None:
            mapping[index] = field
    return mapping


def _choices(options: tuple[str, ...]) -> dict[str, str]:
    """Lower-cased option -> its spelling: :func:`.context.enum` as one dict lookup per cell."""
    return {option.lower(): option for option in options}


EMAIL_TYPE_OF = _choices(EMAIL_TYPES)
OPT_IN_TYPE_OF = _choices(OPT_IN_TYPES)


def _email_keys(reader: list[list[str]], email_at: int) -> set[str]:
    """The lower-cased valid addresses of a file, for the import's two bulk lookups."""
    keys = set()
    for values in reader:
        email = values[email_at].strip() if email_at < len(values) else ""
        if valid_email(email):
            keys.add(email.lower())
    return keys


def process_contact_import(store: Store, faults: Faults, row: sqlite3.Row) -> None:
    """Apply a due CSV import and store its report and faults (or its failure status).

    Set-based: the file's existing contacts and global suppressions are read with one query each, every
    row is checked in one pass, and new contacts, updates, list memberships and consent records are
    written with one statement each (``executemany`` or ``INSERT ... SELECT``), in one transaction.
    """
    if row["outcome"] != "Finished":
        store.run("UPDATE imports SET status = ? WHERE id = ?", (row["outcome"], row["id"]))
        return
    try:
        columns, reader = read_csv(bytes(row["payload"]).decode("utf-8-sig"))
    except (UnicodeDecodeError, CsvRejected):  # also files stored before the upload checked the whole file
        store.run("UPDATE imports SET status = 'InvalidFileFormat' WHERE id = ?", (row["id"],))
        return
    lowered = [c.strip().lower() for c in columns]
    email_at = lowered.index("email")
    type_at = lowered.index("emailtype") if "emailtype" in lowered else None
    optin_at = lowered.index("optintype") if "optintype" in lowered else None
    consent_at = {key: lowered.index(key) for key in CONSENT_COLUMNS if key in lowered}
    account_id = int(row["account_id"])
    mapping = list(_map_columns(store, account_id, columns, faults).items())
    merge = json.loads(row["report"] or "{}").get("mergeOption", "Overwrite")
    counts: Counter[str] = Counter({k: 0 for k in REPORT_KEYS})
    fault_rows: list[list[str]] = []
    seen: set[str] = set()
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    imported: list[str] = []  # lower-cased addresses of the rows applied, for the list memberships
    consents: list[tuple[str, list[str]]] = []
    now = iso()

    def cell(values: list[str], index: int | None) -> str:
        return values[index].strip() if index is not None and index < len(values) else ""

    with store.tx() as conn:
        keys = _email_keys(reader, email_at)
        existing_rows = rows_by_email(conn, account_id, keys)
        suppressed = globally_suppressed_among(conn, keys)
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            email = cell(values, email_at)
            key = email.lower()
            reason = None
            if not valid_email(email):
                reason, counter = "Invalid Email", "invalidEntries"
            elif key in seen:
                reason, counter = "Duplicate", "duplicateEmails"
            elif key in suppressed:
                reason, counter = GLOBAL_REASON, "globallySuppressed"
            seen.add(key)
            existing = None
            if reason is None:
                existing = existing_rows.get(key)
                if existing is not None and existing["status"] not in ACTIVE_STATUSES:
                    reason, counter = SUPPRESSION_REASONS.get(
                        existing["status"], ("Suppressed by you", "suppressedContacts")
                    )
            incoming: dict[str, Any] = {}
            if reason is None:
                email_type = EMAIL_TYPE_OF.get(cell(values, type_at).lower() or "html")
                opt_in = OPT_IN_TYPE_OF.get(cell(values, optin_at).lower() or "unknown")
                try:
                    for index, field in mapping:
                        incoming[field["name"]] = coerce(field, cell(values, index))
                except ApiError:
                    reason, counter = "Failures", "failures"
                if email_type is None or opt_in is None:
                    reason, counter = "Failures", "failures"
            if reason is not None:
                counts[counter] += 1
                fault_rows.append([reason, *values])
                continue
            assert email_type is not None and opt_in is not None
            if existing is None:
                params, status = new_contact(account_id, email, email_type, opt_in, incoming, now)
                inserts.append(params)
                counts["newContacts"] += 1
                if status == "PendingOptIn":
                    counts["pendingDoubleOptin"] += 1
            else:
                updates.append(
                    (
                        email_type if type_at is not None else existing["email_type"],
                        opt_in if optin_at is not None else existing["opt_in_type"],
                        dumps(_merge(json.loads(existing["data_fields"]), incoming, merge)),
                        now,
                        int(existing["id"]),
                    )
                )
                counts["updatedContacts"] += 1
            imported.append(key)
            if consent_at:
                consents.append((key, values))
        conn.executemany(INSERT_CONTACT, inserts)
        conn.executemany(UPDATE_CONTACT, updates)
        if row["address_book_id"] is not None:
            add_members(conn, account_id, int(row["address_book_id"]), imported, now)
        if consents:
            ids = ids_by_email(conn, account_id, (key for key, _ in consents))
            for key, values in consents:
                _consent(conn, ids[key], values, consent_at)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Reason", *columns])
        writer.writerows(fault_rows)
        conn.execute(
            "UPDATE imports SET status = 'Finished', report = ?, faults = ?, records = ?, rejected = ?, "
            "payload = ? WHERE id = ?",
            (
                dumps(dict(counts)),
                out.getvalue(),
                len(imported) + len(fault_rows),
                len(fault_rows),
                b"",
                row["id"],
            ),
        )


def find_import(ctx: Ctx, kind: str = "contacts") -> sqlite3.Row:
    """The caller's import by the ``{importId}`` path parameter, after counting a poll."""
    row = poll(ctx.store, ctx.faults.faults, ctx.account_id, ctx.path("importId"), kind)
    if row is None:
        raise not_found("ERROR_IMPORT_NOT_FOUND")
    return row


async def import_status(ctx: Ctx) -> Response:
    """``GET /v2/contacts/import/{importId}``: ``NotFinished`` until processed."""
    row = find_import(ctx)
    return ok({"id": row["id"], "status": row["status"]})


async def import_report(ctx: Ctx) -> Response:
    """``GET /v2/contacts/import/{importId}/report``: counters, once finished."""
    row = find_import(ctx)
    if row["status"] != "Finished":
        raise ApiError(400, REPORT_NOT_READY)
    return ok(json.loads(row["report"]))


async def import_report_faults(ctx: Ctx) -> Response:
    """``GET /v2/contacts/import/{importId}/report-faults``: CSV ``Reason,<original columns>``."""
    row = find_import(ctx)
    if row["status"] != "Finished":
        raise ApiError(400, REPORT_NOT_READY)
    return csv_response(str(row["faults"]))


ROUTES = [
    Api("POST", "/v2/address-books/{addressBookId}/contacts/import", import_to_book),
    Api(
        "POST",
        "/v2/address-books/{addressBookId}/contacts/import/with-merge-option/{mergeOption}",
        import_to_book_merge,
    ),
    Api("POST", "/v2/contacts/import", import_no_book),
    Api("GET", "/v2/contacts/import/{importId}", import_status),
    Api("GET", "/v2/contacts/import/{importId}/report", import_report),
    Api("GET", "/v2/contacts/import/{importId}/report-faults", import_report_faults),
]

register("contacts", process_contact_import)
