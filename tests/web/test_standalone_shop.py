"""The standalone project (``dotsync serve``) serves Oscar's shop beside the admin and the storefront URLs.

A restore link then lands on a real basket page, and the newsletter and tracking pages render in the
shop's layout, without a host project.
"""

from __future__ import annotations

import pytest
from django.test import Client

from dotsync.testing.shop import Shop


@pytest.mark.parametrize("url", ["/catalogue/", "/basket/", "/accounts/login/", "/search/?q=mug"])
def test_oscar_pages_render(client: Client, shop: Shop, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert b"<html" in response.content.lower()
