"""Campaigns (seeded per account) and campaign sends whose status progresses.

A send is ``Scheduled`` while its ``sendDate`` is in the future, then ``Sending`` for ``import_delay``
seconds, then ``Sent`` (or ``Cancelled``, reaching no one, when the ``campaign_send_outcome`` knob said
so when it was accepted). Recipients are resolved when the send is accepted; suppressed contacts are skipped.
Each recipient is recorded (``campaign_deliveries``: one row per send and contact) so tests and the demo
can count what every contact received.

The campaign's send report per contact, ``GET /v2/campaigns/{campaignId}/activities/{contactId}``,
answers an ``ApiCampaignContactSummary`` once a send of that campaign to the contact is ``Sent``, and 404
before (the code, ``ERROR_CAMPAIGN_ACTIVITY_NOT_FOUND``, is the sandbox's: the published specs declare
only the 200). The campaigns job uses it to find out whether a send interrupted by a crash went out.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from dotsync.platform.sandbox.addressbooks import find_book
from dotsync.platform.sandbox.contacts import by_id, is_suppressed
from dotsync.platform.sandbox.context import Api, Ctx, get, id_list, is_id, ok
from dotsync.platform.sandbox.errors import ApiError, not_found
from dotsync.platform.sandbox.storage import Store, dumps, iso, parse_iso, utcnow


def campaign_json(row: sqlite3.Row) -> dict[str, Any]:
    """An ``ApiCampaign``."""
    return {"id": int(row["id"]), **json.loads(row["body"])}


def find_campaign(ctx: Ctx, campaign_id: int) -> sqlite3.Row:
    """The caller's campaign, or 404 ``ERROR_CAMPAIGN_NOT_FOUND``."""
    row = ctx.store.one(
        "SELECT * FROM campaigns WHERE account_id = ? AND id = ?", (ctx.account_id, campaign_id)
    )
    if row is None:
        raise not_found("ERROR_CAMPAIGN_NOT_FOUND")
    return row


async def list_campaigns(ctx: Ctx) -> Response:
    """``GET /v2/campaigns?select&skip``."""
    select, skip = ctx.paging()
    rows = ctx.store.all(
        "SELECT * FROM campaigns WHERE account_id = ? ORDER BY id LIMIT ? OFFSET ?",
        (ctx.account_id, select, skip),
    )
    return ok([campaign_json(r) for r in rows])


async def get_campaign(ctx: Ctx) -> Response:
    """``GET /v2/campaigns/{id}``."""
    return ok(campaign_json(find_campaign(ctx, ctx.path_int("id"))))


def send_status(store: Store, row: sqlite3.Row) -> str:
    """A send's status now (``Cancelled`` for ``Sent`` when the ``campaign_send_outcome`` knob said so)."""
    outcome = store.one("SELECT status FROM campaign_send_outcomes WHERE send_id = ?", (row["id"],))
    return status_at(row["send_date"], row["ready_at"], outcome["status"] if outcome else None, time.time())


def status_at(send_date: str, ready_at: float, outcome: str | None, now: float) -> str:
    """A send's status at ``now``.

    ``Scheduled`` until its send date, ``Sending`` until it is processed, then its recorded outcome (``Sent``
    unless the ``campaign_send_outcome`` knob said ``Cancelled``).
    """
    if parse_iso(send_date).timestamp() > now:
        return "Scheduled"
    if now < ready_at:
        return "Sending"
    return outcome or "Sent"


def send_json(store: Store, row: sqlite3.Row) -> dict[str, Any]:
    """An ``ApiCampaignSend``."""
    return {
        "id": row["id"],
        "campaignId": int(row["campaign_id"]),
        "addressBookIds": json.loads(row["address_book_ids"]) or None,
        "contactIds": json.loads(row["contact_ids"]) or None,
        "sendDate": row["send_date"],
        "status": send_status(store, row),
    }


async def send_campaign(ctx: Ctx) -> Response:
    """``POST /v2/campaigns/send``: 202 ``ApiCampaignSend``. Unknown contacts refuse the whole send."""
    body = await ctx.json_object()
    campaign_id = get(body, "campaignId")
    if not is_id(campaign_id):
        raise ApiError(400, "campaignId is required. ERROR_PARAMETER_INVALID")
    find_campaign(ctx, campaign_id)
    contact_ids = id_list(get(body, "contactIds"), "contactIds")
    book_ids = id_list(get(body, "addressBookIds"), "addressBookIds")
    for book_id in book_ids:
        find_book(ctx, book_id)
    for contact_id in contact_ids:
        if by_id(ctx.store, ctx.account_id, contact_id) is None:
            raise ApiError(
                400,
                "One or more of the supplied contacts were not found. Send not permitted. "
                "ERROR_CONTACT_NOT_FOUND",
            )
    raw_date = get(body, "sendDate")
    try:
        when: datetime = parse_iso(raw_date) if raw_date else utcnow()
    except (TypeError, ValueError):
        raise ApiError(400, "sendDate is not a valid date-time. ERROR_PARAMETER_INVALID") from None
    send_id = str(uuid.uuid4())
    start = max(time.time(), when.timestamp())
    outcome = ctx.faults.faults.campaign_send_outcome
    targets = _targets(ctx.store, ctx.account_id, contact_ids, book_ids) if outcome == "Sent" else []
    now = time.time()
    with ctx.store.tx() as conn:
        conn.execute(
            "INSERT INTO campaign_sends (id, account_id, campaign_id, contact_ids, address_book_ids, "
            "send_date, created, ready_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                send_id,
                ctx.account_id,
                campaign_id,
                dumps(contact_ids),
                dumps(book_ids),
                iso(when),
                now,
                start + ctx.faults.faults.import_delay,
            ),
        )
        if outcome != "Sent":
            conn.execute(
                "INSERT INTO campaign_send_outcomes (send_id, status) VALUES (?, ?)", (send_id, outcome)
            )
        conn.executemany(
            "INSERT INTO campaign_deliveries (send_id, account_id, campaign_id, contact_id, email, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(send_id, ctx.account_id, campaign_id, cid, email, now) for cid, email in targets],
        )
    row = ctx.store.one("SELECT * FROM campaign_sends WHERE id = ?", (send_id,))
    assert row is not None
    return ok(send_json(ctx.store, row), 202)


async def get_send(ctx: Ctx) -> Response:
    """``GET /v2/campaigns/send/{sendId}``."""
    row = ctx.store.one(
        "SELECT * FROM campaign_sends WHERE id = ? AND account_id = ?", (ctx.path("sendId"), ctx.account_id)
    )
    if row is None:
        raise not_found("ERROR_CAMPAIGN_SEND_NOT_FOUND")
    return ok(send_json(ctx.store, row))


def recipients(store: Store, row: sqlite3.Row) -> list[str]:
    """The addresses a send went to (suppressed ones skipped when it was accepted); for ``/sandbox/state``."""
    return sorted(
        str(r["email"])
        for r in store.all("SELECT email FROM campaign_deliveries WHERE send_id = ?", (row["id"],))
    )


async def contact_activity(ctx: Ctx) -> Response:
    """``GET /v2/campaigns/{campaignId}/activities/{contactId}``: the contact's send report (404 if none)."""
    campaign_id = ctx.path_int("campaignId")
    contact_id = ctx.path_int("contactId")
    find_campaign(ctx, campaign_id)
    contact = by_id(ctx.store, ctx.account_id, contact_id)
    if contact is None:
        raise not_found("ERROR_CONTACT_NOT_FOUND")
    delivered = ctx.store.all(
        "SELECT s.* FROM campaign_deliveries d JOIN campaign_sends s ON s.id = d.send_id "
        "WHERE d.account_id = ? AND d.campaign_id = ? AND d.contact_id = ? ORDER BY s.created",
        (ctx.account_id, campaign_id, contact_id),
    )
    sent = [s for s in delivered if send_status(ctx.store, s) == "Sent"]
    if not sent:
        raise not_found("ERROR_CAMPAIGN_ACTIVITY_NOT_FOUND")
    first = sent[0]
    date_sent = max(parse_iso(first["send_date"]).timestamp(), float(first["created"]))
    return ok(
        {
            "contactId": contact_id,
            "email": contact["email"],
            "numOpens": 0,
            "numPageViews": 0,
            "numClicks": 0,
            "numForwards": 0,
            "numEstimatedForwards": 0,
            "numReplies": 0,
            "dateSent": iso(datetime.fromtimestamp(date_sent, UTC)),
            "firstOpenIp": "",
            "unsubscribed": False,
            "softBounced": False,
            "hardBounced": False,
        }
    )


def _targets(
    store: Store, account_id: int, contact_ids: list[int], book_ids: list[int]
) -> list[tuple[int, str]]:
    """(contact id, email) of each contact a send reaches now (suppressed contacts skipped)."""
    ids = set(contact_ids)
    books = book_ids
    if books:
        marks = ",".join("?" * len(books))
        ids |= {
            r["contact_id"]
            for r in store.all(
                f"SELECT contact_id FROM memberships WHERE address_book_id IN ({marks})", books
            )
        }
    if not ids and not books:
        ids = {r["id"] for r in store.all("SELECT id FROM contacts WHERE account_id = ?", (account_id,))}
    out = []
    for contact_id in sorted(ids):
        contact = by_id(store, account_id, contact_id)
        if contact is not None and not is_suppressed(store, contact):
            out.append((int(contact_id), str(contact["email"])))
    return out


ROUTES = [
    Api("GET", "/v2/campaigns", list_campaigns),
    Api("POST", "/v2/campaigns/send", send_campaign),
    Api("GET", "/v2/campaigns/send/{sendId}", get_send),
    Api("GET", "/v2/campaigns/{campaignId}/activities/{contactId}", contact_activity),
    Api("GET", "/v2/campaigns/{id}", get_campaign),
]
