"""End-to-end fixtures: the small Oscar shop synced into the sandbox over real HTTP on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from dotsync.install.backfill import backfill
from dotsync.jobs.automap import automap
from dotsync.jobs.runner import sync_all
from dotsync.testing.platform_setup import SandboxAccount, configure_websites
from dotsync.testing.shop import Shop, subscribe


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def accounts(shop: Shop, sandbox: Any) -> dict[str, SandboxAccount]:
    """One sandbox account per website with its data fields (``datafields automap``); history installed."""
    # a confirmed subscriber of main_fr, the store that requires confirmation (Double opt-in)
    subscribe("zoe@example.com", shop.scope.main_fr)
    out = configure_websites(sandbox, shop.scope.websites)
    automap()
    backfill()
    return out


def run_sync(**kwargs: Any) -> dict[str, Any]:
    """``sync all`` to completion; fails the test when the queue does not drain."""
    summary = sync_all(timeout=60, **kwargs)
    assert summary["drained"], summary
    assert not summary["errors"], summary["errors"]
    return summary
