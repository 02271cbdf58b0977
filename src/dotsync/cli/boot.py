"""Start Django for a CLI command: dotsync's standalone settings unless a host project set its own."""

from __future__ import annotations

import os

from dotsync.cli.exitcodes import ConfigProblem


def setup_django() -> None:
    """Configure Django with dotsync's standalone settings unless a host project already did.

    A malformed ``DATABASE_URL``, a missing database driver or an unusable ``DOTSYNC_VAR_DIR`` exits
    with :data:`~dotsync.cli.exitcodes.EXIT_CONFIG` and one line saying what to do.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")
    import django
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    if apps.ready:
        return
    try:
        django.setup()
        from django.db import connections

        connections["default"]  # loads the backend: a missing driver is reported now, not mid-command
    except ImproperlyConfigured as exc:
        text = " ".join(str(exc).split())
        if isinstance(exc.__cause__, ImportError):  # Django's backends raise "Error loading X" from it
            text = (
                f"DATABASE_URL needs a database driver that is not installed ({text}); install it in "
                "dotsync's environment, or point DATABASE_URL at another database"
            )
        raise ConfigProblem(text) from None
