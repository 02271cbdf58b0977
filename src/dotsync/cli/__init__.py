"""The ``dotsync`` console script (also ``python -m dotsync``).

Each subcommand lives in its own module in this package and is registered in :func:`main`'s group.
Every reporting command takes ``--json``.
"""

from __future__ import annotations

import os

import click


def setup_django() -> None:
    """Configure Django with dotsync's standalone settings unless a host project already did."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dotsync")
def main() -> None:
    """Dotsync keeps your shop in sync with dotdigital."""


def _register() -> None:
    from dotsync.cli import commands

    for command in commands.ALL:
        main.add_command(command)


_register()
