"""Fixtures the automation job tests share: the clock frozen at the module's ``T0``, the main website
enabled, a logged-in staff client for the admin grids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from tests.jobs.batch_helpers import enable


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """time-machine frozen (no tick) at the requesting test module's ``T0``; move it with ``move_to``."""
    with time_machine.travel(request.module.T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def main(scope: Any) -> Any:
    """The main website enabled (fake credentials: the importer is not run here); returns the scope."""
    enable(scope.main)
    return scope


@pytest.fixture
def staff(client: Any) -> Any:
    """The Django test client logged in as a superuser."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    return client


@pytest.fixture
def admin_act(staff: Any) -> Any:
    """``admin_act(url, action, *rows)``: run the admin action ``action`` of the grid at ``url`` on
    ``rows`` as the staff user; returns the response (redirects followed)."""

    def act(url: str, action: str, *rows: Any) -> Any:
        return staff.post(url, {"action": action, "_selected_action": [str(r.pk) for r in rows]}, follow=True)

    return act
