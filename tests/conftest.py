"""Shared fixtures. Oscar's shop runs for real: pytest-django with --no-migrations builds its tables."""

from __future__ import annotations

import pytest

from dotsync.testing.scope import Scope, make_scope


@pytest.fixture
def scope(db: None) -> Scope:
    """Two websites, three stores, each store on its own Django Site."""
    return make_scope()
