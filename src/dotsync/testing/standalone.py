"""Configure Django in a separate process (benchmarks, kill tests) the way the test suite does.

Tables come from the models (``migrate --run-syncdb``) with migrations disabled, as pytest-django's
``--no-migrations`` does, so a child process gets a real file database in seconds instead of
running Oscar's ~150 migrations.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class _NoMigrations(dict):  # type: ignore[type-arg]
    """A ``MIGRATION_MODULES`` value that disables every app's migrations."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


def configure_without_migrations(database_url: str, *, var_dir: Path | None = None) -> None:
    """Point dotsync's settings at ``database_url`` with migrations disabled, then ``django.setup()``.

    Args:
        database_url: what ``DATABASE_URL`` would hold.
        var_dir: dotsync's var directory (archives, caches); ``DOTSYNC_VAR_DIR`` is set to it.
    """
    os.environ["DATABASE_URL"] = database_url
    if var_dir is not None:
        os.environ["DOTSYNC_VAR_DIR"] = str(var_dir)
    import django
    from django.conf import settings

    from dotsync import settings as base

    values: dict[str, Any] = {k: getattr(base, k) for k in dir(base) if k.isupper()}
    values["MIGRATION_MODULES"] = _NoMigrations()
    if var_dir is not None:
        values["VAR_DIR"] = var_dir
    settings.configure(**values)
    django.setup()
