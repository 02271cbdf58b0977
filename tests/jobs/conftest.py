"""Job tests write their files (archived import CSVs) under a temporary ``VAR_DIR``, not ./var."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
