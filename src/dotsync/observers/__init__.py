"""Store observers: cheap, idempotent, non-raising receivers that mark sync rows as modified.

:func:`connect` is called from :meth:`dotsync.apps.DotsyncConfig.ready`.
"""

from __future__ import annotations


def connect() -> None:
    """Connect every observer to its signal (idempotent)."""
