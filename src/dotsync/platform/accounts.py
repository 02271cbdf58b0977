"""Moved to :mod:`dotsync.accounts`; this re-export goes once nothing imports it.

Still imported by ``tests/e2e/test_storms.py`` and ``platform/sandbox_setup.py`` (moving to
``install/sandbox_accounts.py``). The platform layer must not import ``dotsync.accounts``: delete
this module when those imports are switched.
"""

from dotsync.accounts import account_key, cached_client, client_for, clients, reset_clients

__all__ = ["account_key", "cached_client", "client_for", "clients", "reset_clients"]
