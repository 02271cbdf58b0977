"""Point websites at the sandbox (tests, benchmarks): see :mod:`dotsync.install.sandbox_accounts`.

::

    accounts = configure_websites(sandbox, scope.websites)
    accounts["main"].username  # the API user of website "main"

This module only re-exports the reusable code, which the demo uses too.
"""

from __future__ import annotations

from dotsync.install.sandbox_accounts import (
    BOOKS,
    SandboxAccount,
    SandboxLike,
    configure_website,
    configure_websites,
)

__all__ = ["BOOKS", "SandboxAccount", "SandboxLike", "configure_website", "configure_websites"]
