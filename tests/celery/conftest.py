"""The Celery lane runs only when asked for by marker (``pytest -m celery``, ``.ci/run``'s Celery lane).

pyproject's addopts carry ``-m 'not fuzz and not celery'``, but any later ``-m`` replaces that expression
(``-m redis``, ``-m "not slow"``), so an expression that does not name ``celery`` also leaves it out here.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the Celery tests unless the ``-m`` expression names ``celery``."""
    if "celery" in (config.option.markexpr or ""):
        return
    lane = [item for item in items if item.get_closest_marker("celery") is not None]
    if lane:
        config.hook.pytest_deselected(items=lane)
        items[:] = [item for item in items if item.get_closest_marker("celery") is None]
