"""Fixtures for observer tests: a real Oscar shop, with on-commit callbacks run as Django would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from oscar.core.loading import get_class, get_model
from oscar.test import factories

Default = get_class("partner.strategy", "Default")


@pytest.fixture
def committed(django_capture_on_commit_callbacks) -> Callable[[], AbstractContextManager[list]]:
    """``with committed(): ...`` runs the block's on-commit callbacks at the end, as a real commit would."""

    def make() -> AbstractContextManager[list]:
        return django_capture_on_commit_callbacks(execute=True)

    return make


@pytest.fixture
def product(db):
    return factories.create_product(price=Decimal("12.50"), num_in_stock=50)


@pytest.fixture
def customer(scope):
    return factories.UserFactory(email="ada@example.com", username="ada")


def new_basket(owner=None):
    basket = get_model("basket", "Basket").objects.create(owner=owner)
    basket.strategy = Default()
    return basket


@pytest.fixture
def place_order(product) -> Iterator[Callable[..., object]]:
    """Place an order through Oscar's real ``OrderCreator`` (via ``factories.create_order``)."""

    def place(user=None, *, site=None, guest_email: str = "", qty: int = 1):
        basket = new_basket(user)
        basket.add_product(product, qty)
        extra = {}
        if site is not None:
            extra["site"] = site
        if guest_email:
            extra["guest_email"] = guest_email
        return factories.create_order(user=user, basket=basket, **extra)

    yield place
