"""Point websites at the sandbox (tests, benchmarks): see :mod:`dotsync.platform.sandbox_setup`.

::

    accounts = configure_websites(sandbox, scope.websites)
    accounts["main"].username  # the API user of website "main"

This module only re-exports the reusable code, which the demo uses too.
"""

from __future__ import annotations

from dotsync.platform.sandbox_setup import (
    BOOKS,
    SandboxAccount,
    SandboxLike,
    configure_website,
    configure_websites,
)

__all__ = ["BOOKS", "SandboxAccount", "SandboxLike", "configure_website", "configure_websites"]
