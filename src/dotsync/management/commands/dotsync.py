"""``python manage.py dotsync <subcommand> [args]``: the ``dotsync`` console script inside a host shop.

The arguments go to the click group :func:`dotsync.cli.main.main` unchanged, so every subcommand, option,
``--help`` and exit code is the console script's. Django is already set up by ``manage.py`` with the
host's settings; :func:`dotsync.cli.boot.setup_django` then does nothing. Django's own global options
(``--settings``, ``--pythonpath``) are applied by Django and not passed on.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import click
from django.core.management.base import BaseCommand, CommandError, CommandParser

_DJANGO_OPTIONS = ("--settings", "--pythonpath")
"""Django's global options that take a value: ``manage.py`` handled them before this command runs."""


def dotsync_args(argv: list[str]) -> list[str]:
    """``argv`` (after ``manage.py dotsync``) without Django's global ``--settings``/``--pythonpath``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _DJANGO_OPTIONS:
            skip = True
        elif not arg.startswith(tuple(f"{option}=" for option in _DJANGO_OPTIONS)):
            out.append(arg)
    return out


class Command(BaseCommand):
    """Run a ``dotsync`` subcommand: ``manage.py dotsync status --json`` is ``dotsync status --json``."""

    help = "Run a dotsync subcommand, e.g. `dotsync status --json` (`dotsync --help` lists them)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Everything after ``dotsync`` belongs to the dotsync command (for :func:`call_command`)."""
        parser.add_argument("args", nargs=argparse.REMAINDER, help="A dotsync subcommand and its arguments.")

    def run_from_argv(self, argv: list[str]) -> None:
        """From ``manage.py``: hand the arguments to click, which prints, prompts and exits as the script."""
        from dotsync.cli.main import main

        name = os.path.basename(argv[0])
        prog = f"{'python -m django' if name == '__main__.py' else name} {argv[1]}"  # as Django names it
        main.main(args=dotsync_args(argv[2:]), prog_name=prog, standalone_mode=True)

    def handle(self, *args: str, **options: Any) -> None:
        """From :func:`~django.core.management.call_command`: run it, a click error as a CommandError.

        Output goes to ``sys.stdout`` (click's), not to ``call_command``'s ``stdout`` argument; a command
        that exits with ``SystemExit`` (``sync`` with its exit code) raises it to the caller.
        """
        from dotsync.cli.main import main

        try:
            code = main.main(args=list(args), prog_name="dotsync", standalone_mode=False)
        except click.ClickException as exc:
            raise CommandError(exc.format_message(), returncode=exc.exit_code) from exc
        except click.Abort as exc:
            raise CommandError("Aborted.") from exc
        if isinstance(code, int) and code:  # a ctx.exit(code) inside the command
            raise CommandError(f"dotsync exited with code {code}", returncode=code)
