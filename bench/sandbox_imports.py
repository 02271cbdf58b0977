"""Micro-benchmark of the sandbox's import processing: CSV contact imports and insight (JSON) imports.

    .venv/bin/python bench/sandbox_imports.py                 # N = 100,000 records per import
    .venv/bin/python bench/sandbox_imports.py -n 20000 --json

1. ``dotsync sandbox --db <temp file> --import-delay 0`` in **its own process** (as bench/sync.py starts
   it); one account and one address book, created through the API.
2. **CSV**: one contact import of N new contacts (Email, FIRSTNAME, LASTNAME, POSTCODE, OptInType) into the
   book, then the same file again (N updates). **Insight**: one contact-scope ``orders`` import of N records
   (one per contact, an order with two lines), then the same import again (N replacements). Each is timed
   from the upload to the first status poll that answers it done, and the sandbox process's CPU seconds
   (user + system, from ``/proc/<pid>/stat``) are read before and after.
3. **Floor**: the same rows written in this process, straight into a fresh SQLite file with the sandbox's
   schema and pragmas, with one ``executemany`` per table in one transaction (contacts, memberships,
   insight records) and no validation: what SQLite itself costs.

Prints records/s and CPU seconds of each import and of the floor; ``--json`` prints them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync import start_sandbox

USER, PASSWORD = "apiuser-bench@apiconnector.com", "bench-secret"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def email(i: int) -> str:
    """The i-th contact's address."""
    return f"customer{i:07d}@bench.example.com"


def csv_file(n: int) -> bytes:
    """N contact rows as a CSV import file."""
    lines = ["Email,FIRSTNAME,LASTNAME,POSTCODE,OptInType"]
    lines += [f"{email(i)},First{i},Last{i},PC{i % 10000:04d},Single" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def order(i: int) -> dict[str, Any]:
    """One order record, shaped like the sync's order insight."""
    return {
        "id": f"{100000000 + i}",
        "status": "complete",
        "email": email(i),
        "purchase_date": "2026-11-01T10:00:00Z",
        "currency": "GBP",
        "order_total": 42.5,
        "delivery_method": "Standard",
        "delivery_total": 4.99,
        "billing_address": {"billing_address_1": f"{i} High Street", "billing_city": "Leeds"},
        "products": [
            {"name": "Widget", "sku": f"SKU{i % 500}", "qty": 1, "price": 18.75},
            {"name": "Gadget", "sku": f"SKU{(i + 7) % 500}", "qty": 2, "price": 9.38},
        ],
    }


def insight_body(n: int) -> bytes:
    """One contact-scope ``orders`` bulk import of N records."""
    records = [
        {
            "key": f"{100000000 + i}",
            "contactIdentity": {"identifier": "email", "value": email(i)},
            "json": order(i),
        }
        for i in range(n)
    ]
    body = {
        "collectionName": "Orders",
        "collectionScope": "contact",
        "collectionType": "orders",
        "records": records,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def wait(client: httpx.Client, path: str, key: str, pending: str) -> dict[str, Any]:
    """Poll ``path`` until its ``key`` is no longer ``pending``; returns the last answer."""
    while True:
        answer: dict[str, Any] = client.get(path).raise_for_status().json()
        if answer[key] != pending:
            return answer
        time.sleep(0.02)


def timed(pid: int, run: Any) -> tuple[float, float, Any]:
    """(wall seconds, sandbox CPU seconds, result) of ``run()``."""
    cpu, started = cpu_seconds(pid), time.perf_counter()
    result = run()
    return time.perf_counter() - started, cpu_seconds(pid) - cpu, result


def run_sandbox(n: int, tmp: str) -> dict[str, Any]:
    """Both kinds of import, twice each, against a sandbox process; their wall and CPU seconds."""
    from dotsync.platform.sandbox.control import SandboxControl

    proc, url, _ = start_sandbox(tmp, 0.0)
    out: dict[str, Any] = {}
    try:
        with SandboxControl(url) as control:
            control.create_account(USER, PASSWORD)
            control.set_faults(csv_max_bytes=200_000_000, insight_max_bytes=400_000_000)
        with httpx.Client(base_url=url, auth=(USER, PASSWORD), timeout=600) as client:
            book = client.post("/v2/address-books", json={"name": "Bench"}).raise_for_status().json()["id"]
            csv_bytes, insight_bytes = csv_file(n), insight_body(n)

            def contacts() -> dict[str, Any]:
                files = {"file": ("contacts.csv", csv_bytes, "text/csv")}
                started = client.post(f"/v2/address-books/{book}/contacts/import", files=files)
                import_id = started.raise_for_status().json()["id"]
                wait(client, f"/v2/contacts/import/{import_id}", "status", "NotFinished")
                report: dict[str, Any] = client.get(f"/v2/contacts/import/{import_id}/report").json()
                return report

            def insight() -> dict[str, Any]:
                headers = {"content-type": "application/json"}
                started = client.put("/insightData/v3/import", content=insight_bytes, headers=headers)
                import_id = started.raise_for_status().json()["importId"]
                return wait(client, f"/insightData/v3/import/{import_id}", "status", "NotStarted")

            for name, run, check in (
                ("csv_new", contacts, lambda r: r["newContacts"]),
                ("csv_update", contacts, lambda r: r["updatedContacts"]),
                ("insight_new", insight, lambda r: r["summary"]["totalImported"]),
                ("insight_replace", insight, lambda r: r["summary"]["totalImported"]),
            ):
                wall, cpu, result = timed(proc.pid, run)
                if check(result) != n:
                    raise RuntimeError(f"{name}: {check(result)} of {n} records imported: {result}")
                out[name] = {
                    "seconds": round(wall, 3),
                    "sandbox_cpu": round(cpu, 3),
                    "per_second": round(n / wall),
                }
            lookup_wall, _, _ = timed(
                proc.pid,
                lambda: [
                    client.get(f"/v2/contacts/{email(i)}").raise_for_status() for i in range(0, n, n // 100)
                ],
            )
            out["contact_lookup_ms"] = round(lookup_wall * 1000 / 100, 2)
            page_wall, _, _ = timed(
                proc.pid, lambda: httpx.get(f"{url}/sandbox/", timeout=600).raise_for_status()
            )
            out["page_seconds"] = round(page_wall, 3)
    finally:
        proc.terminate()
        proc.wait(10)
    out["upload_bytes"] = {"csv": len(csv_bytes), "insight": len(insight_bytes)}
    return out


def floor(n: int, tmp: str) -> dict[str, Any]:
    """The same rows into a fresh sandbox-schema SQLite file: one executemany per table, one transaction.

    The rows (and each record's JSON text) are built before the clock starts: the floor is SQLite's own
    cost of storing them, with the sandbox's schema, indexes and pragmas.
    """
    from dotsync.platform.sandbox.storage import Store

    store = Store(os.path.join(tmp, "floor.sqlite3"))
    con = store.conn
    now = "2026-11-30T00:00:00.000Z"
    fields = (
        {"FIRSTNAME": f"First{i}", "LASTNAME": f"Last{i}", "POSTCODE": f"PC{i % 10000:04d}"} for i in range(n)
    )
    contacts = [(email(i), email(i), json.dumps(f), now, now) for i, f in enumerate(fields)]
    records = [
        (f"{100000000 + i}", i + 1, json.dumps(order(i), separators=(",", ":")), now, now) for i in range(n)
    ]
    cpu, started = time.process_time(), time.perf_counter()
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO contacts (account_id, email, email_key, email_type, opt_in_type, status, data_fields, "
        "created, modified) VALUES (1, ?, ?, 'Html', 'Single', 'Subscribed', ?, ?, ?)",
        contacts,
    )
    con.execute(
        "INSERT INTO memberships (address_book_id, contact_id, added) SELECT 1, id, ? FROM contacts", (now,)
    )
    con.execute("COMMIT")
    csv_cpu, csv_wall = time.process_time() - cpu, time.perf_counter() - started
    cpu, started = time.process_time(), time.perf_counter()
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO insight_records (account_id, collection, key, contact_id, json, created, updated) "
        "VALUES (1, 'Orders', ?, ?, ?, ?, ?)",
        records,
    )
    con.execute("COMMIT")
    insight_cpu, insight_wall = time.process_time() - cpu, time.perf_counter() - started
    store.close()
    return {
        "csv": {"seconds": round(csv_wall, 3), "cpu": round(csv_cpu, 3), "per_second": round(n / csv_wall)},
        "insight": {
            "seconds": round(insight_wall, 3),
            "cpu": round(insight_cpu, 3),
            "per_second": round(n / insight_wall),
        },
    }


def main() -> None:
    """Parse the flags, run the sandbox imports and the floor, print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="Records per import (default 100,000).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dotsync-bench-sandbox-") as tmp:
        result = {"n": args.n, "sandbox": run_sandbox(args.n, tmp), "floor": floor(args.n, tmp)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    n = args.n
    print(f"sandbox imports, N = {n:,} records each (sandbox in its own process)")
    for name, row in result["sandbox"].items():
        if isinstance(row, dict) and "seconds" in row:
            print(
                f"  {name:16} {row['seconds']:7.2f} s  {row['per_second']:>9,} records/s  "
                f"sandbox CPU {row['sandbox_cpu']:.2f} s"
            )
    print(f"  contact lookup by email: {result['sandbox']['contact_lookup_ms']} ms per call")
    print(f"  /sandbox/ page: {result['sandbox']['page_seconds']} s")
    for name, row in result["floor"].items():
        rate = f"{row['per_second']:>9,} records/s"
        print(f"  floor {name:10} {row['seconds']:7.2f} s  {rate}  CPU {row['cpu']:.2f} s")


if __name__ == "__main__":
    main()
