"""Shared by the newsletter form tests and the browser test: the main website synced into the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dotsync.install.backfill import backfill
from dotsync.jobs.automap import automap
from dotsync.jobs.runner import sync_all
from dotsync.models import NewsletterSubscriber, Website, WebsiteConfig
from dotsync.models.newsletter import SubscriberStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.testing.platform_setup import SandboxAccount, configure_websites

EXTRA_BOOK = "Offers"


@dataclass
class Platform:
    """The main website's sandbox account, and the id of an extra address book customers may join."""

    sandbox: Any
    account: SandboxAccount
    offers_book: int

    def contact(self, email: str) -> dict[str, Any] | None:
        """The sandbox's contact of ``email`` (its ``status``, ``address_books`` names, ``data_fields``)."""
        state = self.sandbox.account(self.account.username)
        return next((c for c in state["contacts"] if c["email"].lower() == email.lower()), None)

    def books(self, email: str) -> set[str]:
        """The names of the address books ``email`` is in on the platform."""
        contact = self.contact(email)
        return set(contact["address_books"]) if contact else set()

    def book_name(self, kind: str) -> str:
        """The platform name of the ``customers``/``subscribers``/``guests`` book, or of ``offers``."""
        book_id = self.offers_book if kind == "offers" else self.account.address_books[kind]
        state = self.sandbox.account(self.account.username)
        return next(b["name"] for b in state["address_books"] if b["id"] == book_id)


def connect(sandbox: Any, website: Website, **settings: Any) -> Platform:
    """Point ``website`` at a new sandbox account with an extra ``Offers`` book, offered on the preferences
    page with the first name (``newsletter_books``, ``newsletter_fields``); data fields and history set up."""
    account = configure_websites(sandbox, [website])[website.code]
    with DotdigitalClient(account.username, account.password, base_url=sandbox.url) as client:
        offers = int(client.create_address_book(EXTRA_BOOK)["id"])
    row = WebsiteConfig.objects.get(website=website)
    row.extra = {
        **(row.extra or {}),
        "newsletter_books": {str(offers): EXTRA_BOOK},
        "newsletter_fields": ["firstname"],
        **settings,
    }
    row.save()
    automap()
    backfill()
    return Platform(sandbox, account, offers)


def run_sync(website: str = "main") -> dict[str, Any]:
    """``sync all`` for the website until the queue drains; fails the test otherwise."""
    summary = sync_all(website, timeout=60)
    assert summary["drained"], summary
    assert not summary["errors"], summary["errors"]
    return summary


def assert_agree(platform: Platform, email: str, store: Any) -> None:
    """``newsletter_subscriber`` and the platform agree: subscribed <=> in the subscribers address book."""
    row = NewsletterSubscriber.objects.filter(subscriber_email=email, store=store).first()
    subscribed = row is not None and row.subscriber_status == SubscriberStatus.SUBSCRIBED
    assert (platform.book_name("subscribers") in platform.books(email)) == subscribed, (
        row and row.subscriber_status,
        platform.contact(email),
    )
