"""Websites and dotdigital accounts, resolved once per run, and one client per account.

Websites whose settings name the same (API endpoint, API user) share one :class:`Account`: one
client, one rate-limit budget (the limiter key ``str(account.key)``), one active-import cap.
:class:`RunContext` reads every website's settings once (:func:`~dotsync.config.get_config`, which
decrypts the API password) and groups the valid websites into accounts; jobs and importer rounds
take it instead of reading the settings again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dotsync.config import WebsiteSettings, get_config
from dotsync.crypto import secrets_equal
from dotsync.models import Store, Website
from dotsync.models.scope import fallback_store
from dotsync.platform.dotdigital.models import AccountKey
from dotsync.usage import watch

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

__all__ = [
    "Account",
    "AccountKey",
    "RunContext",
    "WebsiteContext",
    "account_key",
    "cached_client",
    "client_for",
    "clients",
    "group_accounts",
    "reset_clients",
]

_clients: dict[AccountKey, tuple[DotdigitalClient, str]] = {}


def account_key(cfg: WebsiteSettings) -> AccountKey:
    """The identity of a website's account: its base URL (no trailing slash) and API user."""
    return AccountKey(cfg.api_base_url, cfg.api_user)


@dataclass
class WebsiteContext:
    """A website, its settings and its stores, read once per run.

    Attributes:
        account: the account that serves the website (None when its settings are invalid).
    """

    website: Website
    cfg: WebsiteSettings
    stores: dict[int, Store]
    account: Account | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, website: Website, cfg: WebsiteSettings) -> WebsiteContext:
        """Read the website's stores (with their Django sites)."""
        qs = Store.objects.filter(website=website).select_related("site").order_by("id")
        return cls(website, cfg, {s.pk: s for s in qs})

    @property
    def code(self) -> str:
        """The website code (counters in a job result are keyed by it)."""
        return self.website.code

    def store(self, *store_ids: int | None) -> Store | None:
        """The first of ``store_ids`` that is one of this website's stores, else the default store."""
        for store_id in store_ids:
            if store_id is not None and store_id in self.stores:
                return self.stores[store_id]
        default_id = getattr(self.website, "default_store_id", None)
        store_id = fallback_store(default_id if default_id in self.stores else None, self.stores)
        return None if store_id is None else self.stores[store_id]

    def store_name(self, *store_ids: int | None) -> str:
        """The name of :meth:`store` (empty when the website has no store)."""
        store = self.store(*store_ids)
        return store.name if store is not None else ""


@dataclass(eq=False)
class Account:
    """One dotdigital account: one (API endpoint, API user), its settings, its client, its websites.

    The account-level settings are agreed over its websites: when they disagree, the smallest
    ``timeout``, ``max_retries`` and ``max_active_imports`` win (none of them is "the first website's").

    Attributes:
        key: the account's identity.
        websites: its websites with valid settings, in website id order.
    """

    key: AccountKey
    websites: list[WebsiteContext] = field(default_factory=list)

    @property
    def timeout(self) -> float:
        """Seconds before a call counts as timed out (the smallest of the websites' settings)."""
        return min(w.cfg.timeout for w in self.websites)

    @property
    def max_retries(self) -> int:
        """Retries of a call that got no usable answer (the smallest of the websites' settings)."""
        return min(w.cfg.max_retries for w in self.websites)

    @property
    def import_cap(self) -> int:
        """Imports this account may have in progress per kind (the smallest ``max_active_imports``)."""
        return min(w.cfg.max_active_imports for w in self.websites)

    @property
    def website_ids(self) -> list[int]:
        """Ids of the account's websites."""
        return [w.website.pk for w in self.websites]

    @property
    def label(self) -> str:
        """A stable name for the account's job unit: ``account:`` and a short hash of its identity.

        The hash hides the API user; ``email_job_run.scope`` of the jobs run per account holds it.
        """
        import hashlib

        digest = hashlib.sha256(f"{self.key.base_url}|{self.key.api_user}".encode()).hexdigest()[:12]
        return f"account:{digest}"

    @property
    def codes(self) -> str:
        """The account's website codes, for messages: ``"main, fr"``."""
        return ", ".join(w.cfg.website_code for w in self.websites)

    def settings(self) -> dict[int, WebsiteSettings]:
        """Website id -> settings."""
        return {w.website.pk: w.cfg for w in self.websites}

    def client(self) -> DotdigitalClient:
        """The (cached) client for the account. The password is never logged.

        A cached client is rebuilt when the password changed since it was made (compared in
        constant time), so a long-running scheduler picks up new credentials without a restart.
        """
        first = self.websites[0].cfg  # one API user has one password and endpoint: as client_for did
        return _client(
            self.key,
            first.api_password,
            endpoint=first.api_endpoint,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    def cached_client(self) -> DotdigitalClient | None:
        """The client this process made for the account, or None (never creates one)."""
        cached = _clients.get(self.key)
        return cached[0] if cached is not None else None


def group_accounts(websites: list[WebsiteContext]) -> list[Account]:
    """Group valid websites by account, in website order, and point each website at its account."""
    accounts: dict[AccountKey, Account] = {}
    for ctx in websites:
        key = account_key(ctx.cfg)
        ctx.account = accounts.setdefault(key, Account(key))
        ctx.account.websites.append(ctx)
    return list(accounts.values())


@dataclass
class RunContext:
    """The websites and accounts of one run, resolved once.

    Every website's settings are read (and its API password decrypted) once per run; settings
    edited during a run apply from the next run (for ``dotsync sync all``, from the next ``sync``).

    Attributes:
        website_code: the run's ``--website CODE``, or None for every website.
        enabled: the websites dotsync is enabled for, in id order, including those whose settings
            are invalid when ``enabled`` itself could not be read (never taken as on).
        websites: the enabled websites whose settings are valid.
        problems: the settings problems of the others (each job reports them and refuses them).
        accounts: the valid websites grouped by account, in website order.
    """

    website_code: str | None = None
    enabled: list[WebsiteContext] = field(default_factory=list)
    websites: list[WebsiteContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)

    @classmethod
    def resolve(cls, website_code: str | None = None) -> RunContext:
        """Read the enabled websites (all, or ``website_code``), their settings and stores, once."""
        qs = Website.objects.order_by("id")
        if website_code:
            qs = qs.filter(code=website_code)
        enabled: list[tuple[Website, WebsiteSettings]] = []
        for website in qs.iterator():
            cfg = get_config(website)
            if cfg.enabled or "enabled" in cfg.invalid:
                enabled.append((website, cfg))
        stores: dict[int, dict[int, Store]] = defaultdict(dict)
        if enabled:
            ids = [w.pk for w, _ in enabled]
            for store in Store.objects.filter(website_id__in=ids).select_related("site").order_by("id"):
                stores[store.website_id][store.pk] = store
        run = cls(website_code, [WebsiteContext(w, cfg, stores[w.pk]) for w, cfg in enabled])
        for ctx in run.enabled:
            problems = ctx.cfg.problems()
            if problems:
                run.problems.extend(problems)
            else:
                run.websites.append(ctx)
        run.accounts = group_accounts(run.websites)
        return run

    @property
    def website_ids(self) -> list[int]:
        """Ids of the enabled websites in scope (valid or not)."""
        return [w.website.pk for w in self.enabled]

    def websites_where(self, toggle: str | None) -> list[WebsiteContext]:
        """The enabled websites where ``toggle`` (a boolean setting, e.g. ``"sync_orders"``) is on.

        As :attr:`enabled`, a website whose ``toggle`` could not be read is included, so the caller
        reports its problems: callers refuse a website whose settings have problems.
        """
        if not toggle:
            return list(self.enabled)
        return [w for w in self.enabled if getattr(w.cfg, toggle) or toggle in w.cfg.invalid]

    def account_of(self, website_id: int) -> Account:
        """The account serving a valid website.

        Raises:
            LookupError: the website is not in scope or its settings are invalid.
        """
        for account in self.accounts:
            if website_id in account.website_ids:
                return account
        raise LookupError(f"website id {website_id} is not enabled with valid settings in this run")


def _client(
    key: AccountKey, password: str, *, endpoint: str, timeout: float, max_retries: int
) -> DotdigitalClient:
    from dotsync.platform.dotdigital import DotdigitalClient

    cached = _clients.get(key)
    if cached is not None and secrets_equal(cached[1], password):
        return cached[0]
    if cached is not None:
        cached[0].close()
    client = DotdigitalClient(
        key.api_user,
        password,
        base_url=key.base_url,
        endpoint=endpoint or None,
        timeout=timeout,
        max_retries=max_retries,
    )
    watch(client, f"{key.api_user} at {key.base_url}")
    _clients[key] = (client, password)
    return client


def client_for(cfg: WebsiteSettings) -> DotdigitalClient:
    """The (cached) client for a website's account, made with this website's settings if new.

    Jobs use :meth:`Account.client`; this is for callers holding one website's settings.
    """
    return _client(
        account_key(cfg),
        cfg.api_password,
        endpoint=cfg.api_endpoint,
        timeout=cfg.timeout,
        max_retries=cfg.max_retries,
    )


def clients() -> list[DotdigitalClient]:
    """Every cached client (for call statistics)."""
    return [client for client, _password in _clients.values()]


def reset_clients() -> None:
    """Close and forget every cached client (tests, and after configuration changes)."""
    for client, _password in _clients.values():
        client.close()
    _clients.clear()


def cached_client(cfg: WebsiteSettings) -> DotdigitalClient | None:
    """The client this process made for the website's account, or None (never creates one)."""
    cached = _clients.get(account_key(cfg))
    return cached[0] if cached is not None else None
