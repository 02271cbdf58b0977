"""The fuzz lane runs only when asked for by marker (``pytest -m fuzz``, ``make fuzz``).

pyproject's addopts carry ``-m 'not fuzz'``, but any later ``-m`` replaces that expression (``-m redis``,
``-m "not slow"``), so an expression that does not name ``fuzz`` also leaves these tests out here.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the fuzz tests unless the ``-m`` expression names ``fuzz``."""
    if "fuzz" in (config.option.markexpr or ""):
        return
    fuzz = [item for item in items if item.get_closest_marker("fuzz") is not None]
    if fuzz:
        config.hook.pytest_deselected(items=fuzz)
        items[:] = [item for item in items if item.get_closest_marker("fuzz") is None]
