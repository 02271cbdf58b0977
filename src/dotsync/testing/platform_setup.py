"""Point websites at the sandbox: one account per website (or one shared), address books, settings.

Used by tests, the demo and the benchmark::

    accounts = configure_websites(sandbox, scope.websites)
    accounts["main"].username  # the API user of website "main"

Each website gets an enabled :class:`~dotsync.models.WebsiteConfig` with the API user, the encrypted
password, ``api_base_url`` = the sandbox URL, and three address books (customers, subscribers,
guests) created on the account through the real client. Cached clients are dropped, so the next job
run talks to the new accounts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dotsync.models import Website, WebsiteConfig

BOOKS = ("customers", "subscribers", "guests")
"""The address books each website needs, by configuration name."""


class SandboxLike(Protocol):
    """What this module needs from the sandbox fixture."""

    url: str

    def create_account(self, username: str, password: str) -> Any:
        """Create an API user on the sandbox."""
        ...


@dataclass
class SandboxAccount:
    """An API user on the sandbox and the address books made for it.

    Attributes:
        username: the API user.
        password: its password (test data only).
        address_books: configuration name (``customers``...) -> address book id.
        websites: codes of the websites that use this account.
    """

    username: str
    password: str
    address_books: dict[str, int] = field(default_factory=dict)
    websites: list[str] = field(default_factory=list)


def configure_websites(
    sandbox: SandboxLike,
    websites: Iterable[Website],
    *,
    shared_account: bool = False,
    password: str = "sandbox-pass-1",
    **settings: Any,
) -> dict[str, SandboxAccount]:
    """Create sandbox accounts and configure ``websites`` to sync to them.

    Args:
        sandbox: the sandbox fixture (``.url``, ``.create_account``).
        websites: the websites to configure.
        shared_account: one account (and one set of address books) for all the websites, as when
            several websites share an API user; otherwise one account per website.
        password: the API password of every account created.
        **settings: other :class:`~dotsync.models.WebsiteConfig` fields (``sync_orders=False``...) or
            setting keys stored in ``extra`` (``max_active_imports=2``...).

    Returns:
        Website code -> its account.
    """
    from dotsync.platform.accounts import reset_clients
    from dotsync.platform.dotdigital import DotdigitalClient, clear_endpoint_cache

    out: dict[str, SandboxAccount] = {}
    shared: SandboxAccount | None = None
    for website in websites:
        account = shared
        if account is None:
            account = SandboxAccount(
                f"apiuser-{website.code}-{uuid.uuid4().hex[:8]}@apiconnector.com", password
            )
            sandbox.create_account(account.username, account.password)
            with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
                for book in BOOKS:
                    created = client.create_address_book(f"{book.title()} {uuid.uuid4().hex[:6]}")
                    account.address_books[book] = int(created["id"])
            if shared_account:
                shared = account
        account.websites.append(website.code)
        _configure(website, account, sandbox.url, settings)
        out[website.code] = account
    reset_clients()
    clear_endpoint_cache()
    return out


def _configure(website: Website, account: SandboxAccount, url: str, settings: dict[str, Any]) -> None:
    row, _ = WebsiteConfig.objects.get_or_create(website=website)
    row.enabled = True
    row.api_user = account.username
    row.set_api_password(account.password)
    row.api_base_url = url
    row.api_endpoint = ""
    for book, book_id in account.address_books.items():
        setattr(row, f"{book}_address_book_id", book_id)
    extra = dict(row.extra or {})
    for key, value in settings.items():
        if hasattr(row, key) and key not in ("extra", "website", "id"):
            setattr(row, key, value)
        else:
            extra[key] = value
    row.extra = extra or None
    row.save()
