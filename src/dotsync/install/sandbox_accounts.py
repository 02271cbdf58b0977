"""Point websites at sandbox accounts: one account per website (or one shared), address books, settings.

Used by the demo, the tests and the benchmark::

    with SandboxControl(url) as sandbox:
        accounts = configure_websites(sandbox, Website.objects.order_by("id"))
    accounts["main"].username  # the API user of website "main"

Each website gets an enabled :class:`~dotsync.models.WebsiteConfig` with the API user, the encrypted
password, ``api_base_url`` = the sandbox URL, and three address books (customers, subscribers,
guests) made on the account through the real client. Accounts are created through the sandbox's
``POST /sandbox/accounts`` (:class:`~dotsync.platform.sandbox.control.SandboxControl`). Cached clients
are dropped, so the next job run talks to the new accounts.

By default user and address-book names are unique per call (tests share one sandbox); pass
``username`` / ``book_name`` for fixed names (the demo), in which case address books that already
exist on the account under those names are reused, so a rerun against the same sandbox works.
"""

from __future__ import annotations

import contextlib
import ipaddress
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dotsync.crypto import allow_default_key
from dotsync.models import Website, WebsiteConfig

BOOKS = ("customers", "subscribers", "guests")
"""The address books each website needs, by configuration name."""


class SandboxLike(Protocol):
    """What this module needs from a sandbox (``SandboxControl`` or the test fixture)."""

    url: str

    def create_account(self, username: str, password: str) -> Any:
        """Create an API user on the sandbox."""
        ...


@dataclass
class SandboxAccount:
    """An API user on the sandbox and the address books made for it.

    Attributes:
        username: the API user.
        password: its password (sandbox data only; never printed).
        address_books: configuration name (``customers``...) -> address book id.
        websites: codes of the websites that use this account.
    """

    username: str
    password: str = field(repr=False)
    address_books: dict[str, int] = field(default_factory=dict)
    websites: list[str] = field(default_factory=list)


def random_username(code: str) -> str:
    """A user name unique to this call: ``apiuser-<code>-<hex>@apiconnector.com``."""
    return f"apiuser-{code}-{uuid.uuid4().hex[:8]}@apiconnector.com"


def random_book_name(book: str) -> str:
    """An address-book name unique to this call: ``Customers 1a2b3c``."""
    return f"{book.title()} {uuid.uuid4().hex[:6]}"


def configure_websites(
    sandbox: SandboxLike,
    websites: Iterable[Website],
    *,
    shared_account: bool = False,
    password: str | Callable[[str], str] = "sandbox-pass-1",
    username: Callable[[str], str] = random_username,
    book_name: Callable[[str], str] | None = None,
    **settings: Any,
) -> dict[str, SandboxAccount]:
    """Create sandbox accounts and configure ``websites`` to sync to them.

    Args:
        sandbox: the sandbox (``.url``, ``.create_account``), e.g. a ``SandboxControl``.
        websites: the websites to configure.
        shared_account: one account (and one set of address books) for all the websites, as when
            several websites share an API user; otherwise one account per website.
        password: the API password of every account, or website code -> password.
        username: website code -> API user (default: unique per call).
        book_name: configuration name (``customers``...) -> address-book name. None: unique per
            call, always created; given: reused when the account already has a book of that name.
        **settings: other :class:`~dotsync.models.WebsiteConfig` fields (``sync_orders=False``...) or
            setting keys stored in ``extra`` (``max_active_imports=2``...).

    Returns:
        Website code -> its account.
    """
    from dotsync.accounts import reset_clients
    from dotsync.platform.dotdigital import clear_endpoint_cache

    out: dict[str, SandboxAccount] = {}
    shared: SandboxAccount | None = None
    for website in websites:
        account = shared
        if account is None:
            secret = password(website.code) if callable(password) else password
            account = SandboxAccount(username(website.code), secret)
            sandbox.create_account(account.username, account.password)
            account.address_books = make_address_books(sandbox.url, account, book_name)
            if shared_account:
                shared = account
        account.websites.append(website.code)
        configure_website(website, account, sandbox.url, **settings)
        out[website.code] = account
    reset_clients()
    clear_endpoint_cache()
    return out


def make_address_books(
    url: str, account: SandboxAccount, book_name: Callable[[str], str] | None = None
) -> dict[str, int]:
    """Create (or, with fixed names, find) the account's three address books through the real client.

    Returns:
        Configuration name -> address book id.
    """
    from dotsync.platform.dotdigital import DotdigitalClient

    books: dict[str, int] = {}
    with DotdigitalClient(account.username, account.password, base_url=url) as client:
        existing: dict[str, int] = {}
        if book_name is not None:
            existing = {str(b["name"]): int(b["id"]) for b in client.list_address_books()}
        for book in BOOKS:
            name = (book_name or random_book_name)(book)
            books[book] = existing[name] if name in existing else int(client.create_address_book(name)["id"])
    return books


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (127.0.0.0/8, ::1 or localhost)."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configure_website(website: Website, account: SandboxAccount, url: str, **settings: Any) -> None:
    """Enable ``website`` against ``account`` at ``url``; the password is stored encrypted.

    Args:
        website: the website to configure.
        account: its API user, password and address books.
        url: the platform's base URL (the sandbox's).
        **settings: see :func:`configure_websites`.
    """
    row, _ = WebsiteConfig.objects.get_or_create(website=website)
    row.enabled = True
    row.api_user = account.username
    with allow_default_key() if is_loopback(url) else contextlib.nullcontext():
        row.set_api_password(account.password)  # a loopback sandbox's password protects nothing
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
