"""``/sandbox/`` summary and drill-downs over HTTP: figures from the database, keyset pages that cover every
row exactly once, searches, and bad parameters answered 4xx. (tests/browser drives the same pages at 20k.)"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from dotsync.platform.sandbox.server import SandboxHandle
from dotsync.platform.sandbox.storage import Store
from dotsync.testing.sandbox_seed import COLLECTION, seed, seed_email

USER, PASSWORD = "apiuser-page@apiconnector.com", "page-secret"
CONTACTS, ORDERS = 230, 460


@pytest.fixture
def seeded(sandbox: Any, sandbox_server: SandboxHandle) -> Any:
    """The session sandbox (reset), seeded directly with :data:`CONTACTS` contacts and :data:`ORDERS`."""
    return seed(sandbox_server.store, USER, PASSWORD, CONTACTS, ORDERS, rejected=7)


def _next(text: str) -> str | None:
    found = re.search(r'<p class="pager"><a href="([^"]+)"', text)
    return found.group(1).replace("&amp;", "&") if found else None


def _walk(url: str, first: str) -> list[str]:
    """The email cells of every page of a contacts drill-down, following its next-page links."""
    emails: list[str] = []
    path: str | None = first
    with httpx.Client(base_url=url) as client:
        while path is not None:
            page = client.get(path)
            assert page.status_code == 200
            emails += re.findall(r"<td>(person\d+@seed\.example\.com)</td>", page.text)
            path = _next(page.text)
    return emails


def test_the_summary_counts_what_the_database_holds(sandbox: Any, seeded: Any) -> None:
    summary = httpx.get(f"{sandbox.url}/sandbox/summary", params={"account": USER}).json()["accounts"][USER]
    assert summary["contacts"] == {
        "total": CONTACTS,
        "by_status": {"Subscribed": CONTACTS},
        "globally_suppressed": 0,
    }
    assert {b["name"]: b["contacts"] for b in summary["address_books"]} == {"Test": 0, "Customers": CONTACTS}
    assert summary["collections"] == [
        {"name": COLLECTION, "scope": "contact", "type": "orders", "records": ORDERS}
    ]
    assert [i["id"] for i in summary["imports"]["latest_with_faults"]] == [seeded.faulted_import]
    assert summary["imports"]["by_status"] == [
        {"kind": "contacts", "status": "Finished", "imports": 2, "records": 2 * CONTACTS + 7, "rejected": 7}
    ]
    sandbox.suppress(seed_email(3))  # global: counted apart, and shown as Suppressed in the drill-down
    after = httpx.get(f"{sandbox.url}/sandbox/summary", params={"account": USER}).json()["accounts"][USER]
    assert after["contacts"]["globally_suppressed"] == 1
    page = httpx.get(f"{sandbox.url}/sandbox/contacts", params={"account": USER, "q": seed_email(3)}).text
    assert f"<td>{seed_email(3)}</td><td>Suppressed</td>" in page


def test_contact_pages_cover_every_contact_once_by_id_by_search_and_by_book(
    sandbox: Any, seeded: Any
) -> None:
    everyone = [seed_email(i) for i in range(CONTACTS)]
    assert _walk(sandbox.url, f"/sandbox/contacts?account={USER}&limit=40") == everyone
    assert _walk(sandbox.url, f"/sandbox/contacts?account={USER}&book={seeded.book_id}&limit=100") == everyone
    prefix = "PERSON00001"  # person0000100 .. person0000199, case-insensitive
    assert _walk(sandbox.url, f"/sandbox/contacts?account={USER}&q={prefix}&limit=30") == everyone[100:200]


def test_records_by_collection_key_prefix_and_contact(sandbox: Any, seeded: Any) -> None:
    with httpx.Client(base_url=sandbox.url, params={"account": USER}) as client:
        by_key = client.get("/sandbox/records", params={"collection": COLLECTION, "q": "10000004"}).text
        assert re.findall(r"<td>(10000004\d*)</td>", by_key) == [f"10000004{i}" for i in range(10)]
        of_contact = client.get("/sandbox/records", params={"q": seed_email(5).upper()}).text
        # orders i and i + CONTACTS belong to contact i
        assert re.findall(r"<td>(1000\d+)</td>", of_contact) == [
            f"{100000000 + 5}",
            f"{100000000 + 5 + CONTACTS}",
        ]


def test_an_imports_faults_page_and_bad_parameters(sandbox: Any, seeded: Any) -> None:
    with httpx.Client(base_url=sandbox.url, params={"account": USER}) as client:
        first = client.get(f"/sandbox/imports/{seeded.faulted_import}", params={"limit": 5})
        assert first.status_code == 200
        assert re.findall(r"<td>(not-an-address-\d+)</td>", first.text)
        assert (
            client.get("/sandbox/imports", params={"status": "Finished"}).text.count("/sandbox/imports/seed-")
            == 2
        )
        assert (
            client.get("/sandbox/imports", params={"status": "Failed"}).text.count("/sandbox/imports/seed-")
            == 0
        )
        assert client.get("/sandbox/contacts", params={"after": "x"}).status_code == 400
        assert client.get("/sandbox/contacts", params={"limit": "100000"}).status_code == 400
        assert (
            client.get("/sandbox/records", params={"q": "123"}).status_code == 400
        )  # a key needs a collection
        assert client.get("/sandbox/imports/nope").status_code == 404
    assert httpx.get(f"{sandbox.url}/sandbox/contacts", params={"account": "nobody"}).status_code == 404


def test_a_database_of_an_older_sandbox_gets_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE imports (id TEXT PRIMARY KEY, account_id INTEGER NOT NULL, kind TEXT NOT NULL, "
        "address_book_id INTEGER, status TEXT NOT NULL, created REAL NOT NULL, ready_at REAL NOT NULL, "
        "polls INTEGER NOT NULL DEFAULT 0, polls_needed INTEGER NOT NULL DEFAULT 0, "
        "outcome TEXT NOT NULL DEFAULT 'Finished', payload BLOB NOT NULL, report TEXT, faults TEXT)"
    )
    con.execute(
        "INSERT INTO imports (id, account_id, kind, status, created, ready_at, payload) "
        "VALUES ('old', 1, 'contacts', 'Finished', 0, 0, x'')"
    )
    con.commit()
    con.close()
    store = Store(str(db))
    try:
        row = store.one("SELECT id, records, rejected FROM imports")
        assert row is not None and tuple(row) == ("old", None, None)
    finally:
        store.close()
