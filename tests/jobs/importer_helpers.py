"""Helpers for the importer tests: queue batches by hand, drain the importer, read the sandbox."""

from __future__ import annotations

import time
from typing import Any

from django.utils import timezone

from dotsync.config import get_config
from dotsync.jobs import importer, queue
from dotsync.models import Catalog, Contact, Importer, Order, Website
from dotsync.models.importer import ImportMode, ImportStatus


def contacts(website: Website, emails: list[str], **fields: Any) -> list[Contact]:
    """Create email_contact rows (NEW) for these emails."""
    now = timezone.now()
    return [
        Contact.objects.create(
            website=website, store=website.default_store, email=e, created_at=now, **fields
        )
        for e in emails
    ]


def contact_batch(
    website: Website, rows: list[Contact], book: str = "customers", stream: str = "sync"
) -> Importer:
    """Queue a contact CSV import of these rows, as the contacts job would."""
    cfg = get_config(website)
    lines = ["Email,EmailType"] + [f"{r.email},Html" for r in rows]
    payload = {
        "address_book": book,
        "address_book_id": cfg.address_book(book),
        "csv": "\r\n".join(lines) + "\r\n",
        "emails": {r.email: r.pk for r in rows},
    }
    return queue.register_batch(
        website_id=website.pk,
        import_type={"customers": "Customer", "subscribers": "Subscriber", "guests": "Guest"}[book],
        import_mode=ImportMode.BULK,
        table="email_contact",
        rows=[(r.pk, queue.payload_hash(r.email)) for r in rows],
        payload=payload,
        stream=stream,
    )


def products(ids: list[int]) -> list[Catalog]:
    """Create email_catalog rows."""
    return [Catalog.objects.create(product_id=i) for i in ids]


def catalog_batch(website: Website, rows: list[Catalog], json_for: Any = None) -> Importer:
    """Queue an account-scoped insight import of these products (``Catalog_Default``)."""
    records = [
        {"key": str(r.product_id), "json": (json_for or (lambda r: {"name": f"Product {r.product_id}"}))(r)}
        for r in rows
    ]
    return queue.register_batch(
        website_id=website.pk,
        import_type="Catalog_Default",
        import_mode=ImportMode.BULK_JSON,
        table="email_catalog",
        rows=[(r.pk, queue.payload_hash(rec)) for r, rec in zip(rows, records, strict=True)],
        payload={"collection": "Catalog_Default", "scope": "account", "type": "catalog", "records": records},
    )


def orders(website: Website, emails: list[str], start: int = 1000) -> list[Order]:
    """Create email_order rows for these emails."""
    return [
        Order.objects.create(website=website, store=website.default_store, order_id=start + i, email=e)
        for i, e in enumerate(emails)
    ]


def order_batch(website: Website, rows: list[Order]) -> Importer:
    """Queue a contact-scoped insight import of these orders."""
    records = [
        {
            "key": str(r.order_id),
            "contactIdentity": {"identifier": "email", "value": r.email},
            "json": {"id": str(r.order_id), "total": 10.5},
        }
        for r in rows
    ]
    return queue.register_batch(
        website_id=website.pk,
        import_type="Orders",
        import_mode=ImportMode.BULK_JSON,
        table="email_order",
        rows=[(r.pk, queue.payload_hash(rec)) for r, rec in zip(rows, records, strict=True)],
        payload={"collection": "Orders", "scope": "contact", "type": "orders", "records": records},
    )


def drain(website_code: str | None = None, *, timeout: float = 20.0, **kwargs: Any) -> list[Any]:
    """Run the importer until nothing is pending or importing (or ``timeout``); returns the results."""
    results = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        results.append(importer.run(website_code, **kwargs))
        busy = Importer.objects.filter(import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING])
        if website_code:
            busy = busy.filter(website__code=website_code)
        if not busy.exists():
            return results
        time.sleep(0.1)
    raise AssertionError(
        f"importer did not drain in {timeout}s: {list(busy.values('pk', 'import_status', 'message'))}"
    )


def records(sandbox: Any, username: str, collection: str) -> dict[str, Any]:
    """One insight collection of a sandbox account, by key."""
    coll = sandbox.account(username)["insight"].get(collection) or {"records": []}
    return {r["key"]: r for r in coll["records"]}


def no_import_retries(monkeypatch: Any) -> None:
    """Fail a row at the platform's first failed import (no new import is started)."""
    from dotsync.jobs.importer import state
    from dotsync.jobs.importer.retry import Backoff

    monkeypatch.setattr(state, "BACKOFF", Backoff(import_failures=0))
