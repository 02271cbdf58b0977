"""The sandbox's ``/sandbox/`` page in a real browser (chromium), at a size where a full dump would hurt.

A sandbox database is filled directly (``dotsync.testing.sandbox_seed``: 20,000 contacts in one address
book, 40,000 order records, an import with 120 rejected rows), then served by a sandbox in a thread over
loopback HTTP. The page must show the summary first (its figures come from the database, not from what the
test wrote), find a contact by address, and page through contacts and an import's faults with the "next
page" links, each page a bounded size.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dotsync.platform.sandbox.browse import PAGE_SIZE
from dotsync.platform.sandbox.server import SandboxHandle, run_in_thread
from dotsync.platform.sandbox.storage import Store
from dotsync.testing.sandbox_seed import COLLECTION, Seeded, seed, seed_email
from tests.browser.conftest import click_and_load

pytestmark = [pytest.mark.browser]

USER, PASSWORD = "apiuser-browse@apiconnector.com", "browse-secret"
CONTACTS, ORDERS = 20_000, 40_000
PAGE_BUDGET_S = 10.0
"""A generous bound for one page load on a shared CI machine; today's pages take well under a second."""


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


@pytest.fixture(scope="module")
def seeded_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxHandle, Seeded]]:
    """A sandbox (own thread, own SQLite file) over a database seeded with :data:`CONTACTS` contacts."""
    db = str(Path(tmp_path_factory.mktemp("sandbox-page")) / "sandbox.sqlite3")
    store = Store(db)
    try:
        seeded = seed(store, USER, PASSWORD, CONTACTS, ORDERS)
    finally:
        store.close()
    handle = run_in_thread(db_path=db)
    try:
        yield handle, seeded
    finally:
        handle.stop()


def _load(browser: Any, url: str) -> float:
    """Open ``url``; the seconds it took (navigation until the document loaded)."""
    started = time.perf_counter()
    browser.get(url)
    return time.perf_counter() - started


def _rows(browser: Any, table: str) -> list[list[str]]:
    """The cells' text of a table's body, read in one script call (one WebDriver call per cell is slow)."""
    rows: list[list[str]] = browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(tr => Array.from(tr.cells).map(td => td.innerText.trim()))",
        f"table.{table} tbody tr",
    )
    return rows


def test_the_summary_comes_first_and_search_finds_one_contact(
    browser: Any, seeded_sandbox: tuple[SandboxHandle, Seeded]
) -> None:
    handle, seeded = seeded_sandbox
    assert _load(browser, f"{handle.url}/sandbox/") < PAGE_BUDGET_S
    section = browser.find_element(_by("CSS_SELECTOR"), f'section.account[data-account="{USER}"]')
    assert "Contacts: 20,000" in section.find_element(_by("CSS_SELECTOR"), ".contacts-total").text
    books = _rows(browser, "books")  # every account also has the platform's reserved, empty Test book
    assert ["Customers", str(seeded.book_id), "Private", "20,000"] in books and len(books) == 2
    assert _rows(browser, "collections") == [[COLLECTION, "contact", "orders", "40,000"]]
    assert _rows(browser, "faulted")[0][0] == seeded.faulted_import
    assert "person0000001@" not in browser.page_source  # no contact is listed on the summary

    target = seed_email(12_345)
    box = section.find_element(_by("NAME"), "q")
    box.send_keys(target.upper())  # the search ignores case
    started = time.perf_counter()
    box.submit()
    rows = _rows(browser, "contacts")
    assert time.perf_counter() - started < PAGE_BUDGET_S
    assert [row[1] for row in rows] == [target]
    assert rows[0][2] == "Subscribed" and rows[0][4] == "Customers"
    assert rows[0][5] == "2"  # 40,000 orders over 20,000 contacts
    assert browser.find_element(_by("CSS_SELECTOR"), ".pager").text == "last page"


def test_contacts_and_import_faults_page_with_next_links(
    browser: Any, seeded_sandbox: tuple[SandboxHandle, Seeded]
) -> None:
    handle, seeded = seeded_sandbox
    assert _load(browser, f"{handle.url}/sandbox/?account={USER}") < PAGE_BUDGET_S
    click_and_load(browser, browser.find_element(_by("LINK_TEXT"), "browse contacts"))
    seen: list[str] = []
    for page in range(3):
        emails = [row[1] for row in _rows(browser, "contacts")]
        assert emails == [seed_email(i) for i in range(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)]
        seen += emails
        started = time.perf_counter()
        click_and_load(browser, browser.find_element(_by("PARTIAL_LINK_TEXT"), "next page"))
        assert time.perf_counter() - started < PAGE_BUDGET_S
    assert len(set(seen)) == 3 * PAGE_SIZE

    browser.get(f"{handle.url}/sandbox/?account={USER}")
    click_and_load(browser, browser.find_element(_by("LINK_TEXT"), seeded.faulted_import))
    faults: list[str] = []
    while True:
        faults += [row[1] for row in _rows(browser, "faults")]
        pager = browser.find_element(_by("CSS_SELECTOR"), ".pager")
        if pager.text == "last page":
            break
        click_and_load(browser, pager.find_element(_by("TAG_NAME"), "a"))
    assert faults == [f"not-an-address-{i}" for i in range(seeded.rejected)]
