"""Programs (seeded per account: two active, one draft) and enrolments.

Enrolment rules from the programs spec: 1 to ``enrolment_max_contacts`` (25) contact ids *or* up to 10
address books, not both; at most ``enrolments_per_hour`` (20) calls per hour per account
(``ERROR_ENROLMENT_ALLOWANCE_EXCEEDED``); 404 for an unknown program; 422 for a program that is not active.
An enrolment is ``Processing`` for ``import_delay`` seconds, then ``Finished``. Its report-faults CSV
(``Id,Email,TelephoneNumber,Reason``) lists suppressed contacts (reason ``Unsubcribed``, spelled as in the
published example) and contacts already in the program (``AlreadyInProgram``).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
import uuid
from typing import Any

from starlette.responses import Response

from dotsync.platform.sandbox.contacts import by_id, is_suppressed
from dotsync.platform.sandbox.context import Api, Ctx, csv_response, get, id_list, is_id, ok
from dotsync.platform.sandbox.errors import ApiError
from dotsync.platform.sandbox.storage import dumps, iso

ENROLMENT_STATUSES = ("Processing", "Finished", "NotAvailableInThisVersion")
SUPPRESSED_REASON = "Unsubcribed"
ALREADY_REASON = "AlreadyInProgram"


def program_json(row: sqlite3.Row) -> dict[str, Any]:
    """An ``ApiProgram``."""
    return {
        "id": int(row["id"]),
        "name": row["name"],
        "status": row["status"],
        "dateCreated": row["date_created"],
    }


def _program(ctx: Ctx, program_id: int) -> sqlite3.Row:
    row = ctx.store.one(
        "SELECT * FROM programs WHERE account_id = ? AND id = ?", (ctx.account_id, program_id)
    )
    if row is None:
        raise ApiError(404, "Error: ERROR_PROGRAM_NOT_FOUND")
    return row


async def list_programs(ctx: Ctx) -> Response:
    """``GET /v2/programs?select&skip`` (also with the trailing slash the Magento connector sends)."""
    select, skip = ctx.paging()
    rows = ctx.store.all(
        "SELECT * FROM programs WHERE account_id = ? ORDER BY id LIMIT ? OFFSET ?",
        (ctx.account_id, select, skip),
    )
    return ok([program_json(r) for r in rows])


async def get_program(ctx: Ctx) -> Response:
    """``GET /v2/programs/{id}``: 404 ``Error: ERROR_PROGRAM_NOT_FOUND``."""
    return ok(program_json(_program(ctx, ctx.path_int("id"))))


def enrolment_status(ready_at: float, now: float) -> str:
    """An enrolment's status at ``now``: ``Processing`` for ``import_delay`` seconds, then ``Finished``."""
    return "Finished" if now >= ready_at else "Processing"


def enrolment_json(row: sqlite3.Row) -> dict[str, Any]:
    """An ``ApiProgramEnrolment`` with its status now."""
    return {
        "id": row["id"],
        "programId": int(row["program_id"]),
        "status": enrolment_status(row["ready_at"], time.time()),
        "dateCreated": row["date_created"],
        "contacts": json.loads(row["contacts"]),
        "addressBooks": json.loads(row["address_books"]),
    }


async def enrol(ctx: Ctx) -> Response:
    """``POST /v2/programs/enrolments``: 201 ``Processing``."""
    f = ctx.faults.faults
    body = await ctx.json_object()
    program_id = get(body, "programId")
    if not is_id(program_id):
        raise ApiError(400, "programId is required. ERROR_PARAMETER_INVALID")
    contact_ids = id_list(get(body, "contacts"), "contacts")
    book_ids = id_list(get(body, "addressBooks"), "addressBooks")
    now = time.time()
    recent = ctx.store.one(
        "SELECT COUNT(*) AS n FROM enrolment_calls WHERE account_id = ? AND at > ?",
        (ctx.account_id, now - 3600),
    )
    if recent is not None and recent["n"] >= f.enrolments_per_hour:
        raise ApiError(400, "Error: ERROR_ENROLMENT_ALLOWANCE_EXCEEDED")
    program = _program(ctx, program_id)
    if program["status"] != "Active":
        raise ApiError(422, "Error: ERROR_PROGRAM_NOT_ACTIVE")
    if not contact_ids and not book_ids:
        raise ApiError(400, "Error: ERROR_ENROLMENT_INVALID")
    if contact_ids and book_ids:
        raise ApiError(400, "Pass contact ids or address book ids, not both. ERROR_ENROLMENT_INVALID")
    if len(contact_ids) > f.enrolment_max_contacts:
        raise ApiError(
            400,
            f"At most {f.enrolment_max_contacts} contacts can be enrolled per call. ERROR_CONTACT_TOOMANY",
        )
    if len(book_ids) > 10:
        raise ApiError(400, "Error: ERROR_ADDRESSBOOK_TOOMANY")
    for book_id in book_ids:
        if (
            ctx.store.one(
                "SELECT 1 FROM address_books WHERE account_id = ? AND id = ?", (ctx.account_id, book_id)
            )
            is None
        ):
            raise ApiError(400, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
    contacts = []
    for contact_id in contact_ids:
        row = by_id(ctx.store, ctx.account_id, contact_id)
        if row is None:
            raise ApiError(400, "Error: ERROR_CONTACT_NOT_FOUND")
        contacts.append(row)
    if book_ids:
        marks = ",".join("?" * len(book_ids))
        contacts = ctx.store.all(
            f"SELECT DISTINCT c.* FROM contacts c JOIN memberships m ON m.contact_id = c.id "
            f"WHERE m.address_book_id IN ({marks}) ORDER BY c.id",
            book_ids,
        )
    enrolment_id = str(uuid.uuid4())
    faults = io.StringIO()
    writer = csv.writer(faults, lineterminator="\n")
    writer.writerow(["Id", "Email", "TelephoneNumber", "Reason"])
    with ctx.store.tx() as conn:
        conn.execute("INSERT INTO enrolment_calls (account_id, at) VALUES (?, ?)", (ctx.account_id, now))
        for contact in contacts:
            reason = None
            if is_suppressed(ctx.store, contact):
                reason = SUPPRESSED_REASON
            elif conn.execute(
                "SELECT 1 FROM program_members WHERE program_id = ? AND contact_id = ?",
                (program_id, contact["id"]),
            ).fetchone():
                reason = ALREADY_REASON
            if reason:
                writer.writerow([contact["id"], contact["email"], "", reason])
                continue
            conn.execute(
                "INSERT INTO program_members (account_id, program_id, contact_id, enrolment_id) "
                "VALUES (?, ?, ?, ?)",
                (ctx.account_id, program_id, contact["id"], enrolment_id),
            )
        conn.execute(
            "INSERT INTO enrolments (id, account_id, program_id, contacts, address_books, date_created, "
            "created, "
            "ready_at, faults) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                enrolment_id,
                ctx.account_id,
                program_id,
                dumps(contact_ids),
                dumps(book_ids),
                iso(),
                now,
                now + f.import_delay,
                faults.getvalue(),
            ),
        )
    row = ctx.store.one("SELECT * FROM enrolments WHERE id = ?", (enrolment_id,))
    assert row is not None
    return ok(enrolment_json(row), 201)


def _enrolment(ctx: Ctx, enrolment_id: str) -> sqlite3.Row:
    row = ctx.store.one(
        "SELECT * FROM enrolments WHERE id = ? AND account_id = ?", (enrolment_id, ctx.account_id)
    )
    if row is None:
        raise ApiError(404, "Error: ERROR_ENROLMENT_NOT_FOUND")
    return row


async def enrolment_or_status(ctx: Ctx) -> Response:
    """``GET /v2/programs/enrolments/{enrolmentId}`` or ``GET /v2/programs/enrolments/{status}``."""
    value = ctx.path("value")
    if value in ENROLMENT_STATUSES:
        select, skip = ctx.paging()
        rows = ctx.store.all(
            "SELECT * FROM enrolments WHERE account_id = ? ORDER BY created", (ctx.account_id,)
        )
        matching = [enrolment_json(r) for r in rows if enrolment_json(r)["status"] == value]
        return ok(matching[skip : skip + select])
    return ok(enrolment_json(_enrolment(ctx, value)))


async def enrolment_faults(ctx: Ctx) -> Response:
    """``GET /v2/programs/enrolments/{enrolmentId}/report-faults``: CSV once finished."""
    row = _enrolment(ctx, ctx.path("enrolmentId"))
    if time.time() < row["ready_at"]:
        raise ApiError(400, "Error: ERROR_ENROLMENT_IS_PROCESSING")
    return csv_response(str(row["faults"]), "text/csv")


ROUTES = [
    Api("GET", "/v2/programs", list_programs),
    Api("GET", "/v2/programs/", list_programs),
    Api("POST", "/v2/programs/enrolments", enrol),
    Api("GET", "/v2/programs/enrolments/{value}", enrolment_or_status),
    Api("GET", "/v2/programs/enrolments/{enrolmentId}/report-faults", enrolment_faults),
    Api("GET", "/v2/programs/{id}", get_program),
]
