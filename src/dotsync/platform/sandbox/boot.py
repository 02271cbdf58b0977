"""What the sandbox was started with: accounts and fault knobs that come back after ``/sandbox/reset``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dotsync.platform.sandbox.accounts import create_account
from dotsync.platform.sandbox.faults import FaultState
from dotsync.platform.sandbox.storage import Store


def parse_account(text: str) -> tuple[str, str]:
    """``USER:PASSWORD`` -> (user, password); the password may contain ``:``."""
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ValueError(f"accounts are given as USER:PASSWORD, got {text.split(':')[0]!r}...")
    return user, password


def parse_accounts_file(text: str) -> list[tuple[str, str]]:
    """An accounts file: one ``USER:PASSWORD`` a line; blank lines and lines starting ``#`` are skipped."""
    lines = (line.strip() for line in text.splitlines())
    return [parse_account(line) for line in lines if line and not line.startswith("#")]


def parse_accounts_env(text: str) -> list[tuple[str, str]]:
    """``DOTSYNC_SANDBOX_ACCOUNTS``: ``USER:PASSWORD`` pairs separated by whitespace or newlines."""
    return [parse_account(word) for word in text.split()]


@dataclass
class Boot:
    """Start-up accounts (user, password) and knob overrides."""

    accounts: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, accounts: Iterable[tuple[str, str] | str] = (), faults: dict[str, Any] | None = None) -> Boot:
        """Build from ``(user, password)`` pairs or ``"USER:PASSWORD"`` strings."""
        pairs = [parse_account(a) if isinstance(a, str) else (a[0], a[1]) for a in accounts]
        return cls(pairs, dict(faults or {}))

    def apply(self, store: Store, state: FaultState, *, knobs: bool = True) -> None:
        """Create the start-up accounts (idempotent) and restore the start-up knobs."""
        for user, password in self.accounts:
            create_account(store, user, password)
        if knobs:
            state.set(self.faults, reset=True)
