"""SQLite storage of the sandbox (stdlib ``sqlite3``), so its state survives restarts.

One connection, guarded by a re-entrant lock: the sandbox is a development tool, and serialising its
requests keeps every handler simple and every multi-statement change atomic. ``path=None`` keeps the
state in memory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from dotsync.platform.sandbox.passwords import migrate as migrate_passwords

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL,            -- salted scrypt hash (passwords.py)
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS global_suppressions (
    email TEXT PRIMARY KEY,            -- lower-cased
    suppressed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,           -- lower-cased email
    email_type TEXT NOT NULL DEFAULT 'Html',
    opt_in_type TEXT NOT NULL DEFAULT 'Unknown',
    status TEXT NOT NULL DEFAULT 'Subscribed',   -- account-level status (global suppression overrides)
    data_fields TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    suppressed_at TEXT,
    UNIQUE (account_id, email_key)
);
CREATE TABLE IF NOT EXISTS address_books (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'Private',
    UNIQUE (account_id, name)
);
CREATE TABLE IF NOT EXISTS memberships (
    address_book_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    added TEXT NOT NULL,
    PRIMARY KEY (address_book_id, contact_id)
);
CREATE TABLE IF NOT EXISTS data_fields (
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    type TEXT NOT NULL,
    visibility TEXT NOT NULL,
    default_value TEXT NOT NULL DEFAULT 'null',
    PRIMARY KEY (account_id, name_key)
);
CREATE TABLE IF NOT EXISTS imports (
    id TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    kind TEXT NOT NULL,                -- 'contacts' or 'insight'
    address_book_id INTEGER,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    ready_at REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    polls_needed INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL DEFAULT 'Finished',
    payload BLOB NOT NULL,
    report TEXT,
    faults TEXT,
    records INTEGER,                   -- rows or records in the file, once processed
    rejected INTEGER                   -- of which rejected (the fault report's rows), once processed
);
CREATE TABLE IF NOT EXISTS insight_collections (
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE IF NOT EXISTS insight_records (
    account_id INTEGER NOT NULL,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    contact_id INTEGER,
    json TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (account_id, collection, key)
);
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_sends (
    id TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL,
    contact_ids TEXT NOT NULL,
    address_book_ids TEXT NOT NULL,
    send_date TEXT NOT NULL,
    created REAL NOT NULL,
    ready_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_deliveries (
    send_id TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS campaign_deliveries_contact
    ON campaign_deliveries (account_id, campaign_id, contact_id);
CREATE TABLE IF NOT EXISTS campaign_send_outcomes (
    send_id TEXT PRIMARY KEY,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    date_created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS enrolments (
    id TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    contacts TEXT NOT NULL,
    address_books TEXT NOT NULL,
    date_created TEXT NOT NULL,
    created REAL NOT NULL,
    ready_at REAL NOT NULL,
    faults TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS program_members (
    account_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    enrolment_id TEXT NOT NULL,
    PRIMARY KEY (program_id, contact_id)
);
CREATE TABLE IF NOT EXISTS sms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    telephone TEXT NOT NULL,
    message TEXT NOT NULL,
    sent TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS request_counts (
    account TEXT NOT NULL,             -- username, or '' when unauthenticated
    endpoint TEXT NOT NULL,            -- 'GET /v2/contacts/{id}'
    status INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (account, endpoint, status)
);
CREATE TABLE IF NOT EXISTS consent_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    consented_at TEXT NOT NULL DEFAULT '',  -- DATETIMECONSENTED as sent
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS enrolment_calls (
    account_id INTEGER NOT NULL,
    at REAL NOT NULL
);
"""

ADDED_COLUMNS = (("imports", "records", "INTEGER"), ("imports", "rejected", "INTEGER"))
"""Columns added after the first release: a database of an older sandbox gets them when it is opened."""

INDEXES = """
CREATE INDEX IF NOT EXISTS imports_account_status ON imports (account_id, status, created);
CREATE INDEX IF NOT EXISTS imports_due ON imports (status, ready_at);
CREATE INDEX IF NOT EXISTS contacts_account_id ON contacts (account_id, id);
CREATE INDEX IF NOT EXISTS memberships_contact ON memberships (contact_id);
CREATE INDEX IF NOT EXISTS insight_records_by_contact ON insight_records (contact_id, collection, key);
CREATE INDEX IF NOT EXISTS campaign_sends_account ON campaign_sends (account_id, created);
CREATE INDEX IF NOT EXISTS enrolments_account ON enrolments (account_id, created);
CREATE INDEX IF NOT EXISTS program_members_enrolment ON program_members (enrolment_id);
CREATE INDEX IF NOT EXISTS campaign_deliveries_send ON campaign_deliveries (send_id);
CREATE INDEX IF NOT EXISTS consent_records_contact ON consent_records (contact_id);
"""
"""The indexes the state queries use: due imports and an account's imports by status, contacts of an
account in id order (keyset pages), a contact's books and records, an account's sends and enrolments, a
send's deliveries, a contact's consent records."""

TABLES = (
    "accounts",
    "global_suppressions",
    "contacts",
    "address_books",
    "memberships",
    "data_fields",
    "imports",
    "insight_collections",
    "insight_records",
    "campaigns",
    "campaign_sends",
    "campaign_deliveries",
    "campaign_send_outcomes",
    "programs",
    "enrolments",
    "program_members",
    "sms",
    "request_counts",
    "enrolment_calls",
    "consent_records",
)


def utcnow() -> datetime:
    """The current UTC time (aware)."""
    return datetime.now(UTC)


def iso(dt: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as the platform formats dates.

    An aware ``dt`` is converted to UTC first (``10:00+02:00`` -> ``08:00Z``); a naive one is taken as UTC.
    """
    dt = dt or utcnow()
    dt = dt.astimezone(UTC) if dt.tzinfo else dt
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 date or date-time as an aware UTC datetime; raise ValueError if invalid.

    ``Z`` and offsets are honoured (``10:00:00+02:00`` is ``08:00:00Z``); no offset means UTC.
    """
    value = text.strip().replace(" ", "T", 1)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    try:
        return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    except OverflowError:  # 0001-01-01T00:00+02:00 has no UTC instant
        raise ValueError(f"{text!r} is out of range") from None


class Store:
    """The sandbox's SQLite database."""

    def __init__(self, path: str | None = None) -> None:
        """Open (and create) the database at ``path``; ``None`` keeps it in memory."""
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self._add_columns()
        self.conn.executescript(INDEXES)
        with self.tx() as conn:
            migrate_passwords(conn)  # databases of older sandboxes kept passwords in plain text

    def _add_columns(self) -> None:
        """Add :data:`ADDED_COLUMNS` that a database written by an older sandbox lacks."""
        for table, column, kind in ADDED_COLUMNS:
            present = {row["name"] for row in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a query and return every row."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Run a query and return the first row or None."""
        with self.lock:
            row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the last inserted row id."""
        with self.lock:
            return self.conn.execute(sql, params).lastrowid or 0

    def clear(self) -> None:
        """Delete every row of every table (``POST /sandbox/reset``)."""
        with self.tx() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence")

    def count_request(self, account: str, endpoint: str, status: int) -> None:
        """Add one call to the request log."""
        self.run(
            "INSERT INTO request_counts (account, endpoint, status, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (account, endpoint, status) DO UPDATE SET count = count + 1",
            (account, endpoint, status),
        )


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON (one encoder for the process: bulk imports encode every record with it)."""
    return _ENCODER.encode(value)
