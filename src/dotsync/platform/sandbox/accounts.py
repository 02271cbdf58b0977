"""Accounts: creation (with default data fields, campaigns and programs), auth, and account-info."""

from __future__ import annotations

import base64
import binascii
import sqlite3

from starlette.responses import Response

from dotsync.platform.sandbox.context import Api, Ctx, ok
from dotsync.platform.sandbox.passwords import hash_password, verify_password
from dotsync.platform.sandbox.storage import Store, dumps, iso

DEFAULT_DATA_FIELDS = ("FIRSTNAME", "LASTNAME", "FULLNAME", "GENDER", "POSTCODE")

SEED_CAMPAIGNS = (
    ("Welcome email", "Welcome to our shop", "Unsent"),
    ("Abandoned basket reminder", "You left something behind", "Triggered"),
    ("Order follow-up", "How was your order?", "Triggered"),
    ("Newsletter draft", "This month's news", "Unsent"),
)

SEED_PROGRAMS = (
    ("Welcome program", "Active"),
    ("Abandoned basket program", "Active"),
    ("Win-back program (draft)", "Draft"),
)


def create_account(store: Store, username: str, password: str) -> tuple[sqlite3.Row, bool]:
    """Create an account, or return the existing one for the same username and password.

    Returns:
        (account row, created?).

    Raises:
        ValueError: the username exists with another password, or a value is empty.
    """
    if not username or not password:
        raise ValueError("username and password are required")
    with store.tx() as conn:
        row = conn.execute("SELECT * FROM accounts WHERE username = ?", (username,)).fetchone()
        if row is not None:
            if not verify_password(str(row["password"]), password):
                raise ValueError(f"account {username!r} already exists with a different password")
            return row, False
        account_id = conn.execute(
            "INSERT INTO accounts (username, password, created) VALUES (?, ?, ?)",
            (username, hash_password(password), iso()),
        ).lastrowid
        for name in DEFAULT_DATA_FIELDS:
            conn.execute(
                "INSERT INTO data_fields (account_id, name, name_key, type, visibility) "
                "VALUES (?, ?, ?, 'String', 'Private')",
                (account_id, name, name.lower()),
            )
        conn.execute(
            "INSERT INTO address_books (account_id, name, visibility) VALUES (?, 'Test', 'Private')",
            (account_id,),
        )
        for name, subject, status in SEED_CAMPAIGNS:
            body = {
                "name": name,
                "subject": subject,
                "fromName": "Sandbox shop",
                "fromAddress": {"id": 1, "email": "news@sandbox.example"},
                "htmlContent": f"<html><body><h1>{subject}</h1></body></html>",
                "plainTextContent": subject,
                "replyAction": "Unset",
                "replyToAddress": "",
                "isSplitTest": False,
                "status": status,
            }
            conn.execute("INSERT INTO campaigns (account_id, body) VALUES (?, ?)", (account_id, dumps(body)))
        for name, status in SEED_PROGRAMS:
            conn.execute(
                "INSERT INTO programs (account_id, name, status, date_created) VALUES (?, ?, ?, ?)",
                (account_id, name, status, iso()),
            )
        row = conn.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return row, True


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Username and password from a ``Basic`` Authorization header."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def authenticate(store: Store, header: str | None) -> sqlite3.Row | None:
    """The account whose API user and password are in the header, if any."""
    creds = basic_credentials(header)
    if creds is None:
        return None
    row = store.one("SELECT * FROM accounts WHERE username = ?", (creds[0],))
    if row is None or not verify_password(str(row["password"]), creds[1]):
        return None
    return row


async def account_info(ctx: Ctx) -> Response:
    """``GET /v2/account-info``: ``ApiEndpoint`` points back at this sandbox."""
    endpoint = str(ctx.request.base_url).rstrip("/")
    calls = ctx.store.one(
        "SELECT COALESCE(SUM(count), 0) AS n FROM request_counts WHERE account = ?",
        (ctx.account["username"],),
    )
    used = int(calls["n"]) if calls else 0

    def prop(name: str, type_: str, value: str) -> dict[str, str]:
        return {"name": name, "type": type_, "value": value}

    return ok(
        {
            "id": ctx.account_id,
            "properties": [
                prop("Name", "String", f"Sandbox account {ctx.account_id}"),
                prop("MainEmail", "String", str(ctx.account["username"])),
                prop("APILocale", "String", "en-GB"),
                prop("ApiCallsInLastHour", "Int", str(used)),
                prop("ApiCallsRemaining", "Int", str(max(0, 2000 - used))),
                prop("ApiEndpoint", "String", endpoint),
                prop("AvailableEmailSendsCredits", "Int", "100000"),
                prop("AvailableSmsSendsCredits", "Int", "1000"),
                prop("CurrencyCode", "String", "GBP"),
                prop("TimeZoneIana", "String", "Europe/London"),
            ],
        }
    )


ROUTES = [Api("GET", "/v2/account-info", account_info)]
