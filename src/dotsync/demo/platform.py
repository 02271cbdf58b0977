"""The demo's platform side: a sandbox, one account per website, a sync, and what reached the platform.

* :func:`open_sandbox` starts an in-process sandbox on ``<var>/sandbox.sqlite3`` (recreated each run,
  so ``dotsync sandbox --db var/sandbox.sqlite3`` shows it afterwards), or connects to a running one.
* :func:`connect_websites` creates ``demo-<website>@apiconnector.com`` on it (``POST /sandbox/accounts``)
  with address books ``Customers``, ``Subscribers`` and ``Guests``, and configures the website
  (password stored encrypted, never printed).
* :func:`suppress_demo_emails` globally suppresses two seeded contacts per website before the sync,
  so the sync meets ``Globally Suppressed`` faults and unsubscribes them locally.
* :func:`platform_summary` reads each account back from ``GET /sandbox/state?account=USER``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from dotsync.crypto import allow_default_key
from dotsync.install.sandbox_accounts import BOOKS, SandboxAccount, configure_websites
from dotsync.models import Contact, Website
from dotsync.platform.sandbox.control import SandboxControl, SandboxError

SUPPRESSED_PER_WEBSITE = 2
"""Seeded contacts per website suppressed in the sandbox before the sync."""

BROWSE_PORT = 8899
"""Port ``dotsync sandbox`` listens on by default (for the "browse it afterwards" hint)."""


class PlatformError(Exception):
    """The demo cannot use the sandbox; the message says what to do."""


@dataclass
class DemoSandbox:
    """The sandbox the demo talks to.

    Attributes:
        control: its ``/sandbox/`` control client.
        url: its base URL.
        database: the in-process sandbox's SQLite file; None for a sandbox given by URL.
    """

    control: SandboxControl
    url: str
    database: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form: URL, database, whether it ran in-process, and how to browse it."""
        return {
            "url": self.url,
            "database": self.database,
            "in_process": self.database is not None,
            "browse": browse_hint(self),
        }


def browse_hint(sandbox: DemoSandbox) -> str:
    """How to look at what was sent, once the demo has exited."""
    if sandbox.database is None:
        return f"{sandbox.url}/sandbox/"
    return f"dotsync sandbox --db {sandbox.database}  then open http://127.0.0.1:{BROWSE_PORT}/sandbox/"


def demo_username(code: str) -> str:
    """The demo's API user of a website: ``demo-<code>@apiconnector.com``."""
    return f"demo-{code}@apiconnector.com"


def demo_password(code: str) -> str:
    """A fixed per-website sandbox password; stored encrypted in ``WebsiteConfig``, never printed.

    The same every run, so a rerun against a running sandbox reuses its demo accounts.
    """
    return "demo-" + hashlib.sha256(f"dotsync-demo:{code}".encode()).hexdigest()[:20]


def demo_book_name(book: str) -> str:
    """Address-book names on the demo accounts: ``Customers``, ``Subscribers``, ``Guests``."""
    return book.title()


def reach_sandbox(url: str) -> SandboxControl:
    """A control client for the sandbox at ``url``, once it has answered.

    Raises:
        PlatformError: nothing (or not a sandbox) answers there; the message says how to start one.
    """
    control = SandboxControl(url, timeout=5.0)
    try:
        control.faults()
    except (httpx.HTTPError, httpx.InvalidURL, SandboxError, ValueError) as exc:
        control.close()
        hint = "" if "://" in url else "; the URL needs a scheme, e.g. http://127.0.0.1:8899"
        raise PlatformError(
            f"No dotdigital sandbox answers at {url} ({type(exc).__name__}{hint}). Start one in another "
            f"terminal with `dotsync sandbox` (it listens on http://127.0.0.1:{BROWSE_PORT}), or "
            "drop --sandbox-url to let the demo run its own."
        ) from exc
    return control


@contextmanager
def open_sandbox(var_dir: Path, url: str | None = None) -> Iterator[DemoSandbox]:
    """The demo's sandbox: the one at ``url``, else an in-process one on ``var_dir/sandbox.sqlite3``.

    Raises:
        PlatformError: ``url`` does not answer as a sandbox, or the sandbox database cannot be made.
    """
    if url:
        control = reach_sandbox(url)
        try:
            yield DemoSandbox(control, control.url, None)
        finally:
            control.close()
        return
    from dotsync.platform.sandbox.server import run_in_thread

    path = var_dir / "sandbox.sqlite3"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        handle = run_in_thread(db_path=str(path))
    except (OSError, RuntimeError) as exc:
        raise PlatformError(
            f"Cannot start the demo's sandbox on {path}: {exc}. Set DOTSYNC_VAR_DIR to a writable "
            "directory, or start one with `dotsync sandbox` and pass --sandbox-url."
        ) from exc
    control = SandboxControl(handle.url)
    try:
        yield DemoSandbox(control, handle.url, str(path))
    finally:
        control.close()
        handle.stop()


def connect_websites(sandbox: DemoSandbox) -> dict[str, SandboxAccount]:
    """Create the demo accounts on the sandbox and configure every website against them.

    Raises:
        PlatformError: the sandbox refused an account (e.g. it exists with another password).
    """
    from dotsync.jobs.automap import automap

    try:
        with allow_default_key():  # the demo's sandbox passwords are public anyway (demo_password)
            accounts = configure_websites(
                sandbox.control,
                Website.objects.order_by("id"),
                password=demo_password,
                username=demo_username,
                book_name=demo_book_name,
            )
    except SandboxError as exc:
        raise PlatformError(
            f"The sandbox at {sandbox.url} refused the demo accounts: {exc}. Reset it "
            f"(`curl -X POST {sandbox.url}/sandbox/reset`) or restart it, then run the demo again."
        ) from exc
    automap()
    return accounts


def suppress_demo_emails(sandbox: DemoSandbox, per_website: int = SUPPRESSED_PER_WEBSITE) -> dict[str, int]:
    """Globally suppress ``per_website`` seeded contacts of each website in the sandbox.

    The picks are deterministic (subscribers first, by email) and belong to one website only: no
    contact, order, basket, wishlist or review of another website has their email or customer (the
    sync makes a contact for a customer's basket, wishlist or review in its website). So each website's
    sync meets exactly ``per_website`` ``Globally Suppressed`` addresses.

    Returns:
        Website code -> how many addresses were suppressed.
    """
    from dotsync.models import Order, Quote, Review, Wishlist

    out: dict[str, int] = {}
    for website in Website.objects.order_by("id"):
        picks = Contact.objects.filter(website=website).exclude(
            email__in=Contact.objects.exclude(website=website).values("email")
        )
        for model in (Order, Quote, Wishlist, Review):
            others = model.objects.exclude(website=website).exclude(customer_id=None)
            picks = picks.exclude(customer_id__in=others.values_list("customer_id", flat=True))
        emails = list(picks.order_by("-is_subscriber", "email").values_list("email", flat=True)[:per_website])
        for email in emails:
            sandbox.control.suppress(email)
        out[website.code] = len(emails)
    return out


def platform_summary(
    sandbox: DemoSandbox, accounts: dict[str, SandboxAccount], sync: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """What reached each website's account, read from the sandbox, next to the local importer totals.

    Args:
        sandbox: the demo's sandbox.
        accounts: website code -> its account.
        sync: the ``sync_all`` summary (its ``importer`` totals per website).

    Returns:
        Website code -> ``account``, ``contacts``, ``address_books`` (name -> contacts),
        ``collections`` (insight collection -> records), ``imports`` (``total``, ``by_kind``,
        ``by_status``), ``faults`` (reason -> distinct addresses),
        ``fault_rows`` (reason -> fault-report rows: an address in two imports, e.g. Customers and
        Subscribers, counts twice), ``api_calls`` (the sandbox's request log for the
        user), ``importer`` (the local totals) and ``suppressed_locally`` (contacts unsubscribed here).
    """
    out: dict[str, dict[str, Any]] = {}
    for code, account in accounts.items():
        full = sandbox.control.state(account.username)
        state = full["accounts"][account.username]
        wanted = {demo_book_name(b) for b in BOOKS}
        rows: Counter[str] = Counter()
        addresses: dict[str, set[str]] = {}
        for item in state["imports"]:
            for fault in item.get("faults") or []:
                rows[fault["reason"]] += 1
                addresses.setdefault(fault["reason"], set()).add(fault["email"].lower())
        out[code] = {
            "account": account.username,
            "contacts": len(state["contacts"]),
            "address_books": {
                b["name"]: b["contacts"] for b in state["address_books"] if b["name"] in wanted
            },
            "collections": {name: len(c["records"]) for name, c in sorted(state["insight"].items())},
            "imports": {
                "total": len(state["imports"]),
                "by_kind": dict(Counter(i["kind"] for i in state["imports"])),
                "by_status": dict(Counter(i["status"] for i in state["imports"])),
            },
            "faults": {reason: len(emails) for reason, emails in sorted(addresses.items())},
            "fault_rows": dict(sorted(rows.items())),
            "api_calls": full["requests"]["total"],
            "importer": sync.get("importer", {}).get(code, {}),
            "suppressed_locally": Contact.objects.filter(website__code=code, suppressed=True).count(),
        }
    return out
