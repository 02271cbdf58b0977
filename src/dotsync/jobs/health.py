"""What state each account of the websites in scope is in after a run, for reports and exit codes.

Read from the process's cached clients (:mod:`dotsync.accounts`): whether the platform
refused the credentials on its last answer, and whether the account's circuit breaker is open (and
why). Nothing is called: an account this run never called is ``idle``.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from dotsync.accounts import RunContext
from dotsync.platform.dotdigital.policy import STATUS_RULES
from dotsync.platform.dotdigital.reachability import hint


class AccountState(enum.StrEnum):
    """An account's state at the end of a run."""

    OK = "ok"
    IDLE = "idle"
    CREDENTIALS = "credentials"
    UNREACHABLE = "unreachable"


@dataclass
class AccountHealth:
    """One account (websites sharing an API user share one)."""

    websites: list[str]
    state: AccountState
    cause: str = ""
    hint: str = ""

    def line(self) -> str:
        """One line for the account: its websites, the cause, what to do (empty when it is fine)."""
        codes = ", ".join(self.websites)
        if self.state is AccountState.CREDENTIALS:
            return f"website(s) {codes}: the platform refused the API credentials. What to do: {self.hint}"
        if self.state is AccountState.UNREACHABLE:
            return unreachable_line(codes, self.cause)
        return ""


def unreachable_line(codes: str, cause: str) -> str:
    """The line for an account its circuit breaker holds (the same text every round, so it prints once)."""
    cause = cause or "no answer"
    return (
        f"website(s) {codes}: the platform is unreachable ({cause}); the rows stay queued and are sent "
        f"when it answers. What to do: {hint(cause)}"
    )


@dataclass
class Health:
    """The websites in scope, their configuration problems and their accounts' states."""

    websites: int = 0
    config_problems: list[str] = field(default_factory=list)
    accounts: list[AccountHealth] = field(default_factory=list)

    def states(self) -> set[AccountState]:
        """The accounts' states."""
        return {a.state for a in self.accounts}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "websites": self.websites,
            "config_problems": self.config_problems,
            "accounts": [{**asdict(a), "state": str(a.state)} for a in self.accounts],
        }


def check(website_code: str | None = None, *, ctx: RunContext | None = None) -> Health:
    """The health of the enabled websites in scope (``--website CODE``, or all).

    Args:
        website_code: only this website.
        ctx: the run's websites and accounts (None: resolved here for ``website_code``).
    """
    ctx = ctx or RunContext.resolve(website_code)
    health = Health(websites=len(ctx.enabled), config_problems=list(ctx.problems))
    for account in ctx.accounts:
        codes = [w.cfg.website_code for w in account.websites]
        client = account.cached_client()
        if client is None:
            health.accounts.append(AccountHealth(codes, AccountState.IDLE))
        elif client.stats.credentials_refused:
            health.accounts.append(AccountHealth(codes, AccountState.CREDENTIALS, "", STATUS_RULES[401].hint))
        elif client.breaker.is_open or client.breaker.failures:  # the last call got no answer
            cause = client.breaker.cause
            health.accounts.append(AccountHealth(codes, AccountState.UNREACHABLE, cause, hint(cause)))
        else:
            health.accounts.append(AccountHealth(codes, AccountState.OK))
    return health
