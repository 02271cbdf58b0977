"""Fill a sandbox database directly, in bulk, at sizes the API would take minutes to reach (tests, bench).

:func:`seed` writes through the sandbox's own :class:`~dotsync.platform.sandbox.storage.Store` (its schema and
indexes) with one ``executemany`` per table: an account, one address book holding every contact, an
``Orders`` insight collection, and two finished imports, one of them with rejected rows.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass

from dotsync.platform.sandbox.accounts import create_account
from dotsync.platform.sandbox.storage import Store, dumps, iso

BOOK = "Customers"
COLLECTION = "Orders"


def seed_email(i: int) -> str:
    """The i-th seeded contact's address (sorted as ``i``: zero-padded)."""
    return f"person{i:07d}@seed.example.com"


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed` wrote."""

    account_id: int
    book_id: int
    contacts: int
    records: int
    faulted_import: str
    rejected: int


def seed(
    store: Store, username: str, password: str, contacts: int, orders: int, rejected: int = 120
) -> Seeded:
    """An account with ``contacts`` contacts (all in one book) and ``orders`` order records, spread evenly.

    Also two finished contact imports: one clean, one with ``rejected`` ``Invalid Email`` rows.
    """
    account, _ = create_account(store, username, password)
    account_id = int(account["id"])
    now = iso()
    with store.tx() as conn:
        book_id = int(
            conn.execute(
                "INSERT INTO address_books (account_id, name, visibility) VALUES (?, ?, 'Private')",
                (account_id, BOOK),
            ).lastrowid
            or 0
        )
        first = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM contacts").fetchone()[0]) + 1
        conn.executemany(
            "INSERT INTO contacts (account_id, email, email_key, email_type, opt_in_type, status, "
            "data_fields, created, modified) VALUES (?, ?, ?, 'Html', 'Single', 'Subscribed', ?, ?, ?)",
            (
                (account_id, seed_email(i), seed_email(i), dumps({"FIRSTNAME": f"First{i}"}), now, now)
                for i in range(contacts)
            ),
        )
        conn.execute(
            "INSERT INTO memberships (address_book_id, contact_id, added) "
            "SELECT ?, id, ? FROM contacts WHERE account_id = ?",
            (book_id, now, account_id),
        )
        conn.execute(
            "INSERT INTO insight_collections (account_id, name, scope, type) "
            "VALUES (?, ?, 'contact', 'orders')",
            (account_id, COLLECTION),
        )
        conn.executemany(
            "INSERT INTO insight_records (account_id, collection, key, contact_id, json, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    account_id,
                    COLLECTION,
                    f"{100000000 + i}",
                    first + i % max(contacts, 1),
                    dumps({"id": f"{100000000 + i}", "order_total": 10 + i % 90, "status": "complete"}),
                    now,
                    now,
                )
                for i in range(orders)
            ),
        )
        faults = io.StringIO()
        writer = csv.writer(faults, lineterminator="\n")
        writer.writerow(["Reason", "Email"])
        writer.writerows(["Invalid Email", f"not-an-address-{i}"] for i in range(rejected))
        clock = time.time()
        for import_id, fault_text, bad, at in (
            ("seed-clean", "Reason,Email\n", 0, clock - 60),
            ("seed-faulted", faults.getvalue(), rejected, clock),
        ):
            conn.execute(
                "INSERT INTO imports (id, account_id, kind, address_book_id, status, created, ready_at, "
                "payload, report, faults, records, rejected) "
                "VALUES (?, ?, 'contacts', ?, 'Finished', ?, ?, ?, ?, ?, ?, ?)",
                (
                    import_id,
                    account_id,
                    book_id,
                    at,
                    at,
                    b"",
                    json.dumps({"newContacts": contacts, "invalidEntries": bad}),
                    fault_text,
                    contacts + bad,
                    bad,
                ),
            )
    return Seeded(account_id, book_id, contacts, orders, "seed-faulted", rejected)
