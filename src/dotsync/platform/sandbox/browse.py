"""The ``/sandbox/`` pages people read: a summary per account first, then paginated, searchable drill-downs.

Every query here is an indexed aggregate or a keyset page (``WHERE key > after ORDER BY key LIMIT n``), so a
page costs the same at 100 contacts and at 100,000; nothing loads a whole collection. The pages never reload
themselves: the summary has a refresh link, and ``GET /sandbox/summary`` gives the same figures as JSON.

* ``/sandbox/`` (``?account=USER``): per account, contacts by status, contacts per address book, records
  per collection, imports by kind and status (records and rejected rows) and the latest with faults,
  campaign sends and enrolments by status (and the latest), SMS, and the account's request log.
* ``/sandbox/contacts?account=USER[&q=PREFIX][&book=ID][&after=...]``: contacts, searchable by address
  prefix (case-insensitive), optionally of one address book.
* ``/sandbox/records?account=USER[&collection=NAME][&q=KEY PREFIX or EMAIL][&after=...]``: insight records of
  a collection (by key), or of one contact (``q`` an address, across collections).
* ``/sandbox/imports?account=USER[&kind=contacts|insight][&status=...][&after=...]``: imports, newest first;
  ``/sandbox/imports/{id}?account=USER[&offset=N]``: one import's report and its fault rows, paginated.
"""

from __future__ import annotations

import csv
import html
import io
import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dotsync.platform.sandbox.campaigns import status_at
from dotsync.platform.sandbox.contacts import GLOBAL_STATUS, globally_suppressed_among
from dotsync.platform.sandbox.programs import enrolment_status
from dotsync.platform.sandbox.storage import Store

PAGE_SIZE = 50
"""Rows per drill-down page (``limit`` may ask for 1 to :data:`MAX_PAGE`)."""
MAX_PAGE = 500
LATEST = 10
"""How many of the latest imports with faults, sends and enrolments the summary lists."""
TOP = "\U0010ffff"
"""Sorts after every other character (SQLite compares text as UTF-8 bytes): ``[q, q + TOP)`` is a prefix."""


class BadQuery(ValueError):
    """A drill-down parameter that is not valid (answered ``status``, 400)."""

    status = 400


class Missing(BadQuery):
    """A drill-down of something the account does not hold (answered 404)."""

    status = 404


@dataclass
class Page:
    """One page of a drill-down: its rows and the ``after`` parameters of the next page (None if last)."""

    rows: list[dict[str, Any]]
    after: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _counts(rows: Any) -> dict[str, int]:
    return {str(key): int(n) for key, n in rows}


# --- summary --------------------------------------------------------------------------------------------


def summary(store: Store, account: sqlite3.Row) -> dict[str, Any]:
    """One account's figures, each from an indexed aggregate (``GET /sandbox/summary``, the page's top)."""
    account_id = int(account["id"])
    now = time.time()
    with store.lock:
        conn = store.conn
        contacts = _counts(
            conn.execute(
                "SELECT status, COUNT(*) FROM contacts WHERE account_id = ? GROUP BY status", (account_id,)
            )
        )
        globally = conn.execute(
            "SELECT COUNT(*) FROM global_suppressions AS g "  # the few suppressions drive, not the contacts
            "CROSS JOIN contacts AS c ON c.account_id = ? AND c.email_key = g.email",
            (account_id,),
        ).fetchone()[0]
        books = [
            {"id": int(i), "name": name, "visibility": vis, "contacts": int(n)}
            for i, name, vis, n in conn.execute(
                "SELECT b.id, b.name, b.visibility, "
                "(SELECT COUNT(*) FROM memberships AS m WHERE m.address_book_id = b.id) "
                "FROM address_books AS b WHERE b.account_id = ? ORDER BY b.id",
                (account_id,),
            )
        ]
        collections = [
            {"name": name, "scope": scope, "type": ctype, "records": int(n)}
            for name, scope, ctype, n in conn.execute(
                "SELECT c.name, c.scope, c.type, (SELECT COUNT(*) FROM insight_records AS r "
                "WHERE r.account_id = c.account_id AND r.collection = c.name) "
                "FROM insight_collections AS c WHERE c.account_id = ? ORDER BY c.name",
                (account_id,),
            )
        ]
        imports = [
            {"kind": kind, "status": status, "imports": int(n), "records": int(recs), "rejected": int(rej)}
            for kind, status, n, recs, rej in conn.execute(
                "SELECT kind, status, COUNT(*), COALESCE(SUM(records), 0), COALESCE(SUM(rejected), 0) "
                "FROM imports WHERE account_id = ? GROUP BY kind, status ORDER BY kind, status",
                (account_id,),
            )
        ]
        faulted = [
            _import_row(r)
            for r in conn.execute(
                "SELECT id, kind, status, created, records, rejected FROM imports "
                "WHERE account_id = ? AND rejected > 0 ORDER BY created DESC LIMIT ?",
                (account_id, LATEST),
            )
        ]
        sends = conn.execute(
            "SELECT s.id, s.campaign_id, s.send_date, s.ready_at, o.status AS outcome, "
            "(SELECT COUNT(*) FROM campaign_deliveries AS d WHERE d.send_id = s.id) AS recipients "
            "FROM campaign_sends AS s LEFT JOIN campaign_send_outcomes AS o ON o.send_id = s.id "
            "WHERE s.account_id = ? ORDER BY s.created DESC",
            (account_id,),
        ).fetchall()
        enrolments = conn.execute(
            "SELECT e.id, e.program_id, e.date_created, e.ready_at, e.faults, "
            "(SELECT COUNT(*) FROM program_members AS m WHERE m.enrolment_id = e.id) AS enrolled "
            "FROM enrolments AS e WHERE e.account_id = ? ORDER BY e.created DESC",
            (account_id,),
        ).fetchall()
        sms = conn.execute("SELECT COUNT(*) FROM sms WHERE account_id = ?", (account_id,)).fetchone()[0]
        fields = conn.execute(
            "SELECT COUNT(*) FROM data_fields WHERE account_id = ?", (account_id,)
        ).fetchone()
        requests = conn.execute(
            "SELECT endpoint, status, count FROM request_counts WHERE account = ? ORDER BY endpoint, status",
            (account["username"],),
        ).fetchall()
    send_rows = [
        {
            "id": s["id"],
            "campaign_id": int(s["campaign_id"]),
            "send_date": s["send_date"],
            "status": status_at(s["send_date"], s["ready_at"], s["outcome"], now),
            "recipients": int(s["recipients"]),
        }
        for s in sends
    ]
    enrolment_rows = [
        {
            "id": e["id"],
            "program_id": int(e["program_id"]),
            "date_created": e["date_created"],
            "status": enrolment_status(e["ready_at"], now),
            "enrolled": int(e["enrolled"]),
            "faults": max(len([line for line in str(e["faults"]).splitlines() if line]) - 1, 0),
        }
        for e in enrolments
    ]
    by_endpoint: dict[str, dict[str, int]] = {}
    for endpoint, status, n in requests:
        by_endpoint.setdefault(str(endpoint), {})[str(status)] = int(n)
    return {
        "id": account_id,
        "username": account["username"],
        "contacts": {
            "total": sum(contacts.values()),
            "by_status": contacts,
            "globally_suppressed": int(globally),
        },
        "data_fields": int(fields[0]),
        "address_books": books,
        "collections": collections,
        "imports": {"by_status": imports, "latest_with_faults": faulted},
        "campaign_sends": {
            "by_status": _tally(s["status"] for s in send_rows),
            "latest": send_rows[:LATEST],
        },
        "enrolments": {
            "by_status": _tally(e["status"] for e in enrolment_rows),
            "latest": enrolment_rows[:LATEST],
        },
        "sms": int(sms),
        "requests": {"total": sum(sum(v.values()) for v in by_endpoint.values()), "by_endpoint": by_endpoint},
    }


def _tally(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def _import_row(r: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    import_id, kind, status, created, records, rejected = tuple(r)[:6]
    return {
        "id": import_id,
        "kind": kind,
        "status": status,
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(created))),
        "created_at": float(created),
        "records": records,
        "rejected": rejected,
    }


# --- drill-downs ----------------------------------------------------------------------------------------


def limit_of(value: str | None) -> int:
    """The ``limit`` parameter: 1 to :data:`MAX_PAGE`, :data:`PAGE_SIZE` when absent."""
    if value in (None, ""):
        return PAGE_SIZE
    if not str(value).isdigit() or not 1 <= int(str(value)) <= MAX_PAGE:
        raise BadQuery(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return int(str(value))


def _int_param(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    if not str(value).isdigit() or len(str(value)) > 18:
        raise BadQuery(f"{name} must be a whole number")
    return int(str(value))


def contacts_page(
    store: Store,
    account_id: int,
    q: str = "",
    book: str | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """A page of an account's contacts: by id, or by address when ``q`` (an address prefix) is given.

    ``book`` keeps the contacts of one address book. Each row has the contact's books and record count.
    """
    prefix = q.strip().lower()
    book_id = _int_param(book, "book")
    where = ["c.account_id = ?"]
    params: list[Any] = [account_id]
    join = ""
    if book_id is not None:
        join = "JOIN memberships AS m ON m.contact_id = c.id AND m.address_book_id = ?"
        params.insert(0, book_id)
    if prefix:
        where += ["c.email_key >= ?", "c.email_key < ?"]
        params += [prefix, prefix + TOP]
        if after:
            where.append("c.email_key > ?")
            params.append(after)
        order = "c.email_key"
    else:
        after_id = _int_param(after, "after")
        if after_id is not None:
            where.append("c.id > ?")
            params.append(after_id)
        order = "c.id"
    sql = f"SELECT c.* FROM contacts AS c {join} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    with store.lock:
        rows = store.conn.execute(sql, [*params, limit + 1]).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        ids = json.dumps([int(r["id"]) for r in rows])
        books: dict[int, list[str]] = {}
        for contact_id, name in store.conn.execute(
            "SELECT m.contact_id, b.name FROM json_each(?) AS j "
            "CROSS JOIN memberships AS m ON m.contact_id = j.value "
            "JOIN address_books AS b ON b.id = m.address_book_id ORDER BY b.name",
            (ids,),
        ):
            books.setdefault(int(contact_id), []).append(str(name))
        records = dict(
            store.conn.execute(
                "SELECT j.value, (SELECT COUNT(*) FROM insight_records AS r WHERE r.contact_id = j.value) "
                "FROM json_each(?) AS j",
                (ids,),
            ).fetchall()
        )
        suppressed = globally_suppressed_among(store.conn, [str(r["email_key"]) for r in rows])
    out = [
        {
            "id": int(r["id"]),
            "email": r["email"],
            "status": GLOBAL_STATUS if r["email_key"] in suppressed else r["status"],
            "opt_in_type": r["opt_in_type"],
            "address_books": books.get(int(r["id"]), []),
            "records": int(records.get(int(r["id"]), 0)),
            "data_fields": _fields(r["data_fields"]),
            "modified": r["modified"],
        }
        for r in rows
    ]
    next_after = None
    if more and rows:
        last = rows[-1]
        next_after = {"after": str(last["email_key"] if prefix else last["id"])}
    return Page(out, next_after)


def _fields(text: str) -> Any:
    """A contact's stored data fields, or the raw text when a hand-edited row holds no JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def records_page(
    store: Store,
    account_id: int,
    collection: str = "",
    q: str = "",
    after_collection: str | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """A page of insight records, ordered by (collection, key).

    ``q`` with an ``@`` is a contact's address: that contact's records (in ``collection``, or in all);
    otherwise it is a key prefix within ``collection``.
    """
    where = ["r.account_id = ?"]
    params: list[Any] = [account_id]
    term = q.strip()
    extra: dict[str, Any] = {}
    if collection:
        where.append("r.collection = ?")
        params.append(collection)
    if "@" in term:
        found = store.one(
            "SELECT id FROM contacts WHERE account_id = ? AND email_key = ?", (account_id, term.lower())
        )
        extra["contact_id"] = int(found["id"]) if found else None
        where.append("r.contact_id = ?")
        params.append(extra["contact_id"])
    elif term:
        if not collection:
            raise BadQuery("a key search needs a collection")
        where += ["r.key >= ?", "r.key < ?"]
        params += [term, term + TOP]
    if after is not None:
        where.append("(r.collection, r.key) > (?, ?)")
        params += [after_collection if after_collection is not None else collection, after]
    sql = (
        "SELECT r.collection, r.key, r.contact_id, r.json, r.updated, c.email FROM insight_records AS r "
        f"LEFT JOIN contacts AS c ON c.id = r.contact_id WHERE {' AND '.join(where)} "
        "ORDER BY r.collection, r.key LIMIT ?"
    )
    rows = store.all(sql, [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    out = [
        {
            "collection": r["collection"],
            "key": r["key"],
            "contact_id": r["contact_id"],
            "email": r["email"],
            "json": r["json"],
            "updated": r["updated"],
        }
        for r in rows
    ]
    next_after = None
    if more and rows:
        next_after = {"after_collection": str(rows[-1]["collection"]), "after": str(rows[-1]["key"])}
    return Page(out, next_after, extra)


def imports_page(
    store: Store,
    account_id: int,
    kind: str = "",
    status: str = "",
    after: str | None = None,
    after_id: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """A page of an account's imports, newest first, optionally of one kind and status."""
    where = ["account_id = ?"]
    params: list[Any] = [account_id]
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if status:
        where.append("status = ?")
        params.append(status)
    if after:
        try:
            created = float(after)
        except ValueError:
            raise BadQuery("after must be a time") from None
        where.append("(created, id) < (?, ?)")
        params += [created, after_id or ""]
    rows = store.all(
        "SELECT id, kind, status, created, records, rejected FROM imports "
        f"WHERE {' AND '.join(where)} ORDER BY created DESC, id DESC LIMIT ?",
        [*params, limit + 1],
    )
    more = len(rows) > limit
    out = [_import_row(r) for r in rows[:limit]]
    next_after = None
    if more and out:
        next_after = {"after": repr(out[-1]["created_at"]), "after_id": str(out[-1]["id"])}
    return Page(out, next_after)


def import_detail(
    store: Store, account_id: int, import_id: str, offset: int = 0, limit: int = PAGE_SIZE
) -> Page | None:
    """One import: its report, and a page of its rejected rows (``reason`` with the address or key)."""
    row = store.one(
        "SELECT id, kind, status, created, records, rejected, report, faults, address_book_id "
        "FROM imports WHERE id = ? AND account_id = ?",
        (import_id, account_id),
    )
    if row is None:
        return None
    report = json.loads(row["report"]) if row["report"] else {}
    faults: list[dict[str, Any]] = []
    if row["kind"] == "contacts":
        faults = _csv_faults(row["faults"], offset + limit + 1)
    else:
        for f in (report.pop("failures", None) or [])[: offset + limit + 1]:
            owner = (f.get("collectionOwner") or {}).get("contactIdentity") or {}
            faults.append(
                {"reason": f.get("failureReason"), "key": f.get("key"), "contact": owner.get("value")}
            )
    page = faults[offset : offset + limit]
    more = len(faults) > offset + limit
    detail = {**_import_row(tuple(row)), "address_book_id": row["address_book_id"], "report": report}
    return Page(page, {"offset": str(offset + limit)} if more else None, detail)


def _csv_faults(text: str | None, upto: int) -> list[dict[str, Any]]:
    """The first ``upto`` rows of a contact import's fault report as ``{reason, email}``."""
    reader = csv.reader(io.StringIO(text or "", newline=""))
    try:
        header = [c.strip().lower() for c in next(reader, [])]
        email_at = header.index("email") if "email" in header else None
        out: list[dict[str, Any]] = []
        for cells in reader:
            if len(out) >= upto:
                break
            if cells:
                email = cells[email_at] if email_at is not None and email_at < len(cells) else ""
                out.append({"reason": cells[0], "email": email})
        return out
    except csv.Error:  # a report stored by an older sandbox
        return []


# --- HTML -----------------------------------------------------------------------------------------------

e = html.escape


def link(path: str, text: str, **params: Any) -> str:
    """An ``<a>`` to ``path`` with the non-empty ``params`` as its query string."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f'<a href="{e(path + ("?" + query if query else ""))}">{e(text)}</a>'


def table(headers: list[str], rows: list[list[str]], css: str = "") -> str:
    """An HTML table; ``rows`` cells are already HTML."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">none</td></tr>'
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{e(k)} {n:,}" for k, n in sorted(counts.items())) or "none"


def summary_html(s: dict[str, Any]) -> str:
    """One account's summary section."""
    user = str(s["username"])
    contacts = s["contacts"]
    books = table(
        ["address book", "id", "visibility", "contacts"],
        [
            [
                e(b["name"]),
                str(b["id"]),
                e(b["visibility"]),
                link("/sandbox/contacts", f"{b['contacts']:,}", account=user, book=b["id"]),
            ]
            for b in s["address_books"]
        ],
        "books",
    )
    collections = table(
        ["collection", "scope", "type", "records"],
        [
            [
                e(c["name"]),
                e(c["scope"]),
                e(c["type"]),
                link("/sandbox/records", f"{c['records']:,}", account=user, collection=c["name"]),
            ]
            for c in s["collections"]
        ],
        "collections",
    )
    imports = table(
        ["kind", "status", "imports", "records", "rejected"],
        [
            [
                e(i["kind"]),
                link("/sandbox/imports", i["status"], account=user, kind=i["kind"], status=i["status"]),
                f"{i['imports']:,}",
                f"{i['records']:,}",
                f"{i['rejected']:,}",
            ]
            for i in s["imports"]["by_status"]
        ],
        "imports",
    )
    faulted = table(
        ["import", "kind", "status", "created (UTC)", "records", "rejected"],
        [
            [
                link(f"/sandbox/imports/{i['id']}", i["id"], account=user),
                e(i["kind"]),
                e(i["status"]),
                e(i["created"]),
                f"{i['records'] or 0:,}",
                f"{i['rejected'] or 0:,}",
            ]
            for i in s["imports"]["latest_with_faults"]
        ],
        "faulted",
    )
    sends = table(
        ["send", "campaign", "status", "send date", "recipients"],
        [
            [e(x["id"]), str(x["campaign_id"]), e(x["status"]), e(x["send_date"]), f"{x['recipients']:,}"]
            for x in s["campaign_sends"]["latest"]
        ],
    )
    enrolments = table(
        ["enrolment", "program", "status", "created", "enrolled", "faults"],
        [
            [
                e(x["id"]),
                str(x["program_id"]),
                e(x["status"]),
                e(x["date_created"]),
                f"{x['enrolled']:,}",
                f"{x['faults']:,}",
            ]
            for x in s["enrolments"]["latest"]
        ],
    )
    requests = table(
        ["endpoint", "calls by status"],
        [
            [e(endpoint), e(_counts_text(statuses))]
            for endpoint, statuses in sorted(s["requests"]["by_endpoint"].items())
        ],
    )
    search = contact_search(user, button="Search contacts")
    return (
        f'<section class="account" data-account="{e(user)}"><h2>Account {e(user)} (id {s["id"]})</h2>'
        f'<p class="contacts-total">Contacts: <strong>{contacts["total"]:,}</strong> '
        f"({_counts_text(contacts['by_status'])}; "
        f"globally suppressed {contacts['globally_suppressed']:,}) · data fields {s['data_fields']} · "
        f"{link('/sandbox/contacts', 'browse contacts', account=user)} · "
        f"{link('/sandbox/imports', 'browse imports', account=user)} · "
        f"{link('/sandbox/records', 'browse records', account=user)}</p>{search}"
        f"<h3>Address books</h3>{books}<h3>Insight collections</h3>{collections}"
        f"<h3>Imports by status</h3>{imports}<h3>Latest imports with faults</h3>{faulted}"
        f"<h3>Campaign sends ({_counts_text(s['campaign_sends']['by_status'])})</h3>{sends}"
        f"<h3>Enrolments ({_counts_text(s['enrolments']['by_status'])})</h3>{enrolments}"
        f"<p>SMS sent: {s['sms']:,}</p>"
        f"<h3>Requests ({s['requests']['total']:,})</h3>{requests}</section>"
    )


def pager(path: str, page: Page, **params: Any) -> str:
    """The "next page" link of a drill-down (keeps its filters), or a note that this is the last page."""
    if page.after is None:
        return '<p class="pager">last page</p>'
    return f'<p class="pager">{link(path, "next page →", **params, **page.after)}</p>'


def _short(text: str, size: int = 160) -> str:
    return e(text if len(text) <= size else text[:size] + "…")


def contact_search(user: str, q: str = "", book: str | None = None, button: str = "Search") -> str:
    """The contact search form: an address prefix, within one address book when ``book`` is set."""
    hidden = f'<input type="hidden" name="account" value="{e(user)}">'
    if book:
        hidden += f'<input type="hidden" name="book" value="{e(book)}">'
    box = (
        f'<input name="q" value="{e(q)}" placeholder="email starts with" '
        'aria-label="search contacts by email">'
    )
    return (
        f'<form class="search" method="get" action="/sandbox/contacts">{hidden}{box}'
        f'<button type="submit">{e(button)}</button></form>'
    )


def contacts_html(user: str, page: Page, q: str, book: str | None, limit: int) -> str:
    """The contacts drill-down."""
    rows = [
        [
            str(c["id"]),
            e(c["email"]),
            e(c["status"]),
            e(c["opt_in_type"]),
            e(", ".join(c["address_books"])),
            link("/sandbox/records", f"{c['records']:,}", account=user, q=c["email"])
            if c["records"]
            else "0",
            f"<code>{_short(json.dumps(c['data_fields']))}</code>",
            e(c["modified"]),
        ]
        for c in page.rows
    ]
    form = contact_search(user, q, book)
    title = (
        f"Contacts of {e(user)}"
        + (f" in address book {e(book)}" if book else "")
        + (f" starting {e(q)!s}" if q else "")
    )
    return (
        f"<h2>{title}</h2>{form}"
        + table(
            ["id", "email", "status", "opt-in", "address books", "records", "data fields", "modified"],
            rows,
            "contacts",
        )
        + pager(
            "/sandbox/contacts",
            page,
            account=user,
            q=q,
            book=book,
            limit=limit if limit != PAGE_SIZE else None,
        )
    )


def records_html(user: str, page: Page, collection: str, q: str, limit: int) -> str:
    """The insight records drill-down."""
    rows = [
        [
            e(r["collection"]),
            e(r["key"]),
            e(r["email"] or ""),
            e(r["updated"]),
            f"<code>{_short(r['json'])}</code>",
        ]
        for r in page.rows
    ]
    form = (
        f'<form class="search" method="get"><input type="hidden" name="account" value="{e(user)}">'
        f'<input name="collection" value="{e(collection)}" placeholder="collection" aria-label="collection">'
        f'<input name="q" value="{e(q)}" placeholder="key prefix or email" aria-label="search records">'
        '<button type="submit">Search</button></form>'
    )
    return (
        f"<h2>Insight records of {e(user)}{' in ' + e(collection) if collection else ''}</h2>{form}"
        + table(["collection", "key", "contact", "updated", "json"], rows, "records")
        + pager(
            "/sandbox/records",
            page,
            account=user,
            collection=collection,
            q=q,
            limit=limit if limit != PAGE_SIZE else None,
        )
    )


def imports_html(user: str, page: Page, kind: str, status: str, limit: int) -> str:
    """The imports drill-down."""
    rows = [
        [
            link(f"/sandbox/imports/{i['id']}", i["id"], account=user),
            e(i["kind"]),
            e(i["status"]),
            e(i["created"]),
            f"{i['records'] or 0:,}",
            f"{i['rejected'] or 0:,}",
        ]
        for i in page.rows
    ]
    title = " ".join(x for x in (kind, status) if x)
    return (
        f"<h2>Imports of {e(user)}{' (' + e(title) + ')' if title else ''}</h2>"
        + table(["import", "kind", "status", "created (UTC)", "records", "rejected"], rows, "imports")
        + pager(
            "/sandbox/imports",
            page,
            account=user,
            kind=kind,
            status=status,
            limit=limit if limit != PAGE_SIZE else None,
        )
    )


def import_html(user: str, page: Page) -> str:
    """One import's report and a page of its faults."""
    d = page.extra
    rows = [
        [
            e(str(f.get("reason") or "")),
            e(str(f.get("email") or f.get("contact") or "")),
            e(str(f.get("key") or "")),
        ]
        for f in page.rows
    ]
    return (
        f"<h2>Import {e(d['id'])} ({e(d['kind'])}, {e(d['status'])})</h2>"
        f"<p>created {e(d['created'])} UTC · records {d['records'] or 0:,} · "
        f"rejected {d['rejected'] or 0:,}</p>"
        f"<h3>Report</h3><pre>{e(json.dumps(d['report'], indent=2))}</pre><h3>Faults</h3>"
        + table(["reason", "contact", "key"], rows, "faults")
        + pager(f"/sandbox/imports/{d['id']}", page, account=user)
    )
