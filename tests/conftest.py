"""Shared fixtures. Oscar's shop runs for real: pytest-django with --no-migrations builds its tables.

Area fixtures live in the package so other adapters' test suites can reuse them:
``dotsync.testing.shop_fixtures`` (the Oscar shop) and ``dotsync.testing.sandbox_fixtures`` (the
sandbox over real HTTP on loopback).
"""

from __future__ import annotations

import os

import pytest

# Tests store API passwords, which dotsync refuses under the public default SECRET_KEY; child
# processes (CLI, crash tests) inherit this key. tests/test_config.py unsets it to test the refusal.
os.environ.setdefault("DOTSYNC_ENCRYPTION_KEY", "dotsync-tests-only-encryption-key")

from dotsync.testing.scope import Scope, make_scope

pytest_plugins = ["dotsync.testing.shop_fixtures", "dotsync.testing.sandbox_fixtures"]


@pytest.fixture
def scope(db: None) -> Scope:
    """Two websites, three stores, each store on its own Django Site."""
    return make_scope()
