"""The ``dotsync`` console script (also ``python -m dotsync``).

Each subcommand lives in its own module in this package and is registered in :func:`main`'s group.
Every reporting command takes ``--json``.
"""

from __future__ import annotations

import os

import click


def setup_django() -> None:
    """Configure Django with dotsync's standalone settings unless a host project already did.

    A malformed ``DATABASE_URL``, a missing database driver or an unusable ``DOTSYNC_VAR_DIR`` exits
    with :data:`~dotsync.cli.exitcodes.EXIT_CONFIG` and one line saying what to do.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")
    import django
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    from dotsync.cli.exitcodes import ConfigProblem

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dotsync")
def main() -> None:
    """Dotsync keeps your shop in sync with dotdigital."""


def _register() -> None:
    from dotsync.cli import commands

    for command in commands.ALL:
        main.add_command(command)


_register()
