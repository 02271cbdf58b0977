"""Which dotdigital account serves a website, and one client per account.

Websites that share an API user share one account: one client, one rate-limit budget, one
active-import cap. Jobs group by :func:`account_key` and call :func:`client_for`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dotsync.config import WebsiteSettings
from dotsync.crypto import secrets_equal

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

_clients: dict[tuple[str, str], tuple[DotdigitalClient, str]] = {}


def account_key(cfg: WebsiteSettings) -> tuple[str, str]:
    """The identity of a website's account: (base URL, API user)."""
    return (cfg.api_base_url.rstrip("/"), cfg.api_user)


def client_for(cfg: WebsiteSettings) -> DotdigitalClient:
    """The (cached) client for a website's account. The password is never logged.

    A cached client is rebuilt when the account's password changed since it was made (compared in
    constant time), so a long-running scheduler picks up new credentials without a restart.
    """
    from dotsync.platform.dotdigital import DotdigitalClient

    key = account_key(cfg)
    cached = _clients.get(key)
    if cached is not None and secrets_equal(cached[1], cfg.api_password):
        return cached[0]
    if cached is not None:
        cached[0].close()
    client = DotdigitalClient(
        cfg.api_user,
        cfg.api_password,
        base_url=cfg.api_base_url,
        endpoint=cfg.api_endpoint or None,
        timeout=cfg.timeout,
        max_retries=cfg.max_retries,
    )
    _clients[key] = (client, cfg.api_password)
    return client


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
