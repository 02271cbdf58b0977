"""A small client for the sandbox's ``/sandbox/`` control API (tests, the demo, ``--sandbox-url``).

Example::

    sb = SandboxControl("http://127.0.0.1:8899")
    sb.reset()
    sb.create_account("apiuser-main@apiconnector.com", "secret")
    sb.suppress("gone@example.com")                  # global suppression
    sb.resubscribe("back@example.com", "apiuser-main@apiconnector.com")
    sb.set_faults(rate_limit_per_minute=30)
    contacts = sb.contacts("apiuser-main@apiconnector.com")
"""

from __future__ import annotations

import os
from typing import Any

import httpx


class SandboxError(RuntimeError):
    """The sandbox refused a control call; the message says why."""


class SandboxControl:
    """Drive a running sandbox over HTTP.

    Attributes:
        url: the sandbox base URL (also the ``ApiEndpoint`` its accounts report).
    """

    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        """Connect to the sandbox at ``url``.

        ``token`` is the sandbox's control token (default: ``DOTSYNC_SANDBOX_CONTROL_TOKEN``); it is needed
        only when the sandbox is not on this machine's loopback.
        """
        self.url = url.rstrip("/")
        token = token if token is not None else os.environ.get("DOTSYNC_SANDBOX_CONTROL_TOKEN")
        headers = {"X-Sandbox-Token": token} if token else None
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", response.text)
            except ValueError:
                detail = response.text
            raise SandboxError(f"{method} {path} failed with {response.status_code}: {detail}")
        return response.json()

    def create_account(self, username: str, password: str) -> dict[str, Any]:
        """Create an API user/account (idempotent for the same password).

        Returns:
            ``{"id", "username", "api_endpoint", "created"}``.
        """
        result: dict[str, Any] = self._call(
            "POST", "/sandbox/accounts", json={"username": username, "password": password}
        )
        return result

    def state(self, account: str | None = None) -> dict[str, Any]:
        """``GET /sandbox/state``: accounts (or one), global suppressions, the request log and the knobs."""
        params = {"account": account} if account else None
        result: dict[str, Any] = self._call("GET", "/sandbox/state", params=params)
        return result

    def account(self, username: str) -> dict[str, Any]:
        """The state of one account (contacts, address books, insight, sends, enrolments, SMS, imports)."""
        accounts = self.state(username)["accounts"]
        if username not in accounts:
            raise SandboxError(f"no sandbox account {username!r}; create it with create_account()")
        result: dict[str, Any] = accounts[username]
        return result

    def deliveries(self, username: str) -> dict[tuple[int, str], int]:
        """How many times each (campaign id, email) was sent to in an account (every send, every contact)."""
        counts: dict[tuple[int, str], int] = {}
        for d in self.account(username).get("deliveries", []):
            key = (int(d["campaign_id"]), str(d["email"]))
            counts[key] = counts.get(key, 0) + 1
        return counts

    def contacts(self, username: str) -> dict[str, dict[str, Any]]:
        """One account's contacts keyed by lower-cased email."""
        return {c["email"].lower(): c for c in self.account(username)["contacts"]}

    def requests(self, account: str | None = None) -> dict[str, Any]:
        """The request log: ``total``, ``by_endpoint``, ``by_status``, ``by_endpoint_status``."""
        result: dict[str, Any] = self.state(account)["requests"]
        return result

    def suppress(self, email: str, account: str | None = None, reason: str | None = None) -> dict[str, Any]:
        """Suppress an address in one account (``reason`` default Unsubscribed), or globally without one."""
        body: dict[str, Any] = {"email": email}
        if account is not None:
            body["account"] = account
        if reason is not None:
            body["reason"] = reason
        result: dict[str, Any] = self._call("POST", "/sandbox/suppress", json=body)
        return result

    def resubscribe(self, email: str, account: str) -> dict[str, Any]:
        """The contact resubscribes in one account (as if confirmed): ``Subscribed``, ``LASTSUBSCRIBED`` now.

        Returns:
            ``{"email", "account", "status", "contact_id", "last_subscribed"}``.
        """
        result: dict[str, Any] = self._call(
            "POST", "/sandbox/resubscribe", json={"email": email, "account": account}
        )
        return result

    def set_faults(self, reset: bool = False, **knobs: Any) -> dict[str, Any]:
        """Change fault knobs (see ``Faults``); ``reset=True`` first restores the start-up knobs.

        Returns:
            Every knob after the change.
        """
        body = dict(knobs)
        if reset:
            body["reset"] = True
        result: dict[str, Any] = self._call("POST", "/sandbox/faults", json=body)
        return result

    def faults(self) -> dict[str, Any]:
        """The current knobs."""
        result: dict[str, Any] = self._call("GET", "/sandbox/faults")
        return result

    def reset(self) -> None:
        """Clear all state (start-up accounts and knobs come back)."""
        self._call("POST", "/sandbox/reset")
