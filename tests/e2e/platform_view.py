"""Read a sandbox account as plain sets and dicts, for comparing the platform with the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dotsync.testing.platform_setup import SandboxAccount


@dataclass
class AccountView:
    """One account's contacts per address book and insight records per collection."""

    contacts: dict[str, dict[str, Any]]
    books: dict[str, set[str]]
    insight: dict[str, dict[str, dict[str, Any]]]
    record_counts: dict[str, int]

    def keys(self, collection: str) -> set[str]:
        """Record keys of a collection (empty when the collection does not exist)."""
        return set(self.insight.get(collection, {}))


def view(sandbox: Any, account: SandboxAccount) -> AccountView:
    """Read ``account`` from the sandbox.

    ``books`` maps the configuration name (``customers``, ``guests``, ``subscribers``) to the emails
    in that book; ``record_counts`` counts stored records per collection, so a key stored twice
    would show (``insight`` is keyed by record key).
    """
    state = sandbox.account(account.username)
    names = {b["name"]: b["id"] for b in state["address_books"]}
    by_id = {book_id: book for book, book_id in account.address_books.items()}
    contacts = {c["email"].lower(): c for c in state["contacts"]}
    books: dict[str, set[str]] = {book: set() for book in account.address_books}
    for email, contact in contacts.items():
        for name in contact["address_books"]:
            book = by_id.get(names.get(name, -1))
            if book is not None:
                books[book].add(email)
    insight: dict[str, dict[str, dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    for collection, data in state["insight"].items():
        records = data["records"]
        counts[collection] = len(records)
        insight[collection] = {r["key"]: r for r in records}
    assert len(contacts) == len(state["contacts"]), "a contact is stored twice"
    return AccountView(contacts, books, insight, counts)
