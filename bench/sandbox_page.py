"""How long the ``/sandbox/`` pages take at shop size: 100k contacts and 300k order records by default.

    .venv/bin/python bench/sandbox_page.py                      # 100,000 contacts, 300,000 orders
    .venv/bin/python bench/sandbox_page.py --contacts 20000 --orders 60000 --browser

Seeds a sandbox database directly (``dotsync.testing.sandbox_seed``), starts ``dotsync sandbox`` on it in its
own process (as bench/sync.py does), and times each page over one keep-alive HTTP connection: the summary
(first and second load), the summary JSON, contact pages (first, next, search, one book), record pages (a
collection, a key prefix, one contact's) and the imports. ``--browser`` also loads the summary, a search and a
next page in headless chromium (Selenium) and reports the navigation time the browser measured.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync import start_sandbox

USER, PASSWORD = "apiuser-page@apiconnector.com", "page-secret"


def timed_get(client: httpx.Client, path: str, **params: str) -> tuple[float, str]:
    """(milliseconds, body) of one GET; fails on a non-200 answer."""
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response.text


def http_pages(url: str, contacts: int, book_id: int) -> dict[str, float]:
    """Milliseconds per page, over one keep-alive connection."""
    from dotsync.testing.sandbox_seed import COLLECTION, seed_email

    out: dict[str, float] = {}
    with httpx.Client(base_url=url, timeout=300) as client:
        out["summary (first load)"], _ = timed_get(client, "/sandbox/")
        out["summary"], _ = timed_get(client, "/sandbox/")
        out["summary JSON"], _ = timed_get(client, "/sandbox/summary")
        out["contacts, page 1"], first = timed_get(client, "/sandbox/contacts", account=USER)
        after = re.search(r"after=(\d+)", first)
        assert after, "no next-page link"
        out["contacts, page 2"], _ = timed_get(
            client, "/sandbox/contacts", account=USER, after=after.group(1)
        )
        out["contacts, late page"], _ = timed_get(
            client, "/sandbox/contacts", account=USER, after=str(contacts - 60)
        )
        out["contacts, search"], found = timed_get(
            client, "/sandbox/contacts", account=USER, q=seed_email(contacts // 2)
        )
        assert seed_email(contacts // 2) in found
        out["contacts of a book"], _ = timed_get(client, "/sandbox/contacts", account=USER, book=str(book_id))
        out["records of a collection"], _ = timed_get(
            client, "/sandbox/records", account=USER, collection=COLLECTION
        )
        out["records, key prefix"], _ = timed_get(
            client, "/sandbox/records", account=USER, collection=COLLECTION, q="1002"
        )
        out["records of a contact"], _ = timed_get(client, "/sandbox/records", account=USER, q=seed_email(7))
        out["imports"], _ = timed_get(client, "/sandbox/imports", account=USER)
        out["an import's faults"], _ = timed_get(client, "/sandbox/imports/seed-faulted", account=USER)
    return {k: round(v, 1) for k, v in out.items()}


def browser_pages(url: str, contacts: int) -> dict[str, float]:
    """Milliseconds chromium measured (navigation start to load event): summary, a search, a next page."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from dotsync.testing.sandbox_seed import seed_email

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    measure = "const t = performance.timing; return t.loadEventEnd - t.navigationStart;"
    out: dict[str, float] = {}
    try:
        driver.get(f"{url}/sandbox/")
        out["browser: summary"] = driver.execute_script(measure)
        box = driver.find_element(By.NAME, "q")
        box.send_keys(seed_email(contacts - 1))
        box.submit()
        out["browser: search"] = driver.execute_script(measure)
        driver.get(f"{url}/sandbox/contacts?account={USER}")
        driver.find_element(By.PARTIAL_LINK_TEXT, "next page").click()
        out["browser: contacts next page"] = driver.execute_script(measure)
    finally:
        driver.quit()
    return out


def main() -> None:
    """Seed, serve, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--browser", action="store_true", help="Also time the pages in headless chromium.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from dotsync.platform.sandbox.storage import Store
    from dotsync.testing.sandbox_seed import seed

    result: dict[str, Any] = {"contacts": args.contacts, "orders": args.orders}
    with tempfile.TemporaryDirectory(prefix="dotsync-bench-sandbox-page-") as tmp:
        store = Store(os.path.join(tmp, "sandbox.sqlite3"))
        started = time.perf_counter()
        seeded = seed(store, USER, PASSWORD, args.contacts, args.orders)
        result["seed_seconds"] = round(time.perf_counter() - started, 1)
        store.close()
        result["db_mib"] = round(os.path.getsize(os.path.join(tmp, "sandbox.sqlite3")) / 2**20, 1)
        proc, url, _ = start_sandbox(tmp, 0.0)
        try:
            result["http_ms"] = http_pages(url, args.contacts, seeded.book_id)
            if args.browser:
                result["browser_ms"] = browser_pages(url, args.contacts)
        finally:
            proc.terminate()
            proc.wait(10)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"/sandbox/ pages at {args.contacts:,} contacts, {args.orders:,} records ({result['db_mib']} MiB)")
    for name, ms in {**result["http_ms"], **result.get("browser_ms", {})}.items():
        print(f"  {name:28} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
