"""pytest fixtures for a real Oscar shop: the store adapter and a small shop across every store.

Enabled for dotsync's own suite by ``tests/conftest.py`` (``pytest_plugins``); another project can
enable them the same way. They build on the ``scope`` fixture (two websites, three stores).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dotsync.testing.shop import Shop, build_shop

if TYPE_CHECKING:
    from dotsync.store.oscar import OscarAdapter
    from dotsync.testing.scope import Scope


@pytest.fixture
def shop(scope: Scope) -> Shop:
    """A small Oscar shop across all three stores (see :class:`~dotsync.testing.shop.Shop`).

    Products, customers, customer and guest orders, baskets, wishlists, reviews and newsletter
    subscribers.
    """
    return build_shop(scope)


@pytest.fixture
def oscar_adapter(db: None) -> OscarAdapter:
    """The django-oscar store adapter."""
    from dotsync.store.oscar import OscarAdapter

    return OscarAdapter()
