"""``/sandbox/``: inspection and control. Not part of dotdigital's API.

Only loopback clients are answered, unless a control token is configured (``--control-token`` or
``DOTSYNC_SANDBOX_CONTROL_TOKEN``): then other clients must send it in the ``X-Sandbox-Token`` header.
Anyone else gets 403, so ``POST /sandbox/accounts`` cannot be used to probe for accounts from outside.

* ``GET  /sandbox/``            an HTML summary per account, with drill-downs (see :mod:`.browse`):
  ``/sandbox/contacts``, ``/sandbox/records``, ``/sandbox/imports``, ``/sandbox/imports/{id}``
* ``GET  /sandbox/summary[?account=USER]``  the summaries as JSON
* ``GET  /sandbox/state[?account=USER]``  JSON state (see :func:`account_state`) and the request log
* ``POST /sandbox/accounts {"username", "password"}``  create an account (idempotent)
* ``POST /sandbox/suppress {"email"[, "account"][, "reason"]}``  suppress in one account, or globally
* ``POST /sandbox/resubscribe {"email", "account"}``  the contact resubscribes in one account (no challenge):
  ``Subscribed``, ``LASTSUBSCRIBED`` now; 409 when the address is globally suppressed
* ``GET|POST /sandbox/faults {...}``  show / change the fault knobs (``"reset": true`` restores startup knobs)
* ``POST /sandbox/reset``  clear all state; start-up accounts and knobs come back
"""

from __future__ import annotations

import csv
import hmac
import html
import io
import ipaddress
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from dotsync.platform.sandbox import browse
from dotsync.platform.sandbox.accounts import create_account
from dotsync.platform.sandbox.boot import Boot
from dotsync.platform.sandbox.campaigns import recipients, send_status
from dotsync.platform.sandbox.contacts import (
    GLOBAL_STATUS,
    globally_suppressed,
    resubscribe_in_account,
    status_of,
    suppress_globally,
    suppress_in_account,
    valid_email,
)
from dotsync.platform.sandbox.datafields import fields_of
from dotsync.platform.sandbox.faults import FaultState
from dotsync.platform.sandbox.processing import process_due
from dotsync.platform.sandbox.programs import enrolment_json
from dotsync.platform.sandbox.storage import Store

log = logging.getLogger("dotsync.sandbox")

ACCOUNT_REASONS = (
    "Unsubscribed",
    "HardBounced",
    "SoftBounced",
    "IspComplained",
    "MailBlocked",
    "DomainSuppression",
    "Suppressed",
    "DirectComplaint",
)


def account_state(store: Store, account: sqlite3.Row) -> dict[str, Any]:
    """Everything one account holds, for tests and people."""
    account_id = int(account["id"])
    fields = fields_of(store, account_id)
    books = {
        int(r["id"]): r for r in store.all("SELECT * FROM address_books WHERE account_id = ?", (account_id,))
    }
    members: dict[int, list[str]] = {}
    for m in store.all(
        "SELECT m.* FROM memberships m JOIN address_books b ON b.id = m.address_book_id "
        "WHERE b.account_id = ?",
        (account_id,),
    ):
        members.setdefault(int(m["contact_id"]), []).append(str(books[int(m["address_book_id"])]["name"]))
    contacts = []
    emails: dict[int, str] = {}
    suppressed = {  # one query, not one per contact
        str(r["email_key"])
        for r in store.all(
            "SELECT c.email_key FROM global_suppressions AS g "
            "CROSS JOIN contacts AS c ON c.account_id = ? AND c.email_key = g.email",
            (account_id,),
        )
    }
    for c in store.all("SELECT * FROM contacts WHERE account_id = ? ORDER BY id", (account_id,)):
        emails[int(c["id"])] = str(c["email"])
        values = json.loads(c["data_fields"])
        contacts.append(
            {
                "id": int(c["id"]),
                "email": c["email"],
                "status": GLOBAL_STATUS if c["email_key"] in suppressed else str(c["status"]),
                "opt_in_type": c["opt_in_type"],
                "email_type": c["email_type"],
                "address_books": sorted(members.get(int(c["id"]), [])),
                "data_fields": {k: v for k, v in values.items() if v is not None},
                "created": c["created"],
                "modified": c["modified"],
            }
        )
    insight: dict[str, Any] = {}
    for coll in store.all(
        "SELECT * FROM insight_collections WHERE account_id = ? ORDER BY name", (account_id,)
    ):
        records = store.all(
            "SELECT * FROM insight_records WHERE account_id = ? AND collection = ? ORDER BY key",
            (account_id, coll["name"]),
        )
        insight[str(coll["name"])] = {
            "scope": coll["scope"],
            "type": coll["type"],
            "records": [
                {
                    "key": r["key"],
                    "contact_id": r["contact_id"],
                    "email": emails.get(r["contact_id"]) if r["contact_id"] is not None else None,
                    "json": json.loads(r["json"]),
                    "created": r["created"],
                    "updated": r["updated"],
                }
                for r in records
            ],
        }
    sends = [
        {
            "id": s["id"],
            "campaign_id": s["campaign_id"],
            "status": send_status(store, s),
            "send_date": s["send_date"],
            "contact_ids": json.loads(s["contact_ids"]),
            "address_book_ids": json.loads(s["address_book_ids"]),
            "recipients": recipients(store, s),
        }
        for s in store.all(
            "SELECT * FROM campaign_sends WHERE account_id = ? ORDER BY created", (account_id,)
        )
    ]
    enrolments = []
    for e in store.all("SELECT * FROM enrolments WHERE account_id = ? ORDER BY created", (account_id,)):
        enrolled = store.all("SELECT contact_id FROM program_members WHERE enrolment_id = ?", (e["id"],))
        item = enrolment_json(e)
        item["enrolled"] = sorted(emails.get(int(r["contact_id"]), "") for r in enrolled)
        item["faults_csv"] = e["faults"]
        enrolments.append(item)
    return {
        "id": account_id,
        "username": account["username"],
        "contacts": contacts,
        "address_books": [
            {
                "id": i,
                "name": b["name"],
                "visibility": b["visibility"],
                "contacts": sum(1 for names in members.values() if b["name"] in names),
            }
            for i, b in sorted(books.items())
        ],
        "data_fields": list(fields.values()),
        "insight": insight,
        "imports": [
            {
                "id": i["id"],
                "kind": i["kind"],
                "status": i["status"],
                "address_book_id": i["address_book_id"],
                "polls": i["polls"],
                "faults": fault_rows(i["faults"]),
            }
            for i in store.all("SELECT * FROM imports WHERE account_id = ? ORDER BY created", (account_id,))
        ],
        "campaign_sends": sends,
        "deliveries": [
            {"send_id": d["send_id"], "campaign_id": d["campaign_id"], "email": d["email"]}
            for d in store.all(
                "SELECT * FROM campaign_deliveries WHERE account_id = ? ORDER BY rowid", (account_id,)
            )
        ],
        "programs": [
            {"id": p["id"], "name": p["name"], "status": p["status"]}
            for p in store.all("SELECT * FROM programs WHERE account_id = ? ORDER BY id", (account_id,))
        ],
        "enrolments": enrolments,
        "sms": [
            {"telephone": s["telephone"], "message": s["message"], "sent": s["sent"]}
            for s in store.all("SELECT * FROM sms WHERE account_id = ? ORDER BY id", (account_id,))
        ],
    }


def fault_rows(faults_csv: str | None) -> list[dict[str, str]]:
    """An import's fault report as ``[{"reason", "email"}]`` (the report's other columns are left out)."""
    try:
        rows = list(csv.reader(io.StringIO(faults_csv or "", newline="")))
    except csv.Error:  # a report stored by an older sandbox; the state page must still load
        return []
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    email_at = header.index("email") if "email" in header else None
    return [
        {"reason": row[0], "email": row[email_at] if email_at is not None and email_at < len(row) else ""}
        for row in rows[1:]
        if row
    ]


def request_log(store: Store, username: str | None = None) -> dict[str, Any]:
    """Calls counted per endpoint and per status code (for one API user, or all)."""
    sql = "SELECT * FROM request_counts"
    params: tuple[Any, ...] = ()
    if username is not None:
        sql += " WHERE account = ?"
        params = (username,)
    by_endpoint: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_endpoint_status: dict[str, dict[str, int]] = {}
    total = 0
    for r in store.all(sql, params):
        n = int(r["count"])
        total += n
        by_endpoint[r["endpoint"]] = by_endpoint.get(r["endpoint"], 0) + n
        by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + n
        per = by_endpoint_status.setdefault(r["endpoint"], {})
        per[str(r["status"])] = per.get(str(r["status"]), 0) + n
    return {
        "total": total,
        "by_endpoint": by_endpoint,
        "by_status": by_status,
        "by_endpoint_status": by_endpoint_status,
    }


def _readable_state(store: Store, account: sqlite3.Row) -> dict[str, Any]:
    """:func:`account_state`, or an empty state saying why when a stored row of the account is unreadable.

    One account's bad data must not take ``/sandbox/state`` and the page down for every account.
    """
    try:
        return account_state(store, account)
    except Exception:  # a bug or a hand-edited database
        log.exception("sandbox account %s: stored state could not be read", account["id"])
        empty: dict[str, Any] = {key: [] for key in EMPTY_LISTS}
        return {
            **empty,
            "id": int(account["id"]),
            "username": account["username"],
            "insight": {},
            "error": "this account's stored state could not be read; see the sandbox log",
        }


EMPTY_LISTS = (
    "contacts",
    "address_books",
    "data_fields",
    "imports",
    "campaign_sends",
    "deliveries",
    "programs",
    "enrolments",
    "sms",
)


def full_state(store: Store, faults: FaultState, username: str | None = None) -> dict[str, Any]:
    """The state document of ``GET /sandbox/state``."""
    process_due(store, faults.faults)
    return {
        "accounts": {str(a["username"]): _readable_state(store, a) for a in _accounts(store, username)},
        "global_suppressions": [
            {"email": g["email"], "status": GLOBAL_STATUS, "suppressed_at": g["suppressed_at"]}
            for g in store.all("SELECT * FROM global_suppressions ORDER BY suppressed_at")
        ],
        "requests": request_log(store, username),
        "faults": faults.faults.as_dict(),
    }


def _render(title: str, body: str) -> str:
    """``page.html`` around ``body``."""
    template = resources.files("dotsync.platform.sandbox").joinpath("page.html").read_text(encoding="utf-8")
    return template.replace("{{ title }}", html.escape(title)).replace("{{ body }}", body)


def _summary_page(store: Store, faults: FaultState, username: str | None) -> str:
    """``GET /sandbox/``: per account its summary (:func:`.browse.summary`), then the sandbox-wide parts."""
    e = html.escape
    process_due(store, faults.faults)
    accounts = _accounts(store, username)
    parts = []
    for account in accounts:
        try:
            parts.append(browse.summary_html(browse.summary(store, account)))
        except Exception:  # a bug or a hand-edited database: the other accounts still show
            log.exception("sandbox account %s: summary could not be read", account["id"])
            parts.append(
                f"<section><h2>Account {e(account['username'])}</h2><p class=error>this account's stored "
                "state could not be read; see the sandbox log</p></section>"
            )
    suppressions = store.one("SELECT COUNT(*) AS n FROM global_suppressions")
    latest = store.all("SELECT email FROM global_suppressions ORDER BY suppressed_at DESC LIMIT 20")
    total = store.one("SELECT COALESCE(SUM(count), 0) AS n FROM request_counts")
    body = (
        "".join(parts or ["<p>No accounts yet: create one with POST /sandbox/accounts.</p>"])
        + f"<section><h2>Globally suppressed ({suppressions['n'] if suppressions else 0:,})</h2><ul>"
        + "".join(f"<li>{e(g['email'])}</li>" for g in latest)
        + f"</ul></section><section><h2>Requests, all accounts ({total['n'] if total else 0:,})</h2>"
        + "</section><section><h2>Fault knobs</h2>"
        + f"<pre>{e(json.dumps(faults.faults.as_dict(), indent=2))}</pre></section>"
    )
    return _render("dotdigital sandbox", body)


def _accounts(store: Store, username: str | None) -> list[sqlite3.Row]:
    if username is not None:
        return store.all("SELECT * FROM accounts WHERE username = ?", (username,))
    return store.all("SELECT * FROM accounts ORDER BY id")


TOKEN_HEADER = "X-Sandbox-Token"
"""The header that carries the control token."""


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def allowed(request: Request, token: str | None) -> bool:
    """Whether ``request`` may use the control API: from loopback, or with the configured token."""
    if _loopback(request):
        return True
    sent = request.headers.get(TOKEN_HEADER, "")
    return bool(token) and hmac.compare_digest(sent.encode("utf-8"), str(token).encode("utf-8"))


def _guarded(handler: Callable[[Request], Awaitable[Response]], token: str | None) -> Callable[..., Any]:
    async def guarded(request: Request) -> Response:
        if not allowed(request, token):
            hint = f"send the control token in {TOKEN_HEADER}" if token else "start it with --control-token"
            return JSONResponse(
                {"error": f"the sandbox control API answers loopback clients only; {hint}"}, status_code=403
            )
        return await handler(request)

    return guarded


def routes(store: Store, faults: FaultState, boot: Boot, control_token: str | None = None) -> list[Route]:
    """The ``/sandbox/`` routes; ``boot`` holds the start-up accounts and knobs that a reset restores.

    ``control_token``: lets non-loopback clients in when they send it (see the module docstring).
    """

    async def page(request: Request) -> Response:
        return HTMLResponse(_summary_page(store, faults, request.query_params.get("account")))

    async def summaries(request: Request) -> Response:
        process_due(store, faults.faults)
        found = _accounts(store, request.query_params.get("account"))
        return JSONResponse({"accounts": {str(a["username"]): browse.summary(store, a) for a in found}})

    def drill_down(
        title: str, render: Callable[[sqlite3.Row, dict[str, str]], str]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A drill-down page of one account (``?account=USER``), its bad parameters answered 400."""

        async def handler(request: Request) -> Response:
            params = dict(request.query_params)
            params.update(request.path_params)
            account = account_named(params.get("account"))
            if isinstance(account, Response):
                return account
            try:
                body = render(account, params)
            except browse.BadQuery as err:
                return JSONResponse({"error": str(err)}, status_code=err.status)
            back = browse.link("/sandbox/", "← summary", account=account["username"])
            return HTMLResponse(_render(f"{title}: {account['username']}", f"<p>{back}</p>{body}"))

        return handler

    def contacts_body(account: sqlite3.Row, p: dict[str, str]) -> str:
        limit = browse.limit_of(p.get("limit"))
        q, book = p.get("q", ""), p.get("book")
        page = browse.contacts_page(store, int(account["id"]), q, book, p.get("after"), limit)
        return browse.contacts_html(str(account["username"]), page, q, book, limit)

    def records_body(account: sqlite3.Row, p: dict[str, str]) -> str:
        limit = browse.limit_of(p.get("limit"))
        collection, q = p.get("collection", ""), p.get("q", "")
        page = browse.records_page(
            store, int(account["id"]), collection, q, p.get("after_collection"), p.get("after"), limit
        )
        return browse.records_html(str(account["username"]), page, collection, q, limit)

    def imports_body(account: sqlite3.Row, p: dict[str, str]) -> str:
        process_due(store, faults.faults, int(account["id"]))
        limit = browse.limit_of(p.get("limit"))
        kind, status = p.get("kind", ""), p.get("status", "")
        page = browse.imports_page(
            store, int(account["id"]), kind, status, p.get("after"), p.get("after_id"), limit
        )
        return browse.imports_html(str(account["username"]), page, kind, status, limit)

    def import_body(account: sqlite3.Row, p: dict[str, str]) -> str:
        process_due(store, faults.faults, int(account["id"]))
        offset = p.get("offset", "0")
        if not offset.isdigit():
            raise browse.BadQuery("offset must be a whole number")
        page = browse.import_detail(store, int(account["id"]), p["import_id"], int(offset))
        if page is None:
            raise browse.Missing(f"no import {p['import_id']!r} in this account")
        return browse.import_html(str(account["username"]), page)

    async def state(request: Request) -> Response:
        return JSONResponse(full_state(store, faults, request.query_params.get("account")))

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    async def email_body_of(request: Request) -> tuple[dict[str, Any], str] | Response:
        """The JSON body of a suppress or resubscribe request and its valid ``email``, else the 400."""
        try:
            body = await body_of(request)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        email = body.get("email")
        if not isinstance(email, str) or not valid_email(email):
            return JSONResponse({"error": "email must be a valid address"}, status_code=400)
        return body, email

    def account_named(username: Any) -> sqlite3.Row | Response:
        """The sandbox account called ``username``, else the 404 that says how to create it."""
        account = store.one("SELECT * FROM accounts WHERE username = ?", (username,))
        if account is None:
            return JSONResponse(
                {"error": f"no account {username!r}; create it with POST /sandbox/accounts"}, 404
            )
        return account

    async def accounts(request: Request) -> Response:
        try:
            body = await body_of(request)
            row, created = create_account(store, str(body.get("username", "")), str(body.get("password", "")))
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=409 if "exists" in str(err) else 400)
        endpoint = str(request.base_url).rstrip("/")
        return JSONResponse(
            {"id": row["id"], "username": row["username"], "api_endpoint": endpoint, "created": created},
            status_code=201 if created else 200,
        )

    async def suppress(request: Request) -> Response:
        parsed = await email_body_of(request)
        if isinstance(parsed, Response):
            return parsed
        body, email = parsed
        username = body.get("account")
        if username is None:
            suppress_globally(store, email)
            return JSONResponse({"email": email, "scope": "global", "status": GLOBAL_STATUS})
        account = account_named(username)
        if isinstance(account, Response):
            return account
        reason = body.get("reason", "Unsubscribed")
        if reason not in ACCOUNT_REASONS:
            return JSONResponse(
                {"error": f"reason must be one of {', '.join(ACCOUNT_REASONS)}"}, status_code=400
            )
        row = suppress_in_account(store, int(account["id"]), email, reason)
        return JSONResponse(
            {
                "email": email,
                "scope": "account",
                "account": username,
                "status": row["status"],
                "contact_id": row["id"],
            }
        )

    async def resubscribe(request: Request) -> Response:
        parsed = await email_body_of(request)
        if isinstance(parsed, Response):
            return parsed
        body, email = parsed
        username = body.get("account")
        account = account_named(username)
        if isinstance(account, Response):
            return account
        if globally_suppressed(store, email):
            return JSONResponse({"error": "the address is globally suppressed"}, status_code=409)
        row = resubscribe_in_account(store, int(account["id"]), email)
        return JSONResponse(
            {
                "email": email,
                "account": username,
                "status": status_of(store, row),
                "contact_id": row["id"],
                "last_subscribed": json.loads(row["data_fields"]).get("LASTSUBSCRIBED"),
            }
        )

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.faults.as_dict())

    async def set_faults(request: Request) -> Response:
        try:
            body = await body_of(request)
            reset = bool(body.pop("reset", False))
            if reset:
                faults.set({**boot.faults, **body}, reset=True)
            else:
                faults.set(body)
        except (TypeError, ValueError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse(faults.faults.as_dict())

    async def reset(request: Request) -> Response:
        store.clear()
        boot.apply(store, faults)
        return JSONResponse({"reset": True})

    table: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        ("/sandbox/", page, "GET"),
        ("/sandbox", page, "GET"),
        ("/sandbox/summary", summaries, "GET"),
        ("/sandbox/contacts", drill_down("Contacts", contacts_body), "GET"),
        ("/sandbox/records", drill_down("Insight records", records_body), "GET"),
        ("/sandbox/imports", drill_down("Imports", imports_body), "GET"),
        ("/sandbox/imports/{import_id}", drill_down("Import", import_body), "GET"),
        ("/sandbox/state", state, "GET"),
        ("/sandbox/accounts", accounts, "POST"),
        ("/sandbox/suppress", suppress, "POST"),
        ("/sandbox/resubscribe", resubscribe, "POST"),
        ("/sandbox/faults", get_faults, "GET"),
        ("/sandbox/faults", set_faults, "POST"),
        ("/sandbox/reset", reset, "POST"),
    ]
    return [
        Route(path, _guarded(handler, control_token), methods=[method]) for path, handler, method in table
    ]
